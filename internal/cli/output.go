package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"
)

// How the commands print (-o): aligned tables for people (table, and wide
// with more columns), the API's JSON or the same as YAML for scripts, and
// name for pipes (one kind/name per line, as kubectl prints them).

// Output formats of -o.
const (
	formatTable = "table"
	formatWide  = "wide"
	formatJSON  = "json"
	formatYAML  = "yaml"
	formatName  = "name"
)

var formats = []string{formatTable, formatWide, formatJSON, formatYAML, formatName}

// table is what a read command prints for people: the columns of -o
// table, the extra ones of -o wide (each row holds both), and each row's
// kind/name for -o name.
type table struct {
	header, wide []string
	rows         [][]string
	names        []string
}

// add appends a row and its name.
func (t *table) add(name string, cells ...string) {
	t.rows = append(t.rows, cells)
	t.names = append(t.names, name)
}

func (e Env) printJSON(v any) error {
	enc := json.NewEncoder(e.Out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printYAML prints v as the YAML of its JSON: the API's field names in
// the API's order.
func (e Env) printYAML(v any) error {
	n, err := yamlNode(v)
	if err != nil {
		return err
	}
	return e.encodeYAML(n)
}

func (e Env) encodeYAML(n *yaml.Node) error {
	enc := yaml.NewEncoder(e.Out)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return err
	}
	return enc.Close()
}

// yamlNode is v's JSON encoding as a YAML node, in its order, in block
// style.
func yamlNode(v any) (*yaml.Node, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(j, &doc); err != nil {
		return nil, fmt.Errorf("yaml of %T: %w", v, err)
	}
	blockStyle(&doc)
	return doc.Content[0], nil
}

// blockStyle turns JSON's flow style into YAML's block style (quotes
// stay only where a plain scalar would read as something else; text of
// several lines is a literal block).
func blockStyle(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && strings.Contains(n.Value, "\n") {
		n.Style = yaml.LiteralStyle
	} else {
		n.Style = 0
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// show prints v (the API's answer) as -o asks: the table t builds for
// table, wide and name.
func (e Env) show(v any, t func() table) error {
	switch e.Format {
	case formatJSON:
		return e.printJSON(v)
	case formatYAML:
		return e.printYAML(v)
	}
	tb := t()
	if e.Format == formatName {
		for _, n := range tb.names {
			if _, err := fmt.Fprintln(e.Out, n); err != nil {
				return err
			}
		}
		return nil
	}
	header, width := tb.header, len(tb.header)
	if e.Format == formatWide {
		header, width = append(append([]string(nil), header...), tb.wide...), len(header)+len(tb.wide)
	}
	w := tabwriter.NewWriter(e.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for _, r := range tb.rows {
		fmt.Fprintln(w, strings.Join(r[:min(width, len(r))], "\t"))
	}
	return w.Flush()
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

// ago is t relative to now as a table shows it: "3m ago", "in 12s", "-"
// for no time.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if d := t.Sub(now); d > 0 {
		return "in " + human(d)
	}
	return human(now.Sub(t)) + " ago"
}

// agop is ago of a time that may be absent.
func agop(t *time.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	return ago(*t, now)
}

// human is d in at most two units, as kubectl prints ages: 45s, 3m12s,
// 5h4m, 3d2h.
func human(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return twoUnits(s/60, "m", s%60, "s")
	case s < 86400:
		return twoUnits(s/3600, "h", s%3600/60, "m")
	default:
		return twoUnits(s/86400, "d", s%86400/3600, "h")
	}
}

func twoUnits(a int64, ua string, b int64, ub string) string {
	if b == 0 {
		return fmt.Sprintf("%d%s", a, ua)
	}
	return fmt.Sprintf("%d%s%d%s", a, ua, b, ub)
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

// orDash is s, or "-" for nothing.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printJSONLine prints v as one line of JSON (a stream of events).
func (e Env) printJSONLine(v any) error {
	return json.NewEncoder(e.Out).Encode(v)
}

// age is how long ago t was, without "ago", as kubectl's AGE column.
func age(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return human(now.Sub(t))
}
