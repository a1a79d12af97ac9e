package api

import (
	"net/http"

	"github.com/pink-scheduler/pink/internal/cluster"
)

// nodeView is a scheduler node and whether it leads.
type nodeView struct {
	cluster.Node
	Leader bool `json:"leader"`
}

func (s *Server) listNodes(r *http.Request) (int, any, error) {
	nodes, leader, err := s.st.ListNodes(r.Context())
	if err != nil {
		return 0, nil, err
	}
	views := make([]nodeView, 0, len(nodes))
	for _, n := range nodes {
		views = append(views, nodeView{Node: n, Leader: n.ID == leader})
	}
	return http.StatusOK, map[string]any{"nodes": views, "leader": leader}, nil
}
