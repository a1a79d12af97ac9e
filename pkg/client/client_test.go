package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/api"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/client"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

func TestMain(m *testing.M) { pinktest.Main(m) }

// requestLog records the query of every request the API received.
type requestLog struct {
	mu      sync.Mutex
	queries []string
}

func (l *requestLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.queries
	l.queries = nil
	return out
}

// startAPI serves the real API on a fresh etcd and returns a client of it
// with the given page size, and the log of requests.
func startAPI(t *testing.T, pageSize int) (*client.Client, *requestLog) {
	t.Helper()
	c, log, _ := startAPIOn(t, pageSize)
	return c, log
}

// startAPIOn is startAPI that also returns the etcd.
func startAPIOn(t *testing.T, pageSize int) (*client.Client, *requestLog, *pinktest.Etcd) {
	t.Helper()
	e := pinktest.StartEtcd(t)
	srv := api.New(api.Config{Store: store.New(e.Client, "")})
	log := &requestLog{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.mu.Lock()
		log.queries = append(log.queries, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		log.mu.Unlock()
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	c, err := client.New(client.Options{Server: hs.URL, PageSize: pageSize})
	if err != nil {
		t.Fatal(err)
	}
	return c, log, e
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// TestListsReadEveryPage: Jobs, Groups and Snapshots follow next_cursor, so
// they return every item once and in order, however small the pages.
func TestListsReadEveryPage(t *testing.T) {
	c, log := startAPI(t, 2)
	for _, g := range []string{"default", "other", "spare"} {
		if err := c.CreateGroup(ctx(t), g, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	var want, wantDefault []string
	for i := range 5 {
		name, group := fmt.Sprintf("j%d", i), "default"
		if i%2 == 1 {
			group = "other"
		} else {
			wantDefault = append(wantDefault, name)
		}
		want = append(want, name)
		spec := job.Spec{Name: name, Group: group, Schedule: "@hourly", Target: "noop"}
		if _, err := c.CreateJob(ctx(t), spec, ""); err != nil {
			t.Fatal(err)
		}
		if err := c.Do(ctx(t), http.MethodPost, "/api/v1/jobs/"+name+"/trigger", nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	log.take()

	jobs, err := c.Jobs(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range jobs {
		got = append(got, j.Name)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("jobs %v, want %v", got, want)
	}
	// Three pages of two: the first without a cursor, each next one with
	// the (opaque) next_cursor of the page before.
	q := log.take()
	pageRequest := regexp.MustCompile(`^GET /api/v1/jobs\?cursor=[A-Za-z0-9_-]+&limit=2$`)
	if len(q) != 3 || q[0] != "GET /api/v1/jobs?limit=2" || !pageRequest.MatchString(q[1]) || !pageRequest.MatchString(q[2]) || q[1] == q[2] {
		t.Errorf("requests:\n%s", strings.Join(q, "\n"))
	}

	jobs, err = c.Jobs(ctx(t), "default")
	got = nil
	for _, j := range jobs {
		got = append(got, j.Name)
	}
	if err != nil || strings.Join(got, " ") != strings.Join(wantDefault, " ") {
		t.Errorf("jobs of default: %v %v, want %v", got, err, wantDefault)
	}

	groups, err := c.Groups(ctx(t))
	got = nil
	for _, g := range groups {
		got = append(got, g.Name)
	}
	if err != nil || strings.Join(got, " ") != "default other spare" {
		t.Errorf("groups: %v %v", got, err)
	}

	snaps, err := c.Snapshots(ctx(t), "", "")
	seen := map[string]bool{}
	for _, s := range snaps {
		seen[s.Job] = true
	}
	if err != nil || len(snaps) != 5 || len(seen) != 5 {
		t.Errorf("snapshots: %d of %d jobs, %v", len(snaps), len(seen), err)
	}
	snaps, err = c.Snapshots(ctx(t), "other", "")
	if err != nil || len(snaps) != 2 || snaps[0].Job != "j1" || snaps[1].Job != "j3" {
		t.Errorf("snapshots of other: %+v %v", snaps, err)
	}
	snaps, err = c.Snapshots(ctx(t), "", "j4")
	if err != nil || len(snaps) != 1 || snaps[0].Job != "j4" {
		t.Errorf("snapshots of j4: %+v %v", snaps, err)
	}

	// An empty list is empty, not nil, and one request.
	log.take()
	jobs, err = c.Jobs(ctx(t), "spare")
	if err != nil || jobs == nil || len(jobs) != 0 {
		t.Errorf("jobs of spare: %#v %v", jobs, err)
	}
	if q := log.take(); len(q) != 1 {
		t.Errorf("requests for an empty list: %v", q)
	}
	// An API error comes back as *client.Error with its status.
	_, err = c.Jobs(ctx(t), "Not A Name")
	if client.StatusOf(err) != http.StatusBadRequest {
		t.Errorf("bad group: %v", err)
	}
}

// TestListStopsOnRepeatedCursor: a server that answers the same cursor
// again cannot make a list loop forever.
func TestListStopsOnRepeatedCursor(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"groups":[{"name":"a"}],"next_cursor":"a"}`)
	}))
	t.Cleanup(hs.Close)
	c, err := client.New(client.Options{Server: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	groups, err := c.Groups(ctx(t))
	if err == nil || !strings.Contains(err.Error(), "repeated cursor") || len(groups) != 2 {
		t.Errorf("groups %v, err %v; want an error after the second page", groups, err)
	}
}

// TestTriggerAndSnapshotDurations: Trigger reads the answer of a job that
// makes one snapshot (SnapshotID) and of a sharded one (SnapshotIDs), and
// Snapshots read the durations the API writes as strings.
func TestTriggerAndSnapshotDurations(t *testing.T) {
	c, _ := startAPI(t, 10)
	if err := c.CreateGroup(ctx(t), "default", "", ""); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []job.Spec{
		{Name: "one", Group: "default", Schedule: "@hourly", Target: "noop", Timeout: job.Duration(90 * time.Second), RetryBackoff: job.Duration(250 * time.Millisecond)},
		{Name: "sharded", Group: "default", Schedule: "@hourly", Target: "noop", Shards: 2},
	} {
		if _, err := c.CreateJob(ctx(t), spec, ""); err != nil {
			t.Fatal(err)
		}
	}
	one, err := c.Trigger(ctx(t), "one", false, "a test")
	if err != nil || one.SnapshotID == "" || one.SnapshotIDs != nil || len(one.IDs()) != 1 || one.IDs()[0] != one.SnapshotID || one.State != "pending" {
		t.Errorf("trigger one: %+v %v", one, err)
	}
	sharded, err := c.Trigger(ctx(t), "sharded", true, "")
	if err != nil || sharded.SnapshotID != "" || len(sharded.SnapshotIDs) != 2 || len(sharded.IDs()) != 2 {
		t.Errorf("trigger sharded: %+v %v", sharded, err)
	}
	snaps, err := c.Snapshots(ctx(t), "", "one")
	if err != nil || len(snaps) != 1 || snaps[0].ID != one.SnapshotID || snaps[0].Timeout != 90*time.Second || snaps[0].RetryBackoff != 250*time.Millisecond {
		t.Errorf("snapshots of one: %+v %v", snaps, err)
	}
	if _, err := c.Trigger(ctx(t), "ghost", false, ""); client.StatusOf(err) != http.StatusNotFound {
		t.Errorf("trigger of a missing job: %v", err)
	}
}
