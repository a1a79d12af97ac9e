// Package audit defines the audit log's entry and how a change carries it:
// the API puts the entry of a request into its context, and the store
// writes it in the same transaction as the change, so a change is never
// made without its record, nor recorded without being made.
package audit

import (
	"context"
	"time"
)

// Entry records one change made through the API: who, what, when, why.
type Entry struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Who    string    `json:"who"`
	Role   string    `json:"role"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Reason string    `json:"reason,omitempty"`
	// Detail holds action-specific facts (a revision, snapshot ids).
	Detail map[string]any `json:"detail,omitempty"`
}

type entryKey struct{}

// With returns ctx carrying the audit entry e.
func With(ctx context.Context, e Entry) context.Context {
	return context.WithValue(ctx, entryKey{}, &e)
}

// From returns a copy of ctx's audit entry, if it has one.
func From(ctx context.Context) (Entry, bool) {
	if e, ok := ctx.Value(entryKey{}).(*Entry); ok && e != nil {
		return *e, true
	}
	return Entry{}, false
}
