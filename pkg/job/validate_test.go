package job

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func validSpec() Spec {
	s := Spec{Name: "nightly-backup", Group: "default", Schedule: "0 3 * * *", Target: "shell",
		Params: json.RawMessage(`{"command":["backup","--all"]}`)}
	s.ApplyDefaults()
	return s
}

func TestApplyDefaults(t *testing.T) {
	s := Spec{Name: "a", Group: "g", Schedule: "@hourly", Target: "x"}
	s.ApplyDefaults()
	want := Spec{Name: "a", Group: "g", Schedule: "@hourly", Target: "x", Timezone: "UTC",
		Timeout: Duration(time.Hour), RetryBackoff: Duration(10 * time.Second), Concurrency: ConcurrencyAllow,
		Misfire: MisfireRunOnce, CatchupWindow: Duration(time.Hour), Strategy: StrategyRoundRobin, Shards: 1,
		Params: json.RawMessage("{}")}
	got, _ := json.Marshal(s)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Errorf("defaults:\n got %s\nwant %s", got, exp)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Spec)
		field  string
		code   string
	}{
		{"valid", func(*Spec) {}, "", ""},
		{"valid http target", func(s *Spec) {
			s.Target, s.Params = "http", json.RawMessage(`{"url":"https://example.com/hook","method":"post","expect_status":204}`)
		}, "", ""},
		{"valid sdk target", func(s *Spec) { s.Target, s.Params = "billing.send-invoices", json.RawMessage(`{"any":1}`) }, "", ""},
		{"name empty", func(s *Spec) { s.Name = "" }, "name", CodeInvalidName},
		{"name upper case", func(s *Spec) { s.Name = "Backup" }, "name", CodeInvalidName},
		{"name with slash", func(s *Spec) { s.Name = "a/b" }, "name", CodeInvalidName},
		{"name with @", func(s *Spec) { s.Name = "a@b" }, "name", CodeInvalidName},
		{"name starts with dash", func(s *Spec) { s.Name = "-a" }, "name", CodeInvalidName},
		{"name 64 characters", func(s *Spec) { s.Name = strings.Repeat("a", 64) }, "name", CodeInvalidName},
		{"name 63 characters", func(s *Spec) { s.Name = strings.Repeat("a", 63) }, "", ""},
		{"group invalid", func(s *Spec) { s.Group = "Default" }, "group", CodeInvalidName},
		{"schedule invalid", func(s *Spec) { s.Schedule = "every day" }, "schedule", CodeInvalidSchedule},
		{"timezone unknown", func(s *Spec) { s.Timezone = "Europe/Atlantis" }, "timezone", CodeInvalidTimezone},
		{"target empty", func(s *Spec) { s.Target = "" }, "target", CodeInvalidField},
		{"target with space", func(s *Spec) { s.Target = "a b" }, "target", CodeInvalidField},
		{"params not an object", func(s *Spec) { s.Params = json.RawMessage(`[1,2]`) }, "params", CodeInvalidField},
		{"params too large", func(s *Spec) {
			s.Target, s.Params = "x", json.RawMessage(`{"a":"`+strings.Repeat("x", MaxParamsBytes)+`"}`)
		}, "params", CodeInvalidField},
		{"shell without command", func(s *Spec) { s.Params = json.RawMessage(`{}`) }, "params.command", CodeInvalidField},
		{"shell command as string", func(s *Spec) { s.Params = json.RawMessage(`{"command":"echo hi"}`) }, "params", CodeInvalidField},
		{"shell unknown param", func(s *Spec) { s.Params = json.RawMessage(`{"command":["x"],"cwd":"/"}`) }, "params", CodeInvalidField},
		{"http relative url", func(s *Spec) { s.Target, s.Params = "http", json.RawMessage(`{"url":"/hook"}`) }, "params.url", CodeInvalidField},
		{"http ftp url", func(s *Spec) { s.Target, s.Params = "http", json.RawMessage(`{"url":"ftp://x/y"}`) }, "params.url", CodeInvalidField},
		{"http bad method", func(s *Spec) { s.Target, s.Params = "http", json.RawMessage(`{"url":"http://x/","method":"BREW"}`) }, "params.method", CodeInvalidField},
		{"http bad status", func(s *Spec) {
			s.Target, s.Params = "http", json.RawMessage(`{"url":"http://x/","expect_status":[200,999]}`)
		}, "params.expect_status", CodeInvalidField},
		{"params nested too deep", func(s *Spec) {
			s.Target, s.Params = "x", json.RawMessage(`{"a":`+strings.Repeat("[", MaxParamsDepth)+strings.Repeat("]", MaxParamsDepth)+`}`)
		}, "params", CodeInvalidField},
		{"params nested as deep as allowed", func(s *Spec) {
			s.Target, s.Params = "x", json.RawMessage(`{"a":`+strings.Repeat("[", MaxParamsDepth-1)+strings.Repeat("]", MaxParamsDepth-1)+`}`)
		}, "", ""},
		{"brackets in strings do not nest", func(s *Spec) {
			s.Target, s.Params = "x", json.RawMessage(`{"a":"`+strings.Repeat("[{", 100)+`\"]"}`)
		}, "", ""},
		{"http header value with CR LF", func(s *Spec) {
			s.Target, s.Params = "http", json.RawMessage(`{"url":"http://x/","headers":{"X-Team":"a\r\nX-Evil: 1"}}`)
		}, "params.headers.X-Team", CodeInvalidField},
		{"http header name with colon", func(s *Spec) {
			s.Target, s.Params = "http", json.RawMessage(`{"url":"http://x/","headers":{"X:Team":"a"}}`)
		}, "params.headers", CodeInvalidField},
		{"http secret references", func(s *Spec) {
			s.Target, s.Params = "http", json.RawMessage(`{"url":{"secret":"hook-url"},"headers":{"Authorization":{"secret":"API_TOKEN"}},"body":{"secret":"payload.json"}}`)
		}, "", ""},
		{"http bad secret name", func(s *Spec) {
			s.Target, s.Params = "http", json.RawMessage(`{"url":"http://x/","headers":{"Authorization":{"secret":"../etc/passwd"}}}`)
		}, "params", CodeInvalidField},
		{"http secret reference with other keys", func(s *Spec) {
			s.Target, s.Params = "http", json.RawMessage(`{"url":"http://x/","headers":{"Authorization":{"secret":"T","value":"x"}}}`)
		}, "params", CodeInvalidField},
		{"shell argument with NUL", func(s *Spec) { s.Params = json.RawMessage(`{"command":["echo","a\u0000b"]}`) }, "params.command[1]", CodeInvalidField},
		{"shell env value with NUL", func(s *Spec) { s.Params = json.RawMessage(`{"command":["env"],"env":{"A":"x\u0000"}}`) }, "params.env.A", CodeInvalidField},
		{"shell secret references", func(s *Spec) {
			s.Params = json.RawMessage(`{"command":["psql",{"secret":"DB_URL"}],"env":{"PGPASSWORD":{"secret":"db-password"}}}`)
		}, "", ""},
		{"timeout negative", func(s *Spec) { s.Timeout = Duration(-time.Second) }, "timeout", CodeInvalidField},
		{"timeout too long", func(s *Spec) { s.Timeout = MaxTimeout + 1 }, "timeout", CodeInvalidField},
		{"retries negative", func(s *Spec) { s.Retries = -1 }, "retries", CodeInvalidField},
		{"retries too many", func(s *Spec) { s.Retries = MaxRetries + 1 }, "retries", CodeInvalidField},
		{"backoff negative", func(s *Spec) { s.RetryBackoff = Duration(-1) }, "retry_backoff", CodeInvalidField},
		{"concurrency unknown", func(s *Spec) { s.Concurrency = "sometimes" }, "concurrency", CodeInvalidField},
		{"misfire unknown", func(s *Spec) { s.Misfire = "run_twice" }, "misfire", CodeInvalidField},
		{"catchup window too long", func(s *Spec) { s.CatchupWindow = MaxCatchupWindow + 1 }, "catchup_window", CodeInvalidField},
		{"catchup window under a second", func(s *Spec) { s.CatchupWindow = Duration(500 * time.Millisecond) }, "catchup_window", CodeInvalidField},
		{"strategy unknown", func(s *Spec) { s.Strategy = "nearest" }, "strategy", CodeInvalidField},
		{"shards too many", func(s *Spec) { s.Shards = MaxShards + 1 }, "shards", CodeInvalidField},
		{"shards with broadcast", func(s *Spec) { s.Shards, s.Strategy = 2, StrategyBroadcast }, "shards", CodeInvalidField},
		{"label name invalid", func(s *Spec) { s.Labels = map[string]string{"team-name": "x"} }, "labels", CodeInvalidField},
		{"label value long", func(s *Spec) { s.Labels = map[string]string{"team": strings.Repeat("x", 257)} }, "labels", CodeInvalidField},
		{"alert threshold not a number", func(s *Spec) { s.Labels = map[string]string{AlertFailuresLabel: "three"} }, "labels", CodeInvalidField},
		{"alert threshold zero", func(s *Spec) { s.Labels = map[string]string{AlertFailuresLabel: "0"} }, "labels", CodeInvalidField},
		{"alert threshold past the streak pink counts", func(s *Spec) { s.Labels = map[string]string{AlertFailuresLabel: "101"} }, "labels", CodeInvalidField},
		{"description long", func(s *Spec) { s.Description = strings.Repeat("x", MaxDescriptionBytes+1) }, "description", CodeInvalidField},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := validSpec()
			tc.modify(&s)
			err := s.Validate()
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate() = %v, want a *FieldError", err)
			}
			if fe.Field != tc.field || fe.Code != tc.code {
				t.Errorf("Validate() = {field %q, code %q, %q}, want field %q code %q", fe.Field, fe.Code, fe.Message, tc.field, tc.code)
			}
			if fe.Message == "" {
				t.Error("empty message")
			}
		})
	}
}

func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		code  string
		field string
	}{
		{"valid", `{"name":"a","group":"g","schedule":"@hourly","target":"x","timeout":"30s"}`, "", ""},
		{"empty body", ``, CodeMalformedJSON, ""},
		{"syntax error", `{"name":`, CodeMalformedJSON, ""},
		{"not json", `name=a`, CodeMalformedJSON, ""},
		{"two objects", `{"name":"a"} {"name":"b"}`, CodeMalformedJSON, ""},
		{"unknown field", `{"name":"a","schedul":"@hourly"}`, CodeUnknownField, "schedul"},
		{"array body", `[1]`, CodeWrongType, ""},
		{"name is a number", `{"name":5}`, CodeWrongType, "name"},
		{"retries is a string", `{"retries":"3"}`, CodeWrongType, "retries"},
		{"paused is a string", `{"paused":"yes"}`, CodeWrongType, "paused"},
		{"labels is a list", `{"labels":["a"]}`, CodeWrongType, "labels"},
		{"timeout is a number", `{"timeout":30}`, CodeWrongType, "timeout"},
		{"timeout unparsable", `{"timeout":"30 parsecs"}`, CodeWrongType, "timeout"},
		{"timeout out of range", `{"timeout":"9999999999h"}`, CodeWrongType, "timeout"},
		{"catchup window a number", `{"catchup_window":1}`, CodeWrongType, "catchup_window"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s Spec
			err := DecodeStrict(strings.NewReader(tc.body), &s)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("DecodeStrict = %v", err)
				}
				if s.Timeout != Duration(30*time.Second) {
					t.Errorf("timeout = %s", s.Timeout)
				}
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("DecodeStrict = %v, want a *DecodeError", err)
			}
			if de.Code != tc.code || de.Field != tc.field {
				t.Errorf("DecodeStrict = {code %q field %q %q}, want code %q field %q", de.Code, de.Field, de.Message, tc.code, tc.field)
			}
		})
	}
}

func TestAlertFailures(t *testing.T) {
	for _, tc := range []struct {
		labels map[string]string
		want   int
	}{
		{nil, DefaultAlertFailures},
		{map[string]string{"team": "x"}, DefaultAlertFailures},
		{map[string]string{AlertFailuresLabel: "1"}, 1},
		{map[string]string{AlertFailuresLabel: "100"}, 100},
	} {
		s := Spec{Labels: tc.labels}
		if got := s.AlertFailures(); got != tc.want {
			t.Errorf("labels %v: threshold %d, want %d", tc.labels, got, tc.want)
		}
	}
}
