package job

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRedactParams(t *testing.T) {
	tests := []struct {
		name, target, in, want string
	}{
		{"credential headers masked, others kept", TargetHTTP,
			`{"url":"https://api.example.com/run","headers":{"Authorization":"Bearer abc","Proxy-Authorization":"Basic x","Cookie":"s=1","X-Api-Key":"k1","X-Team":"data"}}`,
			`{"headers":{"Authorization":"***","Cookie":"***","Proxy-Authorization":"***","X-Api-Key":"***","X-Team":"data"},"url":"https://api.example.com/run"}`},
		{"secret references are not secret", TargetHTTP,
			`{"headers":{"Authorization":{"secret":"API_TOKEN"}},"url":{"secret":"hook"},"body":{"secret":"payload"}}`,
			`{"body":{"secret":"payload"},"headers":{"Authorization":{"secret":"API_TOKEN"}},"url":{"secret":"hook"}}`},
		{"shell references", TargetShell,
			`{"command":["deploy",{"secret":"ARG"}],"env":{"DB_PASSWORD":{"secret":"db"},"TOKEN":"t0ps3cret"}}`,
			`{"command":["deploy",{"secret":"ARG"}],"env":{"DB_PASSWORD":{"secret":"db"},"TOKEN":"***"}}`},
		{"a header called secret is a header, not a reference", TargetHTTP,
			`{"url":"https://x.example.com","headers":{"secret":"hunter2"}}`,
			`{"headers":{"secret":"***"},"url":"https://x.example.com"}`},
		{"a variable called secret is a variable", TargetShell,
			`{"command":["env"],"env":{"secret":"hunter2"}}`,
			`{"command":["env"],"env":{"secret":"***"}}`},
		{"no references in other targets' params", "report",
			`{"secret":"hunter2","api_key":{"secret":"hunter3"},"nested":{"x":{"secret":"hunter4"}}}`,
			`{"api_key":"***","nested":{"x":{"secret":"***"}},"secret":"***"}`},
		{"no references deeper than the target resolves them", TargetHTTP,
			`{"url":"https://x.example.com","headers":{"X-Token":{"secret":{"secret":"a"}}},"extra":{"secret":"hunter2"}}`,
			`{"extra":{"secret":"***"},"headers":{"X-Token":"***"},"url":"https://x.example.com"}`},
		{"environment names", TargetShell,
			`{"command":["psql"],"env":{"PGPASSWORD":"pw","GITHUB_TOKEN":"t","DB_SECRET":"s","SSH_KEY":"k","MODE":"fast"}}`,
			`{"command":["psql"],"env":{"DB_SECRET":"***","GITHUB_TOKEN":"***","MODE":"fast","PGPASSWORD":"***","SSH_KEY":"***"}}`},
		{"url password and query credentials", TargetHTTP,
			`{"url":"https://user:hunter2@example.com/x?token=SECRETQUERY77&page=2"}`,
			`{"url":"https://user:***@example.com/x?page=2&token=***"}`},
		{"url with a token as its user", TargetHTTP,
			`{"url":"https://ghp_abc123@github.com/org/repo"}`,
			`{"url":"https://***@github.com/org/repo"}`},
		{"any depth, any value type", "report",
			`{"db":{"password":12345,"hosts":["a","b"],"auth":{"user":"u"}},"api_key":true}`,
			`{"api_key":"***","db":{"auth":"***","hosts":["a","b"],"password":"***"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(RedactParams(tt.target, json.RawMessage(tt.in)))
			if got != tt.want {
				t.Errorf("RedactParams:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
	if got := string(RedactParams(TargetHTTP, json.RawMessage(`{"broken`))); got != `"***"` {
		t.Errorf("unparsable params: %s", got)
	}
}

func TestJSONDepth(t *testing.T) {
	for in, want := range map[string]int{
		`1`: 0, `"[["`: 0, `{}`: 1, `[1,[2]]`: 2, `{"a":{"b":[{}]}}`: 4, `{"a":"\"[[["}`: 1,
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000): 10000,
	} {
		if got := JSONDepth([]byte(in)); got != want {
			t.Errorf("JSONDepth(%.30q) = %d, want %d", in, got, want)
		}
	}
}
