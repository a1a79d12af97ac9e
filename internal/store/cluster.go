package store

import (
	"context"
	"time"

	"github.com/pink-scheduler/pink/internal/cluster"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// CreateGroup stores a new group; ErrExists if the name is taken.
func (s *Store) CreateGroup(ctx context.Context, g cluster.Group) (err error) {
	defer s.track("group_create", time.Now(), &err)
	key := s.k.group(g.Name)
	resp, err := s.c.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(append([]clientv3.Op{clientv3.OpPut(key, encode(g))}, s.auditOps(ctx, nil)...)...).
		Commit()
	if err != nil {
		return wrap("create group", err)
	}
	if !resp.Succeeded {
		return ErrExists
	}
	return nil
}

// EnsureGroup creates the group if it does not exist yet.
func (s *Store) EnsureGroup(ctx context.Context, g cluster.Group) error {
	err := s.CreateGroup(ctx, g)
	if err == ErrExists {
		return nil
	}
	return err
}

// UpdateGroup replaces an existing group's description; ErrNotFound if it
// does not exist.
func (s *Store) UpdateGroup(ctx context.Context, g cluster.Group) (err error) {
	defer s.track("group_update", time.Now(), &err)
	key := s.k.group(g.Name)
	resp, err := s.c.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), ">", 0)).
		Then(append([]clientv3.Op{clientv3.OpPut(key, encode(g))}, s.auditOps(ctx, nil)...)...).
		Commit()
	if err != nil {
		return wrap("update group", err)
	}
	if !resp.Succeeded {
		return ErrNotFound
	}
	return nil
}

// DeleteGroup removes a group that no job uses: ErrGroupInUse otherwise,
// checked inside the transaction, so a job created meanwhile cannot be
// left without its group. Live clients of the group are not touched.
func (s *Store) DeleteGroup(ctx context.Context, name string) (err error) {
	defer s.track("group_delete", time.Now(), &err)
	key := s.k.group(name)
	resp, err := s.c.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), ">", 0),
			clientv3.Compare(clientv3.CreateRevision(s.k.groupJobs(name)), "=", 0).WithPrefix()).
		Then(append([]clientv3.Op{clientv3.OpDelete(key), clientv3.OpDelete(s.k.groupCounters(name))}, s.auditOps(ctx, nil)...)...).
		Else(clientv3.OpGet(key, clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return wrap("delete group", err)
	}
	if resp.Succeeded {
		return nil
	}
	if resp.Responses[0].GetResponseRange().Count == 0 {
		return ErrNotFound
	}
	return ErrGroupInUse
}

// GetGroup reads one group.
func (s *Store) GetGroup(ctx context.Context, name string) (g cluster.Group, err error) {
	defer s.track("group_get", time.Now(), &err)
	resp, err := s.c.Get(ctx, s.k.group(name))
	if err != nil {
		return g, wrap("get group", err)
	}
	if len(resp.Kvs) == 0 {
		return g, ErrNotFound
	}
	return g, decode(name, resp.Kvs[0].Value, &g)
}

// ListGroups returns all groups ordered by name.
func (s *Store) ListGroups(ctx context.Context) (gs []cluster.Group, err error) {
	defer s.track("group_list", time.Now(), &err)
	_, err = s.listPrefix(ctx, s.k.groupPrefix(), func(key string, v []byte, _, _ int64) error {
		var g cluster.Group
		if err := decode(key, v, &g); err != nil {
			return err
		}
		gs = append(gs, g)
		return nil
	})
	return gs, wrap("list groups", err)
}

// RegisterClient writes c under its group, bound to lease. It returns the
// registration's create revision, which the client's claims compare on.
func (s *Store) RegisterClient(ctx context.Context, lease clientv3.LeaseID, c cluster.Client) (rev int64, err error) {
	defer s.track("client_register", time.Now(), &err)
	// The client's start mark (started.go) is born with its first
	// registration and kept as it is by the later ones (draining).
	mark := s.k.started(c.Group, c.ID)
	resp, err := s.c.Txn(ctx).Then(
		clientv3.OpPut(s.k.client(c.Group, c.ID), encode(c), clientv3.WithLease(lease)),
		clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(mark), "=", 0)},
			[]clientv3.Op{clientv3.OpPut(mark, markValue(time.Time{}))}, nil),
	).Commit()
	if err != nil {
		return 0, wrap("register client", err)
	}
	return resp.Header.Revision, nil
}

// ListClients returns the live clients of group ("" for all groups).
func (s *Store) ListClients(ctx context.Context, group string) (cs []cluster.Client, err error) {
	defer s.track("client_list", time.Now(), &err)
	prefix := s.k.clientsPrefix()
	if group != "" {
		prefix = s.k.clientPrefix(group)
	}
	_, err = s.listPrefix(ctx, prefix, func(key string, v []byte, _, createRev int64) error {
		if _, _, ok := s.k.parseClient(key); !ok {
			return nil
		}
		c, err := DecodeClient(key, v, createRev)
		if err != nil {
			return err
		}
		cs = append(cs, c)
		return nil
	})
	return cs, wrap("list clients", err)
}

// DecodeClient decodes a client registration value.
func DecodeClient(key string, v []byte, createRev int64) (cluster.Client, error) {
	var c cluster.Client
	if err := decode(key, v, &c); err != nil {
		return c, err
	}
	c.CreateRevision = createRev
	return c, nil
}

// RegisterNode writes n bound to lease (the node's election session).
func (s *Store) RegisterNode(ctx context.Context, lease clientv3.LeaseID, n cluster.Node) (err error) {
	defer s.track("node_register", time.Now(), &err)
	_, err = s.c.Put(ctx, s.k.node(n.ID), encode(n), clientv3.WithLease(lease))
	return wrap("register node", err)
}

// ListNodes returns the live scheduler nodes and the id of the leader ("" if
// there is none right now).
func (s *Store) ListNodes(ctx context.Context) (nodes []cluster.Node, leader string, err error) {
	defer s.track("node_list", time.Now(), &err)
	_, err = s.listPrefix(ctx, s.k.nodePrefix(), func(key string, v []byte, _, _ int64) error {
		var n cluster.Node
		if err := decode(key, v, &n); err != nil {
			return err
		}
		nodes = append(nodes, n)
		return nil
	})
	if err != nil {
		return nil, "", wrap("list nodes", err)
	}
	leader, err = s.Leader(ctx)
	return nodes, leader, err
}

// Leader returns the node id that holds the election, or "".
func (s *Store) Leader(ctx context.Context) (id string, err error) {
	defer s.track("leader_get", time.Now(), &err)
	resp, err := s.c.Get(ctx, s.k.electionPrefix()+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return "", wrap("get leader", err)
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}

// EvictClient ends a client's registration by revoking its lease, as if the
// process had died: the leader then fails over its work. ErrNotFound if the
// client is not registered.
func (s *Store) EvictClient(ctx context.Context, group, id string) (err error) {
	defer s.track("client_evict", time.Now(), &err)
	resp, err := s.c.Get(ctx, s.k.client(group, id))
	if err != nil {
		return wrap("get client", err)
	}
	if len(resp.Kvs) == 0 {
		return ErrNotFound
	}
	if _, err = s.c.Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease)); err != nil {
		return wrap("revoke client lease", err)
	}
	if ops := s.auditOps(ctx, nil); len(ops) > 0 {
		_, err = s.c.Txn(ctx).Then(ops...).Commit()
	}
	return wrap("audit eviction", err)
}
