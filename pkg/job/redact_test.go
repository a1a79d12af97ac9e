package job

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRedactParams(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"credential headers masked, others kept",
			`{"url":"https://api.example.com/run","headers":{"Authorization":"Bearer abc","Proxy-Authorization":"Basic x","Cookie":"s=1","X-Api-Key":"k1","X-Team":"data"}}`,
			`{"headers":{"Authorization":"***","Cookie":"***","Proxy-Authorization":"***","X-Api-Key":"***","X-Team":"data"},"url":"https://api.example.com/run"}`},
		{"secret references are not secret",
			`{"headers":{"Authorization":{"secret":"API_TOKEN"}},"url":{"secret":"hook"}}`,
			`{"headers":{"Authorization":{"secret":"API_TOKEN"}},"url":{"secret":"hook"}}`},
		{"environment names",
			`{"command":["psql"],"env":{"PGPASSWORD":"pw","GITHUB_TOKEN":"t","DB_SECRET":"s","SSH_KEY":"k","MODE":"fast"}}`,
			`{"command":["psql"],"env":{"DB_SECRET":"***","GITHUB_TOKEN":"***","MODE":"fast","PGPASSWORD":"***","SSH_KEY":"***"}}`},
		{"url password and query credentials",
			`{"url":"https://user:hunter2@example.com/x?token=SECRETQUERY77&page=2"}`,
			`{"url":"https://user:***@example.com/x?page=2&token=***"}`},
		{"any depth, any value type",
			`{"db":{"password":12345,"hosts":["a","b"],"auth":{"user":"u"}},"api_key":true}`,
			`{"api_key":"***","db":{"auth":"***","hosts":["a","b"],"password":"***"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(RedactParams(json.RawMessage(tt.in)))
			if got != tt.want {
				t.Errorf("RedactParams:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
	if got := string(RedactParams(json.RawMessage(`{"broken`))); got != `"***"` {
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
