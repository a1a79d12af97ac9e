package store

import (
	"context"
	"time"

	"github.com/pink-scheduler/pink/internal/cluster"
)

// Route is where a remote worker's requests go: the scheduler node that
// holds its registration (cluster.Client.Via) and that node's API.
type Route struct {
	Group  string
	NodeID string
	URL    string
}

// RemoteRoute finds the node that holds remote worker id's live
// registration, in group or, when group is "", in any group. ok is false
// when no live registration of that id names a node with a URL: the
// worker is gone (its lease ended), is not a remote worker, or its node
// registered no URL.
func (s *Store) RemoteRoute(ctx context.Context, group, id string) (r Route, ok bool, err error) {
	defer s.track("remote_route", time.Now(), &err)
	c, found, err := s.findClient(ctx, group, id)
	if err != nil || !found || c.Via == "" {
		return Route{}, false, err
	}
	resp, err := s.c.Get(ctx, s.k.node(c.Via))
	if err != nil {
		return Route{}, false, wrap("get node", err)
	}
	if len(resp.Kvs) == 0 {
		return Route{}, false, nil
	}
	var n cluster.Node
	if err := decode(string(resp.Kvs[0].Key), resp.Kvs[0].Value, &n); err != nil {
		return Route{}, false, err
	}
	if n.URL == "" {
		return Route{}, false, nil
	}
	return Route{Group: c.Group, NodeID: n.ID, URL: n.URL}, true, nil
}

// findClient reads client id's registration in group, or looks for it in
// every group when group is "" (a run's result names its worker, not the
// worker's group).
func (s *Store) findClient(ctx context.Context, group, id string) (cluster.Client, bool, error) {
	if group != "" {
		key := s.k.client(group, id)
		resp, err := s.c.Get(ctx, key)
		if err != nil {
			return cluster.Client{}, false, wrap("get client", err)
		}
		if len(resp.Kvs) == 0 {
			return cluster.Client{}, false, nil
		}
		c, err := DecodeClient(key, resp.Kvs[0].Value, resp.Kvs[0].CreateRevision)
		return c, err == nil, err
	}
	all, err := s.ListClients(ctx, "")
	if err != nil {
		return cluster.Client{}, false, err
	}
	for _, c := range all {
		if c.ID == id {
			return c, true, nil
		}
	}
	return cluster.Client{}, false, nil
}
