package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/pink-scheduler/pink/internal/remote"
	"github.com/pink-scheduler/pink/internal/store"
)

// A remote worker's registration lives on the scheduler node it registered
// through (the node holds its lease and runs its claims). Its later
// requests may reach any node — a load balancer in front of the nodes, a
// client given several URLs — and a node that does not hold the worker
// forwards them to the one that does (cluster.Client.Via, cluster.Node.URL).
// Forwarding carries the request as it came, token included; the node that
// holds the worker authenticates and answers it, so fencing and claims are
// exactly those of a request sent there directly.

// forwardedHeader marks a forwarded request with the forwarding node's id:
// the node it reaches answers it itself, so a request is forwarded once at
// most (two nodes with stale views cannot bounce it between them).
const forwardedHeader = "Pink-Forwarded-By"

// maxForwardedAnswer bounds the answer read from another node: a poll of
// remote.MaxCapacity runs, each at most a run record's size, fits in it.
const maxForwardedAnswer = 64 << 20

// forwarder sends a remote worker's requests to the node that holds it.
type forwarder struct {
	st     *store.Store
	remote *remote.Registry
	client *http.Client
}

func newForwarder(st *store.Store, reg *remote.Registry) *forwarder {
	if reg == nil || reg.NodeID() == "" {
		return nil
	}
	// No client timeout: each request has its context's (a long poll's is
	// remote.MaxWait and a store timeout more).
	return &forwarder{st: st, remote: reg, client: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
}

// forwardedAnswer is another node's answer, written back as it came.
type forwardedAnswer struct {
	status int
	header http.Header
	body   []byte
}

func (a *forwardedAnswer) write(w http.ResponseWriter) {
	for _, k := range []string{"Content-Type", "Retry-After"} {
		if v := a.header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// route returns the node to forward r to, or ok false when this node
// answers r itself: it holds the worker, the request was forwarded to it
// already, or no live registration names another node (then the worker is
// gone, and this node says so).
func (f *forwarder) route(r *http.Request) (rt store.Route, body []byte, ok bool, err error) {
	if f == nil || r.Header.Get(forwardedHeader) != "" {
		return store.Route{}, nil, false, nil
	}
	v := mux.Vars(r)
	id, group := v["id"], v["group"]
	if group == "" {
		// The result route: its worker is named in the body, which is read
		// here and given back to the request for the node that answers.
		if body, err = io.ReadAll(r.Body); err != nil {
			return store.Route{}, nil, false, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var res resultRequest
		if json.Unmarshal(body, &res) != nil || res.WorkerID == "" {
			return store.Route{}, nil, false, nil // the handler says what is wrong
		}
		id = res.WorkerID
	}
	if id == "" || f.remote.Holds(id) {
		return store.Route{}, nil, false, nil
	}
	rt, ok, err = f.st.RemoteRoute(r.Context(), group, id)
	if err != nil || !ok || rt.NodeID == f.remote.NodeID() {
		return store.Route{}, nil, false, err
	}
	if body == nil {
		if body, err = io.ReadAll(r.Body); err != nil {
			return store.Route{}, nil, false, err
		}
	}
	return rt, body, true, nil
}

// send forwards r (with body) to the node of rt and returns its answer;
// 503 worker_node_unreachable when that node does not answer.
func (f *forwarder) send(r *http.Request, rt store.Route, body []byte) (*forwardedAnswer, error) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, rt.URL+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("forward to node %s: %w", rt.NodeID, err)
	}
	for _, k := range []string{"Authorization", "Content-Type", "Traceparent", "Tracestate"} {
		if v := r.Header.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	req.Header.Set(forwardedHeader, f.remote.NodeID())
	resp, err := f.client.Do(req)
	if err == nil {
		defer resp.Body.Close()
		var b []byte
		b, err = io.ReadAll(io.LimitReader(resp.Body, maxForwardedAnswer))
		if err == nil {
			return &forwardedAnswer{status: resp.StatusCode, header: resp.Header, body: b}, nil
		}
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return nil, r.Context().Err() // the client went away
	}
	return nil, &Error{Status: http.StatusServiceUnavailable, Code: "worker_node_unreachable", Message: fmt.Sprintf(
		"this worker is held by scheduler node %s, which does not answer; retry: if that node died, the worker's registration ends with its ttl, and then it is gone (410) and registers again",
		rt.NodeID)}
}
