package job

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeSpec: any body decodes to a spec or to a *DecodeError, and any
// decoded spec validates to nil or a *FieldError — never a panic. A valid
// spec's schedule parses and yields increasing fire times.
func FuzzDecodeSpec(f *testing.F) {
	f.Add([]byte(`{"name":"a","group":"g","schedule":"*/5 * * * *","target":"http","params":{"url":"http://x/"}}`))
	f.Add([]byte(`{"name":"a","group":"g","schedule":"@every 10s","timezone":"Europe/Berlin","target":"shell","params":{"command":["true"]},"timeout":"30s","labels":{"team":"x"}}`))
	f.Add([]byte(`{"name":5}`))
	f.Add([]byte(`{"retries":"3","timeout":30}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"params":{"command":"echo"},"target":"shell"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var s Spec
		err := DecodeStrict(bytes.NewReader(body), &s)
		var de *DecodeError
		if err != nil {
			if !errors.As(err, &de) {
				t.Fatalf("decode error of type %T: %v", err, err)
			}
			return
		}
		s.ApplyDefaults()
		err = s.Validate()
		var fe *FieldError
		if err != nil {
			if !errors.As(err, &fe) || fe.Code == "" || fe.Field == "" {
				t.Fatalf("validation error %T %v", err, err)
			}
			return
		}
		sched, err := s.ParsedSchedule()
		if err != nil {
			t.Fatalf("valid spec, unparsable schedule: %v", err)
		}
		prev := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, next := range sched.NextN(prev, 3) {
			if !next.After(prev) {
				t.Fatalf("fires not increasing: %s then %s", prev, next)
			}
			prev = next
		}
	})
}

// FuzzParseSchedule: any expression and zone parse or fail cleanly; a
// parsed schedule's fires strictly increase, also across DST.
func FuzzParseSchedule(f *testing.F) {
	for _, seed := range [][2]string{
		{"* * * * *", ""}, {"*/7 1-3 * * mon-fri", "America/New_York"}, {"30 2 * 3 0", "Europe/Berlin"},
		{"@every 1h30m", "Asia/Kolkata"}, {"0 0 29 2 *", "UTC"}, {"TZ=UTC 0 * * * *", ""}, {"@every", ""},
		{"59 59 23 31 12 6", "Australia/Lord_Howe"}, {"1-59/0 * * * *", ""},
		{"0 0 */2 * sat-sun", "Europe/Berlin"}, {"0 0 29 2 */7", "UTC"}, {"0 0 L * 5#3", ""}, {"*/61 ? * * *", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, expr, tz string) {
		s, err := ParseSchedule(expr, tz)
		if err != nil {
			return
		}
		prev := time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)
		for _, f := range s.Preview(prev, 5) {
			if !f.At.After(prev) {
				t.Fatalf("%q in %q: %s not after %s", expr, tz, f.At, prev)
			}
			prev = f.At
		}
	})
}

// FuzzParams: params of any depth, and header and environment values of
// any bytes, validate to nil or a *FieldError naming a params field, never
// a panic; valid params nest at most MaxParamsDepth levels and carry no CR,
// LF or NUL where a request or a process would trip over them; and masking
// them for viewers always yields JSON.
func FuzzParams(f *testing.F) {
	f.Add(3, "X-Team", "data", "MODE", "fast")
	f.Add(40, "Authorization", "Bearer a\r\nX-Evil: 1", "A", "x\x00y")
	f.Add(0, "", "", "=", "")
	f.Fuzz(func(t *testing.T, depth int, header, value, envName, envValue string) {
		depth = depth % 64
		nested := strings.Repeat("[", max(depth, 0)) + strings.Repeat("]", max(depth, 0))
		if depth <= 0 {
			nested = "1"
		}
		h, _ := json.Marshal(map[string]string{header: value})
		e, _ := json.Marshal(map[string]string{envName: envValue})
		for _, c := range []struct{ target, params string }{
			{TargetHTTP, `{"url":"http://x/","headers":` + string(h) + `}`},
			{TargetShell, `{"command":["run",` + strconv.Quote(value) + `],"env":` + string(e) + `}`},
			{"sdk", `{"deep":` + nested + `}`},
		} {
			s := Spec{Name: "j", Group: "g", Schedule: "@hourly", Target: c.target, Params: json.RawMessage(c.params)}
			s.ApplyDefaults()
			err := s.Validate()
			var fe *FieldError
			switch {
			case err != nil && (!errors.As(err, &fe) || !strings.HasPrefix(fe.Field, "params")):
				t.Fatalf("%s params %q: error %T %v", c.target, c.params, err, err)
			case err == nil && JSONDepth(s.Params) > MaxParamsDepth:
				t.Fatalf("accepted params %d levels deep", JSONDepth(s.Params))
			case err == nil && c.target == TargetHTTP && strings.ContainsAny(value, "\r\n\x00"):
				t.Fatalf("accepted header value %q", value)
			case err == nil && c.target == TargetShell && strings.ContainsAny(value+envValue, "\x00"):
				t.Fatalf("accepted NUL in %q / %q", value, envValue)
			}
			if !json.Valid(RedactParams(s.Target, s.Params)) {
				t.Fatalf("RedactParams(%s) is not JSON", s.Params)
			}
		}
	})
}
