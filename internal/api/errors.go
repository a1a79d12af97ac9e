package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is the API's error: an HTTP status and a body of the form
// {"error":{"code":"...","message":"...","field":"..."}}. Code is stable and
// meant for scripts; Message is for people.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// toError maps any error to the API error a client sees. Client mistakes
// keep their message; server-side failures are logged in full and answered
// without internals.
func (s *Server) toError(r *http.Request, err error) *Error {
	var ae *Error
	var fe *job.FieldError
	var de *job.DecodeError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &fe):
		return &Error{Status: http.StatusBadRequest, Code: fe.Code, Message: fe.Error(), Field: fe.Field}
	case errors.As(err, &mb):
		return errorf(http.StatusRequestEntityTooLarge, "body_too_large", "request body is larger than 1 MiB")
	case errors.As(err, &de):
		return &Error{Status: http.StatusBadRequest, Code: de.Code, Message: de.Message, Field: de.Field}
	case store.IsNoSpace(err):
		s.log.Error("etcd refused a write: it is out of space", "method", r.Method, "path", r.URL.Path, "err", err)
		return errNoSpace()
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled) && r.Context().Err() == nil, etcdUnavailable(err):
		s.log.Error("etcd request timed out", "method", r.Method, "path", r.URL.Path, "err", err)
		return errorf(http.StatusServiceUnavailable, "etcd_unavailable",
			"the cluster store did not answer in time; retry (a change may or may not have been made: read it back first)")
	case errors.Is(err, store.ErrGroupNotFound):
		return errorf(http.StatusBadRequest, "unknown_group", "the group does not exist: create it first (POST /api/v1/groups)")
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return errorf(http.StatusInternalServerError, "internal", "internal error; see the scheduler's log")
}

// errNoSpace is the answer while etcd's NOSPACE alarm is raised.
func errNoSpace() *Error {
	return errorf(http.StatusServiceUnavailable, "etcd_no_space",
		"etcd is out of space (its NOSPACE alarm is raised): nothing can be changed and no job fires until an operator frees space "+
			"and disarms the alarm (runbook PinkEtcdNoSpace); reads still work")
}

// writeJSON writes v as the answer: compact JSON, or indented for a
// person who asks with ?pretty=1 (or true).
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	if p := r.URL.Query().Get("pretty"); p == "1" || p == "true" {
		enc.SetIndent("", "  ")
	}
	_ = enc.Encode(v)
}

// retryAfterSeconds is the Retry-After of a 503: about when etcd has
// elected a new leader or a member is back.
const retryAfterSeconds = "2"

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := s.toError(r, err)
	if ae.Status < 500 && ae.Status != http.StatusUnauthorized && ae.Status != http.StatusForbidden {
		s.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "status", ae.Status, "code", ae.Code)
	}
	writeJSON(w, r, ae.Status, map[string]*Error{"error": ae})
}

// etcdUnavailable reports whether err says etcd cannot serve the request
// now (no leader, a member down or frozen), rather than that it failed.
func etcdUnavailable(err error) bool {
	switch status.Code(errors.Unwrap(err)) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch status.Code(e) {
		case codes.Unavailable, codes.DeadlineExceeded:
			return true
		}
	}
	return false
}
