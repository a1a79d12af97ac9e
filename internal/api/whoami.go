package api

import (
	"net/http"

	"github.com/pink-scheduler/pink/internal/auth"
)

// whoami is who the caller's token is and what it may do: the console
// shows only the controls the role allows (the API still checks each
// request), and a script can check its token before it acts.
type whoami struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// Authentication is false when the API runs without tokens (loopback
	// only): every caller is an anonymous admin.
	Authentication bool `json:"authentication"`
}

func (s *Server) whoami(r *http.Request) (int, any, error) {
	id := auth.IdentityFrom(r.Context())
	return http.StatusOK, whoami{Name: id.Name, Role: id.Role.String(), Authentication: s.auth != nil}, nil
}
