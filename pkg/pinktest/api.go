package pinktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// API is a small client for pink's JSON API, for tests.
type API struct {
	Base string
	HTTP *http.Client
	// Token, if set, is sent as the bearer token of every request.
	Token string
}

// As returns a client of the same API that sends token.
func (a *API) As(token string) *API {
	c := *a
	c.Token = token
	return &c
}

// NewAPI returns a client for the API at addr (host:port).
func NewAPI(addr string) *API {
	return &API{Base: "http://" + addr, HTTP: &http.Client{Timeout: 15 * time.Second}}
}

// Do sends a request; body is sent as is if it is a string or []byte, else
// encoded as JSON. It returns the status and the raw response body.
func (a *API) Do(t testing.TB, method, path string, body any) (int, []byte) {
	t.Helper()
	status, b, err := a.TryDo(method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return status, b
}

// TryDo is Do that returns transport errors instead of failing the test.
func (a *API) TryDo(method, path string, body any) (int, []byte, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, a.Base+path, r)
	if err != nil {
		return 0, nil, err
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// JSON sends a request, expects status want, and decodes the response into
// out (if not nil).
func (a *API) JSON(t testing.TB, method, path string, body any, want int, out any) {
	t.Helper()
	status, b := a.Do(t, method, path, body)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d; body: %s", method, path, status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %T: %v; body: %s", method, path, out, err, b)
		}
	}
}

// Runs returns up to 1000 runs of job, newest first.
func (a *API) Runs(t testing.TB, job string) []snapshot.Run {
	t.Helper()
	var page struct {
		Runs []snapshot.Run `json:"runs"`
	}
	a.JSON(t, http.MethodGet, "/api/v1/runs?limit=1000&job="+job, nil, http.StatusOK, &page)
	return page.Runs
}

// TryRuns is Runs that returns errors (for polling while a node restarts).
func (a *API) TryRuns(job string) ([]snapshot.Run, error) {
	status, b, err := a.TryDo(http.MethodGet, "/api/v1/runs?limit=1000&job="+job, nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", status, b)
	}
	var page struct {
		Runs []snapshot.Run `json:"runs"`
	}
	err = json.Unmarshal(b, &page)
	return page.Runs, err
}
