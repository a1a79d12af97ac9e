package cli

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pink-scheduler/pink/pkg/client"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// The commands that follow the live events stream (GET /api/v1/events):
// runs watch, jobs watch and runs logs --follow. Each opens the stream
// first and reads the state second, so no change falls between them.

// RunsWatch prints the live snapshots, then a line per fire written,
// assigned, started and finished, until ctx ends.
func (e Env) RunsWatch(ctx context.Context, job, group string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := e.Client.Events(ctx, client.EventFilter{Job: job, Group: group, Types: []string{"snapshot", "run"}})
	if err != nil {
		return err
	}
	defer st.Close()
	snaps, err := e.Client.Snapshots(ctx, group, job)
	if err != nil {
		return err
	}
	w := e.lines([]string{"TIME", "ID", "JOB", "STATE", "CLIENT"}, []int{8, 44, 20, 10, 0})
	for _, s := range snaps {
		if err := w.event(client.Event{Type: "snapshot", Action: "put", Object: s.ID, Job: s.Job, Group: s.Group, State: s.State, Client: s.Client}); err != nil {
			return err
		}
	}
	for {
		ev, err := st.Next()
		if err != nil {
			return streamEnded(ctx, err)
		}
		if ev.Type == "snapshot" && ev.Action == "delete" {
			continue // the run event says how it ended
		}
		if err := w.event(ev); err != nil {
			return err
		}
	}
}

// streamEnded is the error of a watch whose stream ended: none when the
// user stopped it.
func streamEnded(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("the event stream ended (%w): run the command again to go on", err)
}

// eventLines prints events one per line as they come: fixed columns for
// people, one JSON object per line for -o json, kind/id for -o name.
type eventLines struct {
	e      Env
	header []string
	widths []int
	now    func() time.Time
	began  bool
}

func (e Env) lines(header []string, widths []int) *eventLines {
	return &eventLines{e: e, header: header, widths: widths, now: time.Now}
}

// row prints cells padded to the column widths (the header first).
func (l *eventLines) row(cells ...string) error {
	if l.e.Format != formatTable && l.e.Format != formatWide {
		return nil
	}
	if !l.began {
		l.began = true
		if err := l.row(l.header...); err != nil {
			return err
		}
	}
	var b strings.Builder
	for i, c := range cells {
		if i < len(l.widths) && l.widths[i] > 0 && i < len(cells)-1 {
			fmt.Fprintf(&b, "%-*s  ", l.widths[i], c)
		} else {
			b.WriteString(c + "  ")
		}
	}
	_, err := fmt.Fprintln(l.e.Out, strings.TrimRight(b.String(), " "))
	return err
}

// event prints one snapshot or run event.
func (l *eventLines) event(ev client.Event) error {
	kind := "snapshot"
	state := string(ev.State)
	if ev.Type == "run" {
		kind, state = "run", string(ev.Status)
	}
	switch l.e.Format {
	case formatJSON:
		return l.e.printJSONLine(ev)
	case formatYAML:
		fmt.Fprintln(l.e.Out, "---")
		return l.e.printYAML(ev)
	case formatName:
		_, err := fmt.Fprintln(l.e.Out, kind+"/"+ev.Object)
		return err
	}
	if ev.Type == "reset" || ev.Type == "overflow" {
		return l.row(l.now().Format("15:04:05"), "("+ev.Type+": "+ev.Message+")", "", "", "")
	}
	return l.row(l.now().Format("15:04:05"), ev.Object, ev.Job, state, orDash(ev.Client))
}

// JobsWatch prints the jobs, then a job's row again each time it
// changes, a run of it starts (LAST STATUS running) or one finishes.
func (e Env) JobsWatch(ctx context.Context, group string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := e.Client.Events(ctx, client.EventFilter{Group: group, Types: []string{"job", "snapshot", "run"}})
	if err != nil {
		return err
	}
	defer st.Close()
	jobs, err := e.Client.Jobs(ctx, group)
	if err != nil {
		return err
	}
	if e.Format != formatTable && e.Format != formatWide {
		return e.watchRaw(ctx, st)
	}
	t := jobsTable(jobs, time.Now())
	w := e.lines(t.header, columnWidths(t))
	for _, r := range t.rows {
		if err := w.row(r[:len(t.header)]...); err != nil {
			return err
		}
	}
	for {
		ev, err := st.Next()
		if err != nil {
			return streamEnded(ctx, err)
		}
		if err := e.jobChanged(ctx, w, ev, len(t.header)); err != nil {
			return err
		}
	}
}

// jobChanged prints the row of the job an event is about, when the event
// changes what the row shows.
func (e Env) jobChanged(ctx context.Context, w *eventLines, ev client.Event, width int) error {
	switch {
	case ev.Type == "job" && ev.Action == "delete":
		return w.row(ev.Job, "(deleted)")
	case ev.Type == "job", ev.Type == "run", ev.Type == "snapshot" && ev.State == snapshot.StateRunning:
	default:
		return nil
	}
	j, err := e.Client.Job(ctx, ev.Job)
	if client.StatusOf(err) == http.StatusNotFound {
		return nil // deleted since: its delete event follows
	}
	if err != nil {
		return err
	}
	row := jobRow(j, time.Now())
	if ev.Type == "snapshot" {
		row[5], row[6] = "running", "now"
	}
	return w.row(row[:width]...)
}

// watchRaw prints the events of st as -o json, yaml or name asks.
func (e Env) watchRaw(ctx context.Context, st *client.EventStream) error {
	w := e.lines(nil, nil)
	for {
		ev, err := st.Next()
		if err != nil {
			return streamEnded(ctx, err)
		}
		if err := w.event(ev); err != nil {
			return err
		}
	}
}

// columnWidths are the widths of t's columns: its widest cells.
func columnWidths(t table) []int {
	w := make([]int, len(t.header))
	for i, h := range t.header {
		w[i] = len([]rune(h))
		for _, r := range t.rows {
			w[i] = max(w[i], len([]rune(r[i])))
		}
	}
	return w
}
