package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Event is one change of the live events stream (GET /api/v1/events):
// a job, snapshot, run, client, node or leader change, or a note about
// the stream itself (Type "reset": read the state again; "overflow": the
// stream fell behind and ends, reconnect).
type Event struct {
	// ID is the change's place in etcd's history ("revision.seq"); give it
	// to EventFilter.After to resume after it. Empty for reset and
	// overflow.
	ID     string          `json:"event_id,omitempty"`
	Type   string          `json:"type"`
	Action string          `json:"action"`
	Job    string          `json:"job,omitempty"`
	Group  string          `json:"group,omitempty"`
	Object string          `json:"id,omitempty"`
	State  snapshot.State  `json:"state,omitempty"`
	Status snapshot.Status `json:"status,omitempty"`
	Client string          `json:"client,omitempty"`
	// Message is what a reset or overflow says.
	Message string `json:"message,omitempty"`
}

// EventFilter narrows an event stream.
type EventFilter struct {
	Job, Group string
	// Types are the kinds wanted (job, snapshot, run, client, node,
	// leader); none means all.
	Types []string
	// After resumes the stream after this event ID instead of now.
	After string
}

// maxEventBytes bounds one line of the stream.
const maxEventBytes = 1 << 20

// EventStream reads an open event stream; Close it when done.
type EventStream struct {
	body io.ReadCloser
	r    *bufio.Scanner
}

// Events opens the live events stream. It returns once the server has
// answered, so every change made after Events returns is among the
// stream's events (the server starts the stream at its current revision
// before answering).
func (c *Client) Events(ctx context.Context, f EventFilter) (*EventStream, error) {
	q := url.Values{}
	for k, v := range map[string]string{"job": f.Job, "group": f.Group, "types": strings.Join(f.Types, ","), "last_event_id": f.After} {
		if v != "" {
			q.Set(k, v)
		}
	}
	path := "/api/v1/events?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	// A stream lasts: the client's request timeout does not apply.
	resp, err := (&http.Client{Transport: c.http.Transport}).Do(req)
	if err != nil {
		return nil, c.unreachable(http.MethodGet, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return nil, errorFrom(resp.StatusCode, b)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 4096), maxEventBytes)
	return &EventStream{body: resp.Body, r: sc}, nil
}

// Next returns the next event; io.EOF when the server ended the stream.
func (s *EventStream) Next() (Event, error) {
	var id, name, data string
	for s.r.Scan() {
		line := s.r.Text()
		switch {
		case line == "":
			if data == "" {
				id, name = "", ""
				continue // a comment's end, or a heartbeat
			}
			var e Event
			if err := json.Unmarshal([]byte(data), &e); err != nil {
				return Event{}, fmt.Errorf("event %s: %w", id, err)
			}
			e.ID = id
			if name != "" {
				e.Type = name
			}
			return e, nil
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(line[3:])
		case strings.HasPrefix(line, "event:"):
			name = strings.TrimSpace(line[6:])
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimPrefix(line[5:], " ")
		}
	}
	if err := s.r.Err(); err != nil {
		return Event{}, err
	}
	return Event{}, io.EOF
}

// Close ends the stream.
func (s *EventStream) Close() error { return s.body.Close() }
