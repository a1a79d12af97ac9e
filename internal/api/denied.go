package api

import (
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/gorilla/mux"
	"golang.org/x/time/rate"
)

// deniedLog records refused requests (401, 403) at INFO: who (the token's
// name, never the token), what (method and route) and from where (the
// remote address), so that a probe or a misconfigured client shows in the
// log. It writes at most deniedBurst lines at once and one a second after,
// and counts what it left out in the next line it writes.
type deniedLog struct {
	log        *slog.Logger
	limit      *rate.Limiter
	suppressed atomic.Int64
}

const deniedBurst = 10

func newDeniedLog(log *slog.Logger) *deniedLog {
	return &deniedLog{log: log, limit: rate.NewLimiter(rate.Limit(1), deniedBurst)}
}

func (d *deniedLog) record(r *http.Request, status int, token, reason string) {
	if !d.limit.Allow() {
		d.suppressed.Add(1)
		return
	}
	route := r.URL.Path
	if cur := mux.CurrentRoute(r); cur != nil {
		if tmpl, err := cur.GetPathTemplate(); err == nil {
			route = tmpl
		}
	}
	d.log.Info("request denied", "status", status, "token", token, "method", r.Method, "route", route,
		"remote", r.RemoteAddr, "reason", reason, "suppressed_since_last", d.suppressed.Swap(0))
}
