package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"sort"

	"github.com/gorilla/mux"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
)

// groupInput is the body of POST /api/v1/groups.
type groupInput struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// groupView is a group with its live client count.
type groupView struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	CreatedAt   apiTime `json:"created_at"`
	Clients     int     `json:"clients"`
}

func groupViewOf(g cluster.Group, clients int) groupView {
	return groupView{Name: g.Name, Description: g.Description, CreatedAt: apiTime(g.CreatedAt), Clients: clients}
}

// clientView is a live client (worker) as the API returns it.
type clientView struct {
	ID        string   `json:"id"`
	Group     string   `json:"group"`
	Host      string   `json:"host"`
	PID       int      `json:"pid"`
	Capacity  int      `json:"capacity"`
	Targets   []string `json:"targets"`
	Version   string   `json:"version"`
	Addr      string   `json:"addr,omitempty"`
	StartedAt apiTime  `json:"started_at"`
	// Via is the scheduler node that serves a remote (HTTP) worker.
	Via      string `json:"via,omitempty"`
	Draining bool   `json:"draining,omitempty"`
}

func clientViews(cs []cluster.Client) []clientView {
	out := make([]clientView, len(cs))
	for i, c := range cs {
		out[i] = clientView{ID: c.ID, Group: c.Group, Host: c.Host, PID: c.PID, Capacity: c.Capacity, Targets: c.Targets,
			Version: c.Version, Addr: c.Addr, StartedAt: apiTime(c.StartedAt), Via: c.Via, Draining: c.Draining}
	}
	return out
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
	g := cluster.Group{Name: in.Name, Description: in.Description, CreatedAt: s.stamp()}
	r = withTarget(r, g.Name)
	if err := s.st.CreateGroup(r.Context(), g); err != nil {
		return 0, nil, groupError(err)
	}
	s.log.Info("group created", "group", g.Name)
	return http.StatusCreated, groupViewOf(g, 0), nil
}

// listGroups lists groups by name, a page at a time, with their live client
// counts. Groups are few (one per pool of workers), so the store's list is
// read whole and cut into the page here.
func (s *Server) listGroups(r *http.Request) (int, any, error) {
	limit, cursor, err := pageQuery(r, listGroups, defaultPageLimit)
	if err != nil {
		return 0, nil, err
	}
	if cursor != "" && !job.ValidName(cursor) {
		return 0, nil, badCursor()
	}
	groups, err := s.st.ListGroups(r.Context())
	if err != nil {
		return 0, nil, err
	}
	// ListGroups is ordered by name: skip up to the cursor, keep a page.
	first := sort.Search(len(groups), func(i int) bool { return groups[i].Name > cursor })
	groups = groups[first:]
	next := ""
	if len(groups) > limit {
		groups, next = groups[:limit], groups[limit-1].Name
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
		views = append(views, groupViewOf(g, count[g.Name]))
	}
	items, nextCursor, err := boundedPage(listGroups, views, func(i int) string { return views[i].Name }, next)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"groups": items, "next_cursor": nextCursor}, nil
}

// pathGroup reads the group named in the path and its live clients.
func (s *Server) pathGroup(r *http.Request) (cluster.Group, []cluster.Client, error) {
	name, err := pathName(r, "group")
	if err != nil {
		return cluster.Group{}, nil, err
	}
	g, err := s.st.GetGroup(r.Context(), name)
	if err != nil {
		return g, nil, groupError(err)
	}
	clients, err := s.st.ListClients(r.Context(), name)
	if clients == nil {
		clients = []cluster.Client{}
	}
	return g, clients, err
}

func (s *Server) getGroup(r *http.Request) (int, any, error) {
	g, clients, err := s.pathGroup(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, groupViewOf(g, len(clients)), nil
}

func (s *Server) listClients(r *http.Request) (int, any, error) {
	_, clients, err := s.pathGroup(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"clients": clientViews(clients)}, nil
}

// groupUpdate is the body of PUT /api/v1/groups/{group}.
type groupUpdate struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Accepted so that a group read from the API can be sent back.
	CreatedAt json.RawMessage `json:"created_at"`
	Clients   json.RawMessage `json:"clients"`
}

func (s *Server) updateGroup(r *http.Request) (int, any, error) {
	name, err := pathName(r, "group")
	if err != nil {
		return 0, nil, err
	}
	var in groupUpdate
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Name != "" && in.Name != name {
		return 0, nil, &Error{Status: http.StatusBadRequest, Code: "name_mismatch", Field: "name", Message: "a group cannot be renamed"}
	}
	if len(in.Description) > job.MaxDescriptionBytes {
		return 0, nil, &Error{Status: http.StatusBadRequest, Code: job.CodeInvalidField, Field: "description", Message: "description longer than 1024 bytes"}
	}
	g, err := s.st.GetGroup(r.Context(), name)
	if err != nil {
		return 0, nil, groupError(err)
	}
	g.Description = in.Description
	if err := s.st.UpdateGroup(r.Context(), g); err != nil {
		return 0, nil, groupError(err)
	}
	return http.StatusOK, groupViewOf(g, 0), nil
}

// deleteGroup removes a group no job uses.
func (s *Server) deleteGroup(r *http.Request) (int, any, error) {
	name, err := pathName(r, "group")
	if err != nil {
		return 0, nil, err
	}
	err = s.st.DeleteGroup(r.Context(), name)
	if errors.Is(err, store.ErrGroupInUse) {
		return 0, nil, errorf(http.StatusConflict, "group_not_empty", "jobs use this group: delete them or move them to another group first")
	}
	if err != nil {
		return 0, nil, groupError(err)
	}
	s.log.Info("group deleted", "group", name)
	return http.StatusOK, map[string]any{"name": name, "deleted": true}, nil
}

var clientPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// evictClient ends a client's registration as if it had died: its work
// fails over. For a worker that hangs without dying.
func (s *Server) evictClient(r *http.Request) (int, any, error) {
	group, err := pathName(r, "group")
	if err != nil {
		return 0, nil, err
	}
	id := mux.Vars(r)["client"]
	if !clientPattern.MatchString(id) {
		return 0, nil, &Error{Status: http.StatusBadRequest, Code: "invalid_id", Field: "client", Message: "not a client id"}
	}
	if err := s.st.EvictClient(r.Context(), group, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, errorf(http.StatusNotFound, "client_not_found", "no such live client in this group")
		}
		return 0, nil, err
	}
	s.log.Info("client evicted", "group", group, "client", id)
	return http.StatusOK, map[string]any{"group": group, "client": id, "evicted": true}, nil
}
