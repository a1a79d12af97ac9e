package api

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/audit"
	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

func TestAPITimeFormat(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in         time.Time
		utc, zoned string
	}{
		{time.Date(2026, 12, 2, 7, 30, 0, 0, time.UTC), `"2026-12-02T07:30:00.000Z"`, `"2026-12-02T07:30:00.000Z"`},
		{time.Date(2026, 12, 2, 7, 30, 0, 123456789, time.UTC), `"2026-12-02T07:30:00.123Z"`, `"2026-12-02T07:30:00.123Z"`},
		// Cut, never rounded: the last nanosecond of a day stays in it.
		{time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC), `"2026-12-31T23:59:59.999Z"`, `"2026-12-31T23:59:59.999Z"`},
		{time.Date(2026, 3, 8, 3, 0, 0, 5e8, ny), `"2026-03-08T07:00:00.500Z"`, `"2026-03-08T03:00:00.500-04:00"`},
		{time.Date(2026, 11, 1, 1, 30, 0, 0, time.FixedZone("", 5*3600+1800)), `"2026-10-31T20:00:00.000Z"`, `"2026-11-01T01:30:00.000+05:30"`},
		{time.Time{}, `"0001-01-01T00:00:00.000Z"`, `"0001-01-01T00:00:00.000Z"`},
	} {
		if b, err := json.Marshal(apiTime(c.in)); err != nil || string(b) != c.utc {
			t.Errorf("apiTime(%v) = %s %v, want %s", c.in, b, err, c.utc)
		}
		if b, err := json.Marshal(zonedTime(c.in)); err != nil || string(b) != c.zoned {
			t.Errorf("zonedTime(%v) = %s %v, want %s", c.in, b, err, c.zoned)
		}
	}
	if _, err := json.Marshal(apiTime(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))); err == nil {
		t.Error("year 10000 encoded")
	}
	if b, _ := json.Marshal(struct {
		P *apiTime `json:"p"`
		Q *apiTime `json:"q,omitempty"`
	}{}); string(b) != `{"p":null}` {
		t.Errorf("nil times: %s", b)
	}
}

func TestPairedDuration(t *testing.T) {
	d := func(s string) *time.Duration {
		v, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	f := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		name    string
		text    *time.Duration
		seconds *float64
		want    time.Duration
		ok      bool
		code    string
	}{
		{"neither", nil, nil, 0, false, ""},
		{"text", d("90s"), nil, 90 * time.Second, true, ""},
		{"seconds", nil, f(90), 90 * time.Second, true, ""},
		{"fractional seconds", nil, f(0.25), 250 * time.Millisecond, true, ""},
		{"nanoseconds round", nil, f(1.0000000005), time.Second + time.Nanosecond, true, ""},
		{"both agree", d("1h"), f(3600), time.Hour, true, ""},
		{"both agree to the nanosecond", d("1.000000001s"), f(1.000000001), time.Second + time.Nanosecond, true, ""},
		{"both disagree", d("1h"), f(60), 0, false, codeConflictingFields},
		{"negative", nil, f(-1), 0, false, "invalid_field"},
		{"too large", nil, f(1e10), 0, false, "invalid_field"},
	} {
		got, ok, err := pairedDuration("timeout", c.text, c.seconds)
		var ae *Error
		code := ""
		if errors.As(err, &ae) {
			code = ae.Code
		}
		if got != c.want || ok != c.ok || code != c.code {
			t.Errorf("%s: %v %v %v, want %v %v %q", c.name, got, ok, err, c.want, c.ok, c.code)
		}
	}
}

// jsonNames lists the JSON names of a struct type's fields, as
// encoding/json names them (embedded structs flattened).
func jsonNames(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case name == "-":
		case f.Anonymous && name == "" && ft.Kind() == reflect.Struct:
			out = append(out, jsonNames(ft)...)
		case name == "":
			out = append(out, f.Name)
		default:
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// views pairs each stored record with the view answers show of it, and
// the fields the view adds beyond each duration's _seconds twin.
var views = []struct {
	record, view reflect.Type
	added        []string
	schema       string // its OpenAPI schema
}{
	{reflect.TypeFor[job.Spec](), reflect.TypeFor[jobView](), []string{"next_fires", "schedule_text", "last_run", "schedule_change", "warnings"}, "Job"},
	{reflect.TypeFor[snapshot.Snapshot](), reflect.TypeFor[snapshotView](), []string{"timeout", "retry_backoff", "pending_reason"}, "Snapshot"},
	{reflect.TypeFor[snapshot.Run](), reflect.TypeFor[runView](), []string{"duration"}, "Run"},
	{reflect.TypeFor[cluster.Group](), reflect.TypeFor[groupView](), []string{"clients"}, "Group"},
	{reflect.TypeFor[cluster.Client](), reflect.TypeFor[clientView](), nil, "Client"},
	{reflect.TypeFor[cluster.Node](), reflect.TypeFor[nodeView](), []string{"leader"}, "Node"},
	{reflect.TypeFor[audit.Entry](), reflect.TypeFor[auditView](), nil, "AuditEntry"},
}

// renamed are the stored fields that views show under another name.
var renamed = map[string]string{"timeout_ns": "timeout", "retry_backoff_ns": "retry_backoff"}

// TestViewsShowEveryField: each view has every field of its record (a
// field added to a record and not to its view would vanish from the API),
// renamed only where etcd's name is not the API's, and no other fields than
// the twins and what it adds; the OpenAPI schema lists the same fields.
func TestViewsShowEveryField(t *testing.T) {
	schemas := schemas()
	for _, v := range views {
		want := slices.Clone(v.added)
		for _, n := range jsonNames(v.record) {
			if r, ok := renamed[n]; ok {
				n = r
			}
			want = append(want, n)
		}
		got := jsonNames(v.view)
		for _, n := range got {
			if base, ok := strings.CutSuffix(n, "_seconds"); ok && slices.Contains(got, base) {
				want = append(want, n)
			}
		}
		sort.Strings(want)
		want = slices.Compact(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s shows %v; want %v (the fields of %s)", v.view, got, want, v.record)
		}
		var props []string
		for k := range schemas[v.schema].(map[string]any)["properties"].(map[string]any) {
			props = append(props, k)
		}
		sort.Strings(props)
		if !slices.Equal(props, got) {
			t.Errorf("the OpenAPI schema %s lists %v; the answer has %v", v.schema, props, got)
		}
	}
}

// TestViewsHoldNoRawTimes: no type an answer is built from holds a
// time.Time, a time.Duration or a job.Duration (whose encodings are not the
// API's), and every <name>_seconds has its <name>.
func TestViewsHoldNoRawTimes(t *testing.T) {
	raw := []reflect.Type{reflect.TypeFor[time.Time](), reflect.TypeFor[time.Duration](), reflect.TypeFor[job.Duration]()}
	answers := []reflect.Type{reflect.TypeFor[triggered](), reflect.TypeFor[fireView](), reflect.TypeFor[statsBucket](),
		reflect.TypeFor[scheduleChangeView](), reflect.TypeFor[whoami](), reflect.TypeFor[Error]()}
	for _, v := range views {
		answers = append(answers, v.view)
	}
	seen := map[reflect.Type]bool{}
	var check func(reflect.Type, string)
	check = func(ty reflect.Type, path string) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
			ty = ty.Elem()
		}
		if slices.Contains(raw, ty) {
			t.Errorf("%s is a %s", path, ty)
		}
		if ty.Kind() != reflect.Struct || seen[ty] {
			return
		}
		seen[ty] = true
		names := jsonNames(ty)
		for _, n := range names {
			if base, ok := strings.CutSuffix(n, "_seconds"); ok && !slices.Contains(names, base) {
				t.Errorf("%s has %s without %s", ty, n, base)
			}
		}
		for f := range ty.Fields() {
			check(f.Type, path+"."+f.Name)
		}
	}
	for _, ty := range answers {
		check(ty, ty.String())
	}
}
