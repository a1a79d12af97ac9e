package scheduler

import (
	"context"
	"fmt"
	"time"
)

// startMarks caches the start marks the leader read in one pass, by
// client: the latest nominal time through which the client has started
// the fires it claimed ahead (see store.StartAhead).
type startMarks map[string]startMark

type startMark struct {
	at time.Time
	ok bool // false: the client has no mark
}

// of returns client's mark, reading it on first use.
func (m startMarks) of(ctx context.Context, t *term, group, client string) (startMark, error) {
	if mk, seen := m[client]; seen {
		return mk, nil
	}
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	at, ok, err := t.st.StartMark(rctx, group, client)
	cancel()
	if err != nil {
		return startMark{}, fmt.Errorf("read the start mark of client %s: %w", client, err)
	}
	m[client] = startMark{at: at, ok: ok}
	return m[client], nil
}
