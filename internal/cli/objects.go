package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pink-scheduler/pink/internal/audit"
	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/pkg/client"
)

// The commands of groups, snapshots, nodes and the audit log.

// GroupsList prints the groups.
func (e Env) GroupsList(ctx context.Context) error {
	var groups []client.Group
	raw, err := e.list(ctx, "/api/v1/groups", nil, "groups", &groups)
	if err != nil {
		return err
	}
	return e.show(raw, func() table {
		t := table{header: []string{"NAME", "CLIENTS", "DESCRIPTION"}}
		for _, g := range groups {
			t.add("group/"+g.Name, g.Name, fmt.Sprint(g.Clients), orDash(cut(g.Description, 60)))
		}
		return t
	})
}

// GroupGet prints a group and its live clients.
func (e Env) GroupGet(ctx context.Context, name string) error {
	var out struct {
		Group struct {
			Name        string    `json:"name"`
			Description string    `json:"description"`
			CreatedAt   time.Time `json:"created_at"`
			Clients     int       `json:"clients"`
		} `json:"group"`
		Clients []cluster.Client `json:"clients"`
	}
	group, err := e.get(ctx, "/api/v1/groups/"+esc(name), &out.Group)
	if err != nil {
		return err
	}
	clients, err := e.get(ctx, "/api/v1/groups/"+esc(name)+"/clients", &out)
	if err != nil {
		return err
	}
	var cl struct {
		Clients json.RawMessage `json:"clients"`
	}
	_ = json.Unmarshal(clients, &cl)
	raw := map[string]json.RawMessage{"group": group, "clients": cl.Clients}
	return e.show(raw, func() table {
		t := table{header: []string{"CLIENT", "HOST", "CAPACITY", "TARGETS", "AGE"}, wide: []string{"PID", "VERSION", "ADDR", "DRAINING"}}
		now := time.Now()
		for _, c := range out.Clients {
			t.add("client/"+c.ID, c.ID, c.Host, fmt.Sprint(c.Capacity), orDash(strings.Join(c.Targets, ",")), age(c.StartedAt, now),
				fmt.Sprint(c.PID), c.Version, orDash(c.Addr), fmt.Sprint(c.Draining))
		}
		if len(t.rows) == 0 {
			t.rows = [][]string{{"(no live client: fires of this group wait as pending)"}}
		}
		return t
	})
}

// GroupCreate creates a group.
func (e Env) GroupCreate(ctx context.Context, name, description string) error {
	if err := e.Client.CreateGroup(ctx, name, description, e.Reason); err != nil {
		return err
	}
	return e.done(map[string]any{"name": name, "created": true}, "group/"+name, "created group %s", name)
}

// GroupDelete deletes a group.
func (e Env) GroupDelete(ctx context.Context, name string) error {
	if err := e.Client.Do(ctx, http.MethodDelete, "/api/v1/groups/"+esc(name), nil, nil, e.reason()); err != nil {
		return err
	}
	return e.done(map[string]any{"name": name, "deleted": true}, "group/"+name, "deleted group %s", name)
}

// snapshotsTable is the table of live snapshots, with why a pending one
// waits.
func snapshotsTable(snaps []client.Snapshot, now time.Time) table {
	t := table{header: []string{"ID", "JOB", "STATE", "TRIGGER", "ATTEMPT", "SCHEDULED", "CLIENT", "REASON"},
		wide: []string{"GROUP", "TARGET", "SCHEDULED AT"}}
	for _, s := range snaps {
		t.add("snapshot/"+s.ID, s.ID, s.Job, string(s.State), string(s.Trigger), fmt.Sprint(s.Attempt), ago(s.ScheduledAt, now), orDash(s.Client),
			orDash(s.PendingReason), s.Group, s.Target, ts(s.ScheduledAt))
	}
	return t
}

// SnapshotsList prints the live snapshots.
func (e Env) SnapshotsList(ctx context.Context, group, jobName string) error {
	var snaps []client.Snapshot
	raw, err := e.list(ctx, "/api/v1/snapshots", query("group", group, "job", jobName), "snapshots", &snaps)
	if err != nil {
		return err
	}
	return e.show(raw, func() table { return snapshotsTable(snaps, time.Now()) })
}

// SnapshotGet prints one live snapshot.
func (e Env) SnapshotGet(ctx context.Context, id string) error {
	var s client.Snapshot
	raw, err := e.get(ctx, "/api/v1/snapshots/"+esc(id), &s)
	if err != nil {
		return err
	}
	return e.show(raw, func() table { return snapshotsTable([]client.Snapshot{s}, time.Now()) })
}

// SnapshotCancel cancels a snapshot that has not started.
func (e Env) SnapshotCancel(ctx context.Context, id string) error {
	if err := e.Client.Do(ctx, http.MethodDelete, "/api/v1/snapshots/"+esc(id), nil, nil, e.reason()); err != nil {
		return err
	}
	return e.done(map[string]any{"id": id, "status": "canceled"}, "snapshot/"+id, "canceled snapshot %s", id)
}

// NodesList prints the scheduler nodes.
func (e Env) NodesList(ctx context.Context) error {
	var out struct {
		Nodes []struct {
			cluster.Node
			Leader bool `json:"leader"`
		} `json:"nodes"`
		Leader string `json:"leader"`
	}
	raw, err := e.get(ctx, "/api/v1/nodes", &out)
	if err != nil {
		return err
	}
	return e.show(raw, func() table {
		t := table{header: []string{"ID", "LEADER", "ADDR", "VERSION", "AGE"}, wide: []string{"HOST", "PID", "STARTED"}}
		now := time.Now()
		for _, n := range out.Nodes {
			t.add("node/"+n.ID, n.ID, fmt.Sprint(n.Leader), n.Addr, n.Version, age(n.StartedAt, now), n.Host, fmt.Sprint(n.PID), ts(n.StartedAt))
		}
		return t
	})
}

// AuditList prints the audit log, newest first.
func (e Env) AuditList(ctx context.Context, limit int) error {
	if limit < 1 || limit > 1000 {
		return fmt.Errorf("%w: --limit must be 1-1000", ErrUsage)
	}
	var out struct {
		Entries []audit.Entry `json:"entries"`
	}
	raw, err := e.get(ctx, fmt.Sprintf("/api/v1/audit?limit=%d", limit), &out)
	if err != nil {
		return err
	}
	return e.show(raw, func() table {
		t := table{header: []string{"AGE", "WHO", "ACTION", "TARGET", "REASON"}, wide: []string{"AT", "ROLE", "ID"}}
		now := time.Now()
		for _, a := range out.Entries {
			t.add("audit/"+a.ID, age(a.At, now), a.Who, a.Action, a.Target, orDash(cut(a.Reason, 60)), ts(a.At), a.Role, a.ID)
		}
		return t
	})
}
