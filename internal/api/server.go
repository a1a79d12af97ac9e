// Package api is pink's JSON API, served by every scheduler node. Every
// route speaks JSON; errors have one shape (see Error); bad input is refused
// with a 4xx before anything is written.
package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/pink-scheduler/pink/internal/audit"
	"github.com/pink-scheduler/pink/internal/auth"
	"github.com/pink-scheduler/pink/internal/remote"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// Config configures the API.
type Config struct {
	Store *store.Store
	// Auth checks bearer tokens; nil turns authentication off (every
	// request acts as an anonymous admin), which is only allowed on
	// loopback.
	Auth *auth.Authenticator
	// Metrics serves /metrics; nil leaves the route out. With
	// MetricsNeedToken it needs a viewer token like the rest of the API.
	Metrics          http.Handler
	MetricsNeedToken bool
	// Requests records each request; nil records nothing.
	Requests *telemetry.API
	// NoSpace reports whether etcd's NOSPACE alarm is raised (from an
	// etcdspace.Monitor); then /readyz fails with that reason. Nil means
	// never.
	NoSpace func() bool
	// CronRulesSince returns the revision from which jobs were written
	// under crontab(5)'s reading of schedules (store.CronRulesSince), 0
	// until the node has read it; job views of older jobs whose fires
	// moved carry a schedule_change. Nil reports nothing.
	CronRulesSince func() int64
	// Remote serves the HTTP worker protocol; nil leaves its routes
	// answering 404 worker_protocol_off.
	Remote *remote.Registry
	Logger *slog.Logger
	Now    func() time.Time
}

// Server is the API's HTTP handler.
type Server struct {
	st       *store.Store
	auth     *auth.Authenticator
	log      *slog.Logger
	now      func() time.Time
	router   *mux.Router
	requests *telemetry.API
	// metrics and metricsNeedToken say how /metrics is served, for the
	// OpenAPI document.
	metrics, metricsNeedToken bool
	denied                    *deniedLog
	noSpace                   func() bool
	cronRulesSince            func() int64
	streams                   *streams
	hub                       *eventHub
	remote                    *remote.Registry
	forward                   *forwarder
}

// New builds the API.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CronRulesSince == nil {
		cfg.CronRulesSince = func() int64 { return 0 }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NoSpace == nil {
		cfg.NoSpace = func() bool { return false }
	}
	s := &Server{streams: newStreams(), noSpace: cfg.NoSpace, cronRulesSince: cfg.CronRulesSince, st: cfg.Store, auth: cfg.Auth, log: cfg.Logger, now: cfg.Now, router: mux.NewRouter(), requests: cfg.Requests,
		metrics: cfg.Metrics != nil, metricsNeedToken: cfg.Metrics != nil && cfg.MetricsNeedToken, denied: newDeniedLog(cfg.Logger), remote: cfg.Remote}
	s.forward = newForwarder(s.st, s.remote)
	s.hub = newEventHub(s.st, s.streams.ctx)
	s.routes(cfg.Metrics, cfg.MetricsNeedToken)
	return s
}

// Route is one API route: who may call it and, for changes, the action
// recorded in the audit log.
type Route struct {
	Method string
	Path   string
	Role   auth.Role
	// Action names the change in the audit log; "" for reads.
	Action string
	// handler answers with one JSON body; nil for the event stream
	// (streamEvents), which writes its own.
	handler handler
}

// Routes returns the API's routes (without /healthz, /readyz, /metrics).
func (s *Server) Routes() []Route {
	const (
		v, o, a = auth.RoleViewer, auth.RoleOperator, auth.RoleAdmin
		w       = auth.RoleWorker
		get     = http.MethodGet
		post    = http.MethodPost
		put     = http.MethodPut
		del     = http.MethodDelete
	)
	return []Route{
		{post, "/api/v1/groups", a, "group.create", s.createGroup},
		{get, "/api/v1/groups", v, "", s.listGroups},
		{get, "/api/v1/groups/{group}", v, "", s.getGroup},
		{put, "/api/v1/groups/{group}", a, "group.update", s.updateGroup},
		{del, "/api/v1/groups/{group}", a, "group.delete", s.deleteGroup},
		{get, "/api/v1/groups/{group}/clients", v, "", s.listClients},
		{del, "/api/v1/groups/{group}/clients/{client}", o, "client.evict", s.evictClient},
		{post, "/api/v1/jobs", a, "job.create", s.createJob},
		{get, "/api/v1/jobs", v, "", s.listJobs},
		{get, "/api/v1/jobs/{name}", v, "", s.getJob},
		{put, "/api/v1/jobs/{name}", a, "job.update", s.replaceJob},
		{del, "/api/v1/jobs/{name}", a, "job.delete", s.deleteJob},
		{post, "/api/v1/jobs/{name}/pause", o, "job.pause", s.pauseJob},
		{post, "/api/v1/jobs/{name}/resume", o, "job.resume", s.resumeJob},
		{post, "/api/v1/jobs/{name}/trigger", o, "job.trigger", s.triggerJob},
		{post, "/api/v1/jobs/{name}/backfill", o, "job.backfill", s.backfillJob},
		{get, "/api/v1/jobs/{name}/preview", v, "", s.previewJob},
		// A POST: viewers may only GET (it writes nothing, but the role
		// rule stays simple: viewer = GET).
		{post, "/api/v1/schedules/validate", o, "", s.validateSchedule},
		{get, "/api/v1/schedules/changes", v, "", s.listScheduleChanges},
		{get, "/api/v1/snapshots", v, "", s.listSnapshots},
		{get, "/api/v1/snapshots/{id}", v, "", s.getSnapshot},
		{del, "/api/v1/snapshots/{id}", o, "snapshot.cancel", s.deleteSnapshot},
		{get, "/api/v1/runs", v, "", s.listRuns},
		{get, "/api/v1/runs/{id}", v, "", s.getRun},
		{get, "/api/v1/nodes", v, "", s.listNodes},
		{get, "/api/v1/audit", v, "", s.listAudit},
		{get, "/api/v1/stats", v, "", s.stats},
		{get, "/api/v1/openapi.json", v, "", s.openAPI},
		{get, "/api/v1/whoami", v, "", s.whoami},
		// The HTTP worker protocol (workers.go): worker tokens of the group,
		// or admins; open like the rest on loopback without tokens.
		{post, "/api/v1/groups/{group}/workers", w, "", s.workerRoute(s.registerWorker)},
		{post, pollPath, w, "", s.workerRoute(s.pollWorker)},
		{post, "/api/v1/groups/{group}/workers/{id}/heartbeat", w, "", s.workerRoute(s.heartbeatWorker)},
		{del, "/api/v1/groups/{group}/workers/{id}", w, "", s.workerRoute(s.drainWorker)},
		{post, "/api/v1/runs/{id}/result", w, "", s.workerRoute(s.reportResult)},
		{get, eventsPath, v, "", nil},
	}
}

// eventsPath is the event stream's route.
const eventsPath = "/api/v1/events"

func (s *Server) routes(metrics http.Handler, metricsNeedToken bool) {
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
		if metricsNeedToken {
			metrics = s.authenticate(auth.RoleViewer, metrics)
		}
		r.Handle("/metrics", metrics).Methods(http.MethodGet)
	}
	// Full paths on one router (no subrouter): gorilla/mux answers a
	// method mismatch inside a subrouter with 404 instead of 405.
	for _, rt := range s.Routes() {
		h := s.adapt(rt)
		if rt.handler == nil {
			h = http.HandlerFunc(s.streamEvents)
		}
		r.Handle(rt.Path, s.authenticate(rt.Role, h)).Methods(rt.Method)
	}
}

// authenticate lets a request through only with a token of at least role
// (401 without a valid token, 403 with a weaker one). With authentication
// off, every request acts as an anonymous admin.
func (s *Server) authenticate(role auth.Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := auth.Anonymous
		if s.auth != nil {
			var err error
			id, err = s.auth.Authenticate(r.Header.Get("Authorization"))
			if err != nil {
				s.denied.record(r, http.StatusUnauthorized, "", err.Error())
				w.Header().Set("WWW-Authenticate", `Bearer realm="pink"`)
				s.writeError(w, r, errorf(http.StatusUnauthorized, "unauthorized",
					"send a valid API token: Authorization: Bearer <token>"))
				return
			}
			if id.Role < role {
				s.denied.record(r, http.StatusForbidden, id.Name, fmt.Sprintf("role %s, needs %s", id.Role, role))
				s.writeError(w, r, errorf(http.StatusForbidden, "forbidden",
					fmt.Sprintf("token %q has role %s; this needs %s", id.Name, id.Role, role)))
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(auth.WithIdentity(r.Context(), id)))
	})
}

// handler is an API route's logic: it returns the status and body to
// answer with, or an error that becomes the error shape.
type handler func(r *http.Request) (status int, body any, err error)

// adapt turns a route into an http.Handler: it bounds the body and the
// request's etcd time, prepares the audit entry of a change, and writes the
// answer or the error.
func (s *Server) adapt(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		timeout := storeTimeout
		if rt.Path == pollPath {
			timeout = remote.MaxWait + storeTimeout
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		if rt.Action != "" {
			ctx = audit.With(ctx, s.auditEntry(r, rt.Action, reasonOf(r)))
		}
		r = r.WithContext(ctx)
		status, body, err := rt.handler(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if a, ok := body.(*forwardedAnswer); ok {
			a.write(w)
			return
		}
		writeJSON(w, r, status, body)
	})
}

// auditEntry describes the change a request makes.
func (s *Server) auditEntry(r *http.Request, action, reason string) audit.Entry {
	id := auth.IdentityFrom(r.Context())
	vars := mux.Vars(r)
	target := vars["name"]
	for _, k := range []string{"id", "client", "group"} {
		if target == "" {
			target = vars[k]
		}
	}
	return audit.Entry{At: s.now().UTC(), Who: id.Name, Role: id.Role.String(), Action: action, Target: target, Reason: reason}
}

// withTarget names the object a change creates (it is in the body, not the
// path) in the request's audit entry.
func withTarget(r *http.Request, target string) *http.Request {
	e, ok := audit.From(r.Context())
	if !ok {
		return r
	}
	e.Target = target
	return r.WithContext(audit.With(r.Context(), e))
}

// reasonOf reads the optional reason of a change: the Pink-Reason header or
// the reason query parameter (bodies of pause and backfill have their own).
func reasonOf(r *http.Request) string {
	if v := r.Header.Get("Pink-Reason"); v != "" {
		return truncateReason(v)
	}
	return truncateReason(r.URL.Query().Get("reason"))
}

// maxReasonBytes bounds a reason in the audit log and on a paused job.
const maxReasonBytes = 512

func truncateReason(s string) string {
	if len(s) > maxReasonBytes {
		return s[:maxReasonBytes]
	}
	return s
}

// ServeHTTP serves the API. A panic in a handler becomes a 500 with the
// error shape, never a dropped connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.requests != nil && r.URL.Path != eventsPath { // a stream's length is not a latency
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
			writeJSON(w, r, http.StatusInternalServerError, map[string]*Error{"error": errorf(http.StatusInternalServerError, "internal", "internal error")})
		}
	}()
	s.router.ServeHTTP(w, r)
}

// storeTimeout bounds the etcd work of one request: a stalled etcd (no
// leader, a frozen member) is answered with 503 etcd_unavailable and a
// Retry-After within it, not by hanging the caller.
const storeTimeout = 3 * time.Second

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		s.log.Warn("not ready: etcd unreachable", "err", err)
		writeJSON(w, r, http.StatusServiceUnavailable, map[string]*Error{"error": errorf(http.StatusServiceUnavailable, "etcd_unavailable", "etcd is not reachable")})
		return
	}
	if s.noSpace() {
		writeJSON(w, r, http.StatusServiceUnavailable, map[string]*Error{"error": errNoSpace()})
		return
	}
	writeJSON(w, r, http.StatusOK, map[string]string{"status": "ready"})
}

// decodeBody reads a JSON request body into v: one object, no unknown
// fields, no deeper than maxBodyDepth (the adapter bounds its size).
func decodeBody(r *http.Request, v any) error {
	isYAML := false
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json or application/yaml")
		case mt == "application/json", mt == "text/json", strings.HasSuffix(mt, "+json"),
			// curl -d sends these by default; the body is still parsed as
			// strict JSON.
			mt == "application/x-www-form-urlencoded", mt == "text/plain":
		case mt == "application/yaml", mt == "application/x-yaml", mt == "text/yaml":
			isYAML = true
		default:
			return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json or application/yaml")
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if isYAML {
		if body, err = yamlToJSON(body); err != nil {
			return err
		}
	}
	if d := job.JSONDepth(body); d > maxBodyDepth {
		return &Error{Status: http.StatusBadRequest, Code: "too_deep", Message: fmt.Sprintf("the body nests %d levels deep; at most %d", d, maxBodyDepth)}
	}
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] != '{' {
		return errorf(http.StatusBadRequest, job.CodeMalformedJSON, "the body must be a JSON object")
	}
	return job.DecodeStrict(bytes.NewReader(body), v)
}

// maxBodyDepth bounds how deeply a request body may nest: a job's params
// (job.MaxParamsDepth) inside the job object, and no more.
const maxBodyDepth = job.MaxParamsDepth + 1

// decodeOptionalBody is decodeBody for routes whose body may be empty.
func decodeOptionalBody(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decodeBody(r, v)
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
