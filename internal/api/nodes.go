package api

import (
	"net/http"
)

// nodeView is a scheduler node and whether it leads.
type nodeView struct {
	ID        string  `json:"id"`
	Addr      string  `json:"addr"`
	URL       string  `json:"url,omitempty"`
	Version   string  `json:"version"`
	Host      string  `json:"host"`
	PID       int     `json:"pid"`
	StartedAt apiTime `json:"started_at"`
	Leader    bool    `json:"leader"`
}

func (s *Server) listNodes(r *http.Request) (int, any, error) {
	nodes, leader, err := s.st.ListNodes(r.Context())
	if err != nil {
		return 0, nil, err
	}
	views := make([]nodeView, 0, len(nodes))
	for _, n := range nodes {
		views = append(views, nodeView{ID: n.ID, Addr: n.Addr, URL: n.URL, Version: n.Version, Host: n.Host, PID: n.PID,
			StartedAt: apiTime(n.StartedAt), Leader: n.ID == leader})
	}
	return http.StatusOK, map[string]any{"nodes": views, "leader": leader}, nil
}
