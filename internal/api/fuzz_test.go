package api_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pink-scheduler/pink/internal/api"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// FuzzCreateJob posts any body to a real API on a real etcd: never a 5xx,
// and a refused body writes nothing.
func FuzzCreateJob(f *testing.F) {
	f.Add([]byte(validJob))
	f.Add([]byte(`{"name":"x","group":"default","schedule":"61 * * * *","target":"http","params":{"url":"http://a/"}}`))
	f.Add([]byte(`{"name":"x","group":"nope","schedule":"@hourly","target":"t"}`))
	f.Add([]byte(`{"name":"x","group":"default","schedule":"@hourly","target":"t","params":[1]}`))
	f.Add([]byte(`{"name":"x","group":"default","schedule":"@hourly","target":"t","timeout":"-1s"}`))
	f.Add([]byte("\x00\xff{"))
	e := pinktest.StartEtcd(f)
	st := store.New(e.Client, "")
	srv := httptest.NewServer(api.New(api.Config{Store: st}))
	f.Cleanup(srv.Close)
	if resp, err := http.Post(srv.URL+"/api/v1/groups", "application/json", bytes.NewBufferString(`{"name":"default"}`)); err != nil || resp.StatusCode != 201 {
		f.Fatalf("create group: %v", err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		before := e.Revision(t)
		resp, err := http.Post(srv.URL+"/api/v1/jobs", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("status %d for %q", resp.StatusCode, body)
		}
		if resp.StatusCode != http.StatusCreated {
			if after := e.Revision(t); after != before {
				t.Fatalf("refused body (%d) wrote to etcd: %q", resp.StatusCode, body)
			}
			return
		}
		// Clean up so the next input can use the same name.
		var name struct{ Name string }
		_ = decodeJSON(body, &name)
		req, _ := http.NewRequest("DELETE", srv.URL+"/api/v1/jobs/"+name.Name, nil)
		if r, err := http.DefaultClient.Do(req); err == nil {
			r.Body.Close()
		}
	})
}
