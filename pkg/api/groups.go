package api

import (
	"errors"
	"net/http"

	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/store"
)

// groupInput is the body of POST /api/v1/groups.
type groupInput struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// groupView is a group with its live client count.
type groupView struct {
	store.Group
	Clients int `json:"clients"`
}

func groupError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "group_not_found", "no such group")
	case errors.Is(err, store.ErrExists):
		return errorf(http.StatusConflict, "group_exists", "a group with this name exists")
	}
	return err
}

func (s *Server) createGroup(r *http.Request) (int, any, error) {
	var in groupInput
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	if err := job.CheckName("name", in.Name); err != nil {
		return 0, nil, err
	}
	if len(in.Description) > job.MaxDescriptionBytes {
		return 0, nil, &Error{Status: http.StatusBadRequest, Code: job.CodeInvalidField, Field: "description", Message: "description longer than 1024 bytes"}
	}
	g := store.Group{Name: in.Name, Description: in.Description, CreatedAt: s.stamp()}
	if err := s.st.CreateGroup(r.Context(), g); err != nil {
		return 0, nil, groupError(err)
	}
	s.log.Info("group created", "group", g.Name)
	return http.StatusCreated, groupView{Group: g}, nil
}

func (s *Server) listGroups(r *http.Request) (int, any, error) {
	groups, err := s.st.ListGroups(r.Context())
	if err != nil {
		return 0, nil, err
	}
	clients, err := s.st.ListClients(r.Context(), "")
	if err != nil {
		return 0, nil, err
	}
	count := map[string]int{}
	for _, c := range clients {
		count[c.Group]++
	}
	views := make([]groupView, 0, len(groups))
	for _, g := range groups {
		views = append(views, groupView{Group: g, Clients: count[g.Name]})
	}
	return http.StatusOK, map[string]any{"groups": views}, nil
}

// pathGroup reads the group named in the path and its live clients.
func (s *Server) pathGroup(r *http.Request) (store.Group, []store.Client, error) {
	name, err := pathName(r, "group")
	if err != nil {
		return store.Group{}, nil, err
	}
	g, err := s.st.GetGroup(r.Context(), name)
	if err != nil {
		return g, nil, groupError(err)
	}
	clients, err := s.st.ListClients(r.Context(), name)
	if clients == nil {
		clients = []store.Client{}
	}
	return g, clients, err
}

func (s *Server) getGroup(r *http.Request) (int, any, error) {
	g, clients, err := s.pathGroup(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, groupView{Group: g, Clients: len(clients)}, nil
}

func (s *Server) listClients(r *http.Request) (int, any, error) {
	_, clients, err := s.pathGroup(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"clients": clients}, nil
}
