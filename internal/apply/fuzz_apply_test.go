package apply

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/pink-scheduler/pink/internal/api"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/client"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// FuzzApply applies arbitrary files to a real API on a real etcd holding a
// group "existing" with a job "kept": a file is refused before any write
// (the etcd revision does not move) or applied completely; never a panic,
// never a partial write, and applying it again changes nothing.
func FuzzApply(f *testing.F) {
	f.Add([]byte("groups:\n  - name: batch\njobs:\n  - {name: a, group: batch, schedule: '@hourly', target: noop}\n  - {name: b, group: nowhere, schedule: '@hourly', target: noop}\n"))
	f.Add([]byte("jobs:\n  - {name: a, group: existing, schedule: '@daily', target: noop, paused: true}\n"))
	f.Add([]byte("groups:\n  - {name: existing, description: changed}\njobs:\n  - {name: kept, group: existing, schedule: '0 4 * * *', target: noop}\n"))
	f.Add([]byte("groups:\n  - {name: existing}\n"))
	f.Add([]byte(`{"groups":[{"name":"g"}],"jobs":[{"name":"kept","group":"g","schedule":"@every 1m","target":"http","params":{"url":"http://x/"}}]}`))
	f.Add([]byte("jobs:\n  - {name: a, group: ghost, schedule: '@daily', target: noop}\n"))

	e := pinktest.StartEtcd(f)
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			return
		}
		ctx := context.Background()
		// A fresh cluster (key prefix) for every input.
		srv := httptest.NewServer(api.New(api.Config{Store: store.New(e.Client, fmt.Sprintf("/fuzz/%d", n.Add(1)))}))
		defer srv.Close()
		c, err := client.New(client.Options{Server: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CreateGroup(ctx, "existing", "", ""); err != nil {
			t.Fatal(err)
		}
		kept := mustParseJob(t, "jobs:\n  - {name: kept, group: existing, schedule: '@daily', target: noop}").Spec
		if _, err := c.CreateJob(ctx, kept, ""); err != nil {
			t.Fatal(err)
		}

		rev := e.Revision(t)
		p, err := MakePlan(ctx, c, file, true)
		if errors.Is(err, ErrInvalid) {
			if got := e.Revision(t); got != rev {
				t.Fatalf("a refused file wrote: revision %d -> %d", rev, got)
			}
			return
		}
		if err != nil {
			t.Fatalf("MakePlan: %v", err)
		}
		if got := e.Revision(t); got != rev {
			t.Fatalf("planning wrote: revision %d -> %d", rev, got)
		}
		if done, err := Execute(ctx, c, p, "fuzz"); err != nil {
			t.Fatalf("a validated plan failed halfway (partial write): did %v, then %v", done, err)
		}
		again, err := MakePlan(ctx, c, file, true)
		if err != nil {
			t.Fatalf("second MakePlan: %v", err)
		}
		if again.Changes() {
			t.Fatalf("applying twice changed something the second time: %v", again.Actions)
		}
	})
}

func mustParseJob(t *testing.T, s string) JobDef {
	t.Helper()
	f, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return f.Jobs[0]
}
