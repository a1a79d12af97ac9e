package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// jobIn returns a job body of the given name and group.
func jobIn(name, group string) string {
	return fmt.Sprintf(`{"name":%q,"group":%q,"schedule":"@hourly","target":"noop"}`, name, group)
}

// listPage is one page of any list route.
type listPage struct {
	items []map[string]any
	next  string
}

func getPage(t *testing.T, a *pinktest.API, path, key string) listPage {
	t.Helper()
	var raw map[string]json.RawMessage
	a.JSON(t, "GET", path, nil, http.StatusOK, &raw)
	var p listPage
	if err := json.Unmarshal(raw[key], &p.items); err != nil {
		t.Fatalf("GET %s: %s: %v", path, key, err)
	}
	if _, ok := raw["next_cursor"]; !ok {
		t.Fatalf("GET %s: no next_cursor in the answer", path)
	}
	if err := json.Unmarshal(raw["next_cursor"], &p.next); err != nil {
		t.Fatalf("GET %s: next_cursor: %v", path, err)
	}
	return p
}

// pageThrough reads every page of path (which has a query already) with
// ?limit=limit, following next_cursor, and returns the field idKey of each
// item in order and the size of every page.
func pageThrough(t *testing.T, a *pinktest.API, path, key, idKey string, limit int) (ids []string, sizes []int) {
	t.Helper()
	cursor := ""
	for range 100 {
		p := path + fmt.Sprintf("&limit=%d", limit)
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		page := getPage(t, a, p, key)
		sizes = append(sizes, len(page.items))
		for _, it := range page.items {
			ids = append(ids, fmt.Sprint(it[idKey]))
		}
		if page.next == "" {
			return ids, sizes
		}
		cursor = page.next
	}
	t.Fatalf("%s: more than 100 pages", path)
	return nil, nil
}

// registerClient registers a live client of group under its own lease and
// returns it (with its registration revision) and the lease.
func registerClient(t *testing.T, cli *clientv3.Client, st *store.Store, group, id string) (cluster.Client, clientv3.LeaseID) {
	t.Helper()
	return registerRunning(t, cli, st, group, id, "noop")
}

// registerRunning registers a live client of group that runs targets.
func registerRunning(t *testing.T, cli *clientv3.Client, st *store.Store, group, id string, targets ...string) (cluster.Client, clientv3.LeaseID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lease, err := cli.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	c := cluster.Client{ID: id, Group: group, Capacity: 4, Targets: targets}
	if c.CreateRevision, err = st.RegisterClient(ctx, lease.ID, c); err != nil {
		t.Fatal(err)
	}
	return c, lease.ID
}

// leaderFence makes this test the scheduler leader, so it can move
// snapshots the way the leader does.
func leaderFence(t *testing.T, cli *clientv3.Client, st *store.Store) store.Fence {
	t.Helper()
	_, key, rev := pinktest.Campaign(t, cli, st.ElectionPrefix(), "test-leader")
	return store.Fence{Key: key, Rev: rev}
}

// dispatch assigns the pending snapshot id to client c as the leader does,
// and with claim also marks it running as c's worker does.
func dispatch(t *testing.T, st *store.Store, fence store.Fence, c cluster.Client, id string, claim bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := st.GetLive(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Move(ctx, fence, l, nil, &store.Placement{Snapshot: l.Snapshot, Client: &c}, now)
	if err != nil || res.Outcome != store.Moved {
		t.Fatalf("dispatch %s: %v %v", id, res.Outcome, err)
	}
	if !claim {
		return
	}
	if l, err = st.GetLive(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Claim(ctx, c, l, now); err != nil {
		t.Fatalf("claim %s: %v", id, err)
	}
}

func trigger(t *testing.T, a *pinktest.API, jobName string) string {
	t.Helper()
	var trig struct {
		SnapshotID string `json:"snapshot_id"`
	}
	a.JSON(t, "POST", "/api/v1/jobs/"+jobName+"/trigger", nil, http.StatusAccepted, &trig)
	return trig.SnapshotID
}

// listFixture: groups default, other, spare; jobs a1..a5 in default and b1,
// b2 in other; one pending snapshot per job, of which a2's and b1's are
// dispatched to clients (so lists cross from pending to assigned).
type listFixture struct {
	*env
	snaps map[string]string // job -> snapshot id
}

func startLists(t *testing.T) listFixture {
	t.Helper()
	e := start(t)
	for _, g := range []string{"default", "other", "spare"} {
		e.api.JSON(t, "POST", "/api/v1/groups", fmt.Sprintf(`{"name":%q}`, g), http.StatusCreated, nil)
	}
	f := listFixture{env: e, snaps: map[string]string{}}
	// Created out of name order: lists are by name, not by creation.
	for _, j := range []struct{ name, group string }{{"a3", "default"}, {"b2", "other"}, {"a1", "default"},
		{"a5", "default"}, {"b1", "other"}, {"a2", "default"}, {"a4", "default"}} {
		e.api.JSON(t, "POST", "/api/v1/jobs", jobIn(j.name, j.group), http.StatusCreated, nil)
		f.snaps[j.name] = trigger(t, e.api, j.name)
	}
	fence := leaderFence(t, e.etcd.Client, e.st)
	wd, _ := registerClient(t, e.etcd.Client, e.st, "default", "w-default")
	wo, _ := registerClient(t, e.etcd.Client, e.st, "other", "w-other")
	dispatch(t, e.st, fence, wd, f.snaps["a2"], false)
	dispatch(t, e.st, fence, wo, f.snaps["b1"], false)
	return f
}

// TestListPaging: jobs, groups and snapshots page with limit and cursor:
// following next_cursor returns every item exactly once, in the order of
// the unpaged list, and the last page says there is no next one.
func TestListPaging(t *testing.T) {
	f := startLists(t)
	s := f.snaps
	tests := []struct {
		name, path, key, idKey string
		want                   []string
	}{
		{"jobs", "/api/v1/jobs?", "jobs", "name", []string{"a1", "a2", "a3", "a4", "a5", "b1", "b2"}},
		{"jobs of a group", "/api/v1/jobs?group=other", "jobs", "name", []string{"b1", "b2"}},
		{"jobs of a group with more than a page", "/api/v1/jobs?group=default", "jobs", "name", []string{"a1", "a2", "a3", "a4", "a5"}},
		{"jobs of an empty group", "/api/v1/jobs?group=spare", "jobs", "name", nil},
		{"groups", "/api/v1/groups?", "groups", "name", []string{"default", "other", "spare"}},
		// Pending ones by id, then assigned ones by group and client.
		{"snapshots", "/api/v1/snapshots?", "snapshots", "id", []string{s["a1"], s["a3"], s["a4"], s["a5"], s["b2"], s["a2"], s["b1"]}},
		{"snapshots of a group", "/api/v1/snapshots?group=default", "snapshots", "id", []string{s["a1"], s["a3"], s["a4"], s["a5"], s["a2"]}},
		{"snapshots of a job", "/api/v1/snapshots?job=a2", "snapshots", "id", []string{s["a2"]}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, limit := range []int{1, 2, 3, 1000} {
				got, sizes := pageThrough(t, f.api, tc.path, tc.key, tc.idKey, limit)
				if strings.Join(got, " ") != strings.Join(tc.want, " ") {
					t.Errorf("limit %d: got %v, want %v", limit, got, tc.want)
				}
				// Every page but the last is full; the last is not empty
				// unless the whole list is.
				for i, n := range sizes {
					last := i == len(sizes)-1
					if (!last && n != limit) || (last && (n > limit || (n == 0 && len(tc.want) > 0))) {
						t.Errorf("limit %d: page sizes %v", limit, sizes)
						break
					}
				}
			}
			// Without a limit the default page holds all of them.
			p := getPage(t, f.api, tc.path, tc.key)
			if len(p.items) != len(tc.want) || p.next != "" {
				t.Errorf("default page: %d items, next_cursor %q; want %d and none", len(p.items), p.next, len(tc.want))
			}
		})
	}
}

// TestListDefaultPageSize: without ?limit= a list answers 100 items and a
// cursor to the rest.
func TestListDefaultPageSize(t *testing.T) {
	e := start(t)
	var names []string
	for i := range 101 {
		names = append(names, fmt.Sprintf("g%03d", i))
		e.api.JSON(t, "POST", "/api/v1/groups", fmt.Sprintf(`{"name":"g%03d"}`, i), http.StatusCreated, nil)
	}
	p := getPage(t, e.api, "/api/v1/groups", "groups")
	if len(p.items) != 100 || p.next == "" || p.items[99]["name"] != "g099" {
		t.Fatalf("first page: %d groups, next_cursor %q; want 100 up to g099, and a cursor", len(p.items), p.next)
	}
	p = getPage(t, e.api, "/api/v1/groups?cursor="+p.next, "groups")
	if len(p.items) != 1 || p.items[0]["name"] != "g100" || p.next != "" {
		t.Errorf("second page: %v, next_cursor %q", p.items, p.next)
	}
	got, _ := pageThrough(t, e.api, "/api/v1/groups?", "groups", "name", 1000)
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("limit 1000: %d groups", len(got))
	}
}

// TestListBadPaging: a bad limit or cursor on any list is a 400 naming the
// parameter, and nothing is written.
func TestListBadPaging(t *testing.T) {
	e := start(t)
	e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, http.StatusCreated, nil)
	e.api.JSON(t, "POST", "/api/v1/jobs", jobIn("a1", "default"), http.StatusCreated, nil)
	lists := []string{"/api/v1/jobs?", "/api/v1/jobs?group=default&", "/api/v1/groups?", "/api/v1/snapshots?",
		"/api/v1/runs?job=a1&", "/api/v1/audit?"}
	params := []struct{ query, field string }{
		{"limit=0", "limit"},
		{"limit=-1", "limit"},
		{"limit=1001", "limit"},
		{"limit=ten", "limit"},
		{"limit=1.5", "limit"},
		{"limit=", ""}, // empty means the default
		{"cursor=..%2Fx", "cursor"},
		{"cursor=" + strings.Repeat("a", 600), "cursor"},
		{"cursor=%00", "cursor"},
	}
	for _, list := range lists {
		for _, p := range params {
			path := list + p.query
			t.Run(path, func(t *testing.T) {
				before := e.etcd.Revision(t)
				if p.field == "" {
					e.api.JSON(t, "GET", path, nil, http.StatusOK, nil)
					return
				}
				var er struct {
					Error struct{ Code, Field, Message string }
				}
				e.api.JSON(t, "GET", path, nil, http.StatusBadRequest, &er)
				code := "invalid_parameter"
				if p.field == "cursor" {
					code = "invalid_cursor"
				}
				if er.Error.Code != code || er.Error.Field != p.field || er.Error.Message == "" {
					t.Errorf("error %+v, want %s on %s", er.Error, code, p.field)
				}
				if after := e.etcd.Revision(t); after != before {
					t.Errorf("a refused list wrote: revision %d -> %d", before, after)
				}
			})
		}
	}
	// A well-formed snapshot cursor that no page made is refused too.
	var er struct{ Error struct{ Code, Field string } }
	e.api.JSON(t, "GET", "/api/v1/snapshots?cursor=bm9wZQ", nil, http.StatusBadRequest, &er)
	if er.Error.Field != "cursor" {
		t.Errorf("forged snapshot cursor: %+v", er.Error)
	}
	// Cursors are verified: a bare name, another list's cursor, a cursor
	// with a flipped byte, and garbage are all refused.
	e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"other"}`, http.StatusCreated, nil)
	groups := getPage(t, e.api, "/api/v1/groups?limit=1", "groups")
	e.api.JSON(t, "POST", "/api/v1/jobs", jobIn("a2", "default"), http.StatusCreated, nil)
	p := getPage(t, e.api, "/api/v1/jobs?limit=1", "jobs")
	if p.next == "" {
		t.Fatal("no cursor after the first of two jobs")
	}
	flipped := []byte(p.next)
	flipped[len(flipped)/2] ^= 1
	for _, c := range []string{"zzzz", "a1", "x@y", "20991231T000000.000000000Z-00000000", groups.next, string(flipped)} {
		for _, list := range []string{"/api/v1/jobs?", "/api/v1/audit?", "/api/v1/runs?job=a1&"} {
			e.api.JSON(t, "GET", list+"cursor="+url.QueryEscape(c), nil, http.StatusBadRequest, &er)
			if er.Error.Code != "invalid_cursor" {
				t.Errorf("%scursor=%s: %+v, want invalid_cursor", list, c, er.Error)
			}
		}
	}
	next := getPage(t, e.api, "/api/v1/jobs?limit=1&cursor="+url.QueryEscape(p.next), "jobs")
	if len(next.items) != 1 || next.items[0]["name"] != "a2" {
		t.Errorf("the real cursor: %v", next.items)
	}
}

// TestRunsPaging: runs page newest first through next_cursor, each exactly
// once, also with a status filter.
func TestRunsPaging(t *testing.T) {
	e := start(t)
	e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, http.StatusCreated, nil)
	e.api.JSON(t, "POST", "/api/v1/jobs", jobIn("a1", "default"), http.StatusCreated, nil)
	// Five canceled runs: trigger, then cancel before any worker takes it.
	for range 5 {
		id := trigger(t, e.api, "a1")
		e.api.JSON(t, "DELETE", "/api/v1/snapshots/"+id, nil, http.StatusOK, nil)
	}
	all := getPage(t, e.api, "/api/v1/runs?job=a1", "runs")
	if len(all.items) != 5 || all.next != "" {
		t.Fatalf("unpaged: %d runs, next_cursor %q", len(all.items), all.next)
	}
	var want []string
	for i, r := range all.items {
		want = append(want, fmt.Sprint(r["id"]))
		if i > 0 && want[i] >= want[i-1] {
			t.Errorf("runs not newest (highest id) first: %v", want)
		}
	}
	for _, path := range []string{"/api/v1/runs?job=a1", "/api/v1/runs?job=a1&status=canceled"} {
		for _, limit := range []int{1, 2, 4, 5} {
			got, sizes := pageThrough(t, e.api, path, "runs", "id", limit)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s limit %d: %v, want %v", path, limit, got, want)
			}
			if sizes[len(sizes)-1] == 0 {
				// A page that ends exactly at the last run says so: no
				// empty trailing page.
				t.Errorf("%s limit %d: empty last page (%v)", path, limit, sizes)
			}
		}
	}
	p := getPage(t, e.api, "/api/v1/runs?job=a1&status=failed&limit=2", "runs")
	if len(p.items) != 0 || p.next != "" {
		t.Errorf("no failed runs: %v %q", p.items, p.next)
	}
}

// TestAuditPaging: the audit log takes limit 1 to 1000 and pages newest
// first through next_cursor.
func TestAuditPaging(t *testing.T) {
	e := start(t)
	for i := range 5 {
		e.api.JSON(t, "POST", "/api/v1/groups", fmt.Sprintf(`{"name":"g%d"}`, i), http.StatusCreated, nil)
	}
	var want []string
	for i := 4; i >= 0; i-- {
		want = append(want, fmt.Sprintf("g%d", i))
	}
	for _, limit := range []int{1, 2, 5, 1000} {
		got, _ := pageThrough(t, e.api, "/api/v1/audit?", "entries", "target", limit)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("limit %d: targets %v, want %v", limit, got, want)
		}
	}
	for _, limit := range []string{"0", "1001"} {
		var er struct{ Error struct{ Code, Field string } }
		e.api.JSON(t, "GET", "/api/v1/audit?limit="+limit, nil, http.StatusBadRequest, &er)
		if er.Error.Code != "invalid_parameter" || er.Error.Field != "limit" {
			t.Errorf("limit=%s: %+v", limit, er.Error)
		}
	}
	p := getPage(t, e.api, "/api/v1/audit", "entries")
	if len(p.items) != 5 {
		t.Errorf("default page: %d entries", len(p.items))
	}
}

// TestGroupClientCounts: group lists and reads count the live clients of
// each group; a client that leaves (its lease ends) stops counting.
func TestGroupClientCounts(t *testing.T) {
	e := start(t)
	for _, g := range []string{"default", "other", "spare"} {
		e.api.JSON(t, "POST", "/api/v1/groups", fmt.Sprintf(`{"name":%q}`, g), http.StatusCreated, nil)
	}
	_, leaving := registerClient(t, e.etcd.Client, e.st, "default", "w-1")
	registerClient(t, e.etcd.Client, e.st, "default", "w-2")
	registerClient(t, e.etcd.Client, e.st, "other", "w-3")
	counts := func() string {
		var list struct {
			Groups []struct {
				Name    string
				Clients int
			}
		}
		e.api.JSON(t, "GET", "/api/v1/groups", nil, http.StatusOK, &list)
		var out []string
		for _, g := range list.Groups {
			out = append(out, fmt.Sprintf("%s=%d", g.Name, g.Clients))
		}
		var one struct{ Clients int }
		e.api.JSON(t, "GET", "/api/v1/groups/default", nil, http.StatusOK, &one)
		var clients struct{ Clients []struct{ ID string } }
		e.api.JSON(t, "GET", "/api/v1/groups/default/clients", nil, http.StatusOK, &clients)
		var ids []string
		for _, c := range clients.Clients {
			ids = append(ids, c.ID)
		}
		return fmt.Sprintf("%s; default=%d %v", strings.Join(out, " "), one.Clients, ids)
	}
	if got, want := counts(), "default=2 other=1 spare=0; default=2 [w-1 w-2]"; got != want {
		t.Errorf("with three clients: %s, want %s", got, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.etcd.Client.Revoke(ctx, leaving); err != nil {
		t.Fatal(err)
	}
	if got, want := counts(), "default=1 other=1 spare=0; default=1 [w-2]"; got != want {
		t.Errorf("after w-1 left: %s, want %s", got, want)
	}
}

// TestSnapshotFilters: ?group= and ?job= keep only the matching pending and
// assigned snapshots; a bad filter is a 400.
func TestSnapshotFilters(t *testing.T) {
	f := startLists(t)
	s := f.snaps
	ids := func(path string) string {
		p := getPage(t, f.api, path, "snapshots")
		var out []string
		for _, it := range p.items {
			out = append(out, fmt.Sprintf("%s/%s/%s", it["group"], it["id"], it["state"]))
		}
		return strings.Join(out, " ")
	}
	tests := []struct{ path, want string }{
		{"/api/v1/snapshots?group=other", "other/" + s["b2"] + "/pending other/" + s["b1"] + "/dispatched"},
		{"/api/v1/snapshots?group=spare", ""},
		{"/api/v1/snapshots?group=default&job=a2", "default/" + s["a2"] + "/dispatched"},
		{"/api/v1/snapshots?group=other&job=a2", ""},
		{"/api/v1/snapshots?group=nosuch", ""},
	}
	for _, tc := range tests {
		if got := ids(tc.path); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.path, got, tc.want)
		}
	}
	var er struct{ Error struct{ Code, Field string } }
	f.api.JSON(t, "GET", "/api/v1/snapshots?group=Bad/Group", nil, http.StatusBadRequest, &er)
	if er.Error.Code != "invalid_name" || er.Error.Field != "group" {
		t.Errorf("bad group filter: %+v", er.Error)
	}
}

// TestDeleteRunningSnapshot: a running snapshot cannot be canceled (409
// snapshot_running, nothing changes); a dispatched one that has not started
// can.
func TestDeleteRunningSnapshot(t *testing.T) {
	e := start(t)
	e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, http.StatusCreated, nil)
	e.api.JSON(t, "POST", "/api/v1/jobs", jobIn("a1", "default"), http.StatusCreated, nil)
	running, waiting := trigger(t, e.api, "a1"), trigger(t, e.api, "a1")
	fence := leaderFence(t, e.etcd.Client, e.st)
	w, _ := registerClient(t, e.etcd.Client, e.st, "default", "w-1")
	dispatch(t, e.st, fence, w, running, true)
	dispatch(t, e.st, fence, w, waiting, false)

	before, keys := e.etcd.Revision(t), e.etcd.Keys(t, "/pink/")
	var er struct {
		Error struct{ Code, Message string }
	}
	e.api.JSON(t, "DELETE", "/api/v1/snapshots/"+running, nil, http.StatusConflict, &er)
	if er.Error.Code != "snapshot_running" {
		t.Errorf("code %q, want snapshot_running", er.Error.Code)
	}
	if after := e.etcd.Revision(t); after != before {
		t.Errorf("refused cancel wrote: revision %d -> %d", before, after)
	}
	if got := e.etcd.Keys(t, "/pink/"); fmt.Sprint(got) != fmt.Sprint(keys) {
		t.Errorf("store changed:\n%v\nwant\n%v", got, keys)
	}
	var snap struct{ State, Client string }
	e.api.JSON(t, "GET", "/api/v1/snapshots/"+running, nil, http.StatusOK, &snap)
	if snap.State != "running" || snap.Client != "w-1" {
		t.Errorf("running snapshot now %+v", snap)
	}
	e.api.JSON(t, "GET", "/api/v1/runs/"+running+".001", nil, http.StatusNotFound, nil)

	// Dispatched but not started: canceled, recorded, assignment gone.
	e.api.JSON(t, "DELETE", "/api/v1/snapshots/"+waiting, nil, http.StatusOK, nil)
	var run struct{ Status, Client string }
	e.api.JSON(t, "GET", "/api/v1/runs/"+waiting+".001", nil, http.StatusOK, &run)
	if run.Status != "canceled" {
		t.Errorf("canceled dispatched snapshot's run: %+v", run)
	}
	p := getPage(t, e.api, "/api/v1/snapshots?job=a1", "snapshots")
	if len(p.items) != 1 || p.items[0]["id"] != running {
		t.Errorf("live after cancel: %v", p.items)
	}
}
