// Package api is pink's JSON API, served by every scheduler node. Every
// route speaks JSON; errors have one shape (see Error); bad input is refused
// with a 4xx before anything is written.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/store"
	"github.com/pink-scheduler/pink/pkg/telemetry"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// Config configures the API.
type Config struct {
	Store *store.Store
	// Metrics serves /metrics; nil leaves the route out.
	Metrics http.Handler
	// Requests records each request; nil records nothing.
	Requests *telemetry.API
	Logger   *slog.Logger
	Now      func() time.Time
}

// Server is the API's HTTP handler.
type Server struct {
	st       *store.Store
	log      *slog.Logger
	now      func() time.Time
	router   *mux.Router
	requests *telemetry.API
}

// New builds the API.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{st: cfg.Store, log: cfg.Logger, now: cfg.Now, router: mux.NewRouter(), requests: cfg.Requests}
	s.routes(cfg.Metrics)
	return s
}

func (s *Server) routes(metrics http.Handler) {
	r := s.router
	notFound := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.writeError(w, req, errorf(http.StatusNotFound, "route_not_found", fmt.Sprintf("no route %s %s", req.Method, req.URL.Path)))
	})
	notAllowed := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.writeError(w, req, errorf(http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s is not allowed on %s", req.Method, req.URL.Path)))
	})
	r.NotFoundHandler, r.MethodNotAllowedHandler = notFound, notAllowed
	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet)
	r.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet)
	if metrics != nil {
		r.Handle("/metrics", metrics).Methods(http.MethodGet)
	}
	// Full paths on one router (no subrouter): gorilla/mux answers a
	// method mismatch inside a subrouter with 404 instead of 405.
	v1 := func(method, path string, h handler) {
		r.Handle("/api/v1"+path, s.adapt(h)).Methods(method)
	}
	v1(http.MethodPost, "/groups", s.createGroup)
	v1(http.MethodGet, "/groups", s.listGroups)
	v1(http.MethodGet, "/groups/{group}", s.getGroup)
	v1(http.MethodGet, "/groups/{group}/clients", s.listClients)
	v1(http.MethodPost, "/jobs", s.createJob)
	v1(http.MethodGet, "/jobs", s.listJobs)
	v1(http.MethodGet, "/jobs/{name}", s.getJob)
	v1(http.MethodPut, "/jobs/{name}", s.replaceJob)
	v1(http.MethodDelete, "/jobs/{name}", s.deleteJob)
	v1(http.MethodPost, "/jobs/{name}/pause", s.pauseJob)
	v1(http.MethodPost, "/jobs/{name}/resume", s.resumeJob)
	v1(http.MethodPost, "/jobs/{name}/trigger", s.triggerJob)
	v1(http.MethodGet, "/snapshots", s.listSnapshots)
	v1(http.MethodGet, "/snapshots/{id}", s.getSnapshot)
	v1(http.MethodDelete, "/snapshots/{id}", s.deleteSnapshot)
	v1(http.MethodGet, "/runs", s.listRuns)
	v1(http.MethodGet, "/runs/{id}", s.getRun)
	v1(http.MethodGet, "/nodes", s.listNodes)
}

// handler is an API route: it returns the status and body to answer with,
// or an error that becomes the error shape.
type handler func(r *http.Request) (status int, body any, err error)

// adapt turns a handler into an http.Handler: it bounds the body and the
// request's etcd time, and writes the answer or the error.
func (s *Server) adapt(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		status, body, err := h(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, status, body)
	})
}

// ServeHTTP serves the API. A panic in a handler becomes a 500 with the
// error shape, never a dropped connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.requests != nil {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		w = rec
		defer func() {
			route := "unmatched"
			var match mux.RouteMatch
			if s.router.Match(r, &match) && match.Route != nil {
				if tmpl, err := match.Route.GetPathTemplate(); err == nil {
					route = tmpl
				}
			}
			s.requests.Observe(route, r.Method, rec.status, time.Since(start))
		}()
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			writeJSON(w, http.StatusInternalServerError, map[string]*Error{"error": errorf(http.StatusInternalServerError, "internal", "internal error")})
		}
	}()
	s.router.ServeHTTP(w, r)
}

// storeTimeout bounds the etcd work of one request.
const storeTimeout = 10 * time.Second

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		s.log.Warn("not ready: etcd unreachable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]*Error{"error": errorf(http.StatusServiceUnavailable, "etcd_unavailable", "etcd is not reachable")})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// decodeBody reads a JSON request body into v: one object, no unknown
// fields (the adapter bounds its size).
func decodeBody(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
		case mt == "application/json", mt == "text/json", strings.HasSuffix(mt, "+json"),
			// curl -d sends these by default; the body is still parsed as
			// strict JSON.
			mt == "application/x-www-form-urlencoded", mt == "text/plain":
		default:
			return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
		}
	}
	return job.DecodeStrict(r.Body, v)
}

// pathName reads a {name} or {group} path variable and checks it is a name.
func pathName(r *http.Request, key string) (string, error) {
	name := mux.Vars(r)[key]
	if err := job.CheckName(key, name); err != nil {
		return "", err
	}
	return name, nil
}

// queryBool reads an optional true/false query parameter.
func queryBool(r *http.Request, key string) (bool, error) {
	switch r.URL.Query().Get(key) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, &Error{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: key, Message: key + " must be true or false"}
}

// queryName reads an optional name from the query string ("" if absent).
func queryName(r *http.Request, key string) (string, error) {
	name := r.URL.Query().Get(key)
	if name == "" {
		return "", nil
	}
	if err := job.CheckName(key, name); err != nil {
		return "", err
	}
	return name, nil
}

// statusRecorder remembers the status a handler wrote, for metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
