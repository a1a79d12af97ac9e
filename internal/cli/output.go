package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// How the commands print: the API's JSON for scripts, aligned tables for
// people.

func (e Env) printJSON(v any) error {
	enc := json.NewEncoder(e.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (e Env) table(header []string, rows [][]string) error {
	w := tabwriter.NewWriter(e.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
	return w.Flush()
}

// show prints v as JSON, or as a table built by rows.
func (e Env) show(v any, header []string, rows func() [][]string) error {
	if e.JSON {
		return e.printJSON(v)
	}
	return e.table(header, rows())
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339)
}

func tsp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return ts(*t)
}

// cut shortens s to at most n runes for a table cell: at a word's end when
// one is near, marked with "…", never inside a UTF-8 sequence. The whole
// text is in -o json (and in describe).
func cut(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	atWordEnd := r[n-1] == ' '
	r = r[:n-1]
	if atWordEnd {
		return string(r) + "…"
	}
	if i := strings.LastIndex(string(r), " "); i >= (n-1)/2 {
		return string(r)[:i] + "…"
	}
	return string(r) + "…"
}

// dur is a run's duration for a table: milliseconds, and "<1ms" rather
// than a misleading "0s" for a run faster than that.
func dur(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second))
	if d < time.Millisecond {
		return "<1ms"
	}
	return d.Round(time.Millisecond).String()
}
