package api_test

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/api"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// TestNextFiresAfterAWriteNameTheLeadersFirstFire: the answer to a write
// that sets a job's cursor counts next_fires from the cursor it set, so
// next_fires[0] is the first fire the leader will run even when the clock
// crosses a second boundary between the stamp and the answer (here every
// read of the clock moves it 400 ms).
func TestNextFiresAfterAWriteNameTheLeadersFirstFire(t *testing.T) {
	e := pinktest.StartEtcd(t)
	st := store.New(e.Client, "")
	var mu sync.Mutex
	clock := time.Date(2026, 11, 26, 16, 0, 0, 700_000_000, time.UTC)
	tick := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(400 * time.Millisecond)
		return clock
	}
	srv := httptest.NewServer(api.New(api.Config{Store: st, Now: tick}))
	t.Cleanup(srv.Close)
	c := pinktest.NewAPI(strings.TrimPrefix(srv.URL, "http://"))
	c.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, 201, nil)

	type answer struct {
		Revision  int64       `json:"revision"`
		NextFires []time.Time `json:"next_fires"`
	}
	cases := []struct {
		name, method, path, body string
		status                   int
	}{
		{"create", "POST", "/api/v1/jobs", `{"name":"tick","group":"default","schedule":"* * * * * *","target":"noop"}`, 201},
		{"schedule change", "PUT", "/api/v1/jobs/tick", `{"name":"tick","group":"default","schedule":"*/2 * * * * *","target":"noop"}`, 200},
		{"pause", "POST", "/api/v1/jobs/tick/pause", ``, 200},
		{"resume", "POST", "/api/v1/jobs/tick/resume", ``, 200},
	}
	for _, tc := range cases {
		var got answer
		c.JSON(t, tc.method, tc.path, tc.body, tc.status, &got)
		cur, err := st.Cursor(t.Context(), "tick")
		if err != nil {
			t.Fatal(err)
		}
		spec, err := st.GetJob(t.Context(), "tick")
		if err != nil {
			t.Fatal(err)
		}
		sched, err := spec.ParsedSchedule()
		if err != nil {
			t.Fatal(err)
		}
		var first, want time.Time
		if len(got.NextFires) > 0 {
			first = got.NextFires[0]
		}
		if !spec.Paused {
			want = sched.Next(cur)
		}
		if !first.Equal(want) {
			t.Errorf("%s: next_fires[0] = %s, want %s (the first fire after the cursor %s)", tc.name,
				first.Format(time.TimeOnly), want.Format(time.TimeOnly), cur.Format(time.TimeOnly+".000"))
		}
	}
}
