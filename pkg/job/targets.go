package job

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Names of the built-in targets every pink worker can run.
const (
	TargetHTTP  = "http"
	TargetShell = "shell"
)

// HTTPParams are the params of the built-in http target.
type HTTPParams struct {
	URL     string            `json:"url"`
	Method  string            `json:"method,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	// ExpectStatus lists the status codes that count as success; empty
	// means any 2xx. A single number is accepted too.
	ExpectStatus StatusList `json:"expect_status,omitempty"`
}

// StatusList is a list of HTTP status codes that also accepts one number.
type StatusList []int

// UnmarshalJSON accepts 204 as well as [200, 204].
func (l *StatusList) UnmarshalJSON(b []byte) error {
	var one int
	if err := json.Unmarshal(b, &one); err == nil {
		*l = StatusList{one}
		return nil
	}
	var many []int
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("expect_status must be a status code or a list of status codes")
	}
	*l = many
	return nil
}

// ShellParams are the params of the built-in shell target. Command is an
// argv array, never a string handed to a shell: no quoting surprises.
type ShellParams struct {
	Command []string          `json:"command"`
	Env     map[string]string `json:"env,omitempty"`
	Dir     string            `json:"dir,omitempty"`
}

func decodeStrict(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	return nil
}

// DecodeHTTPParams decodes and checks http params.
func DecodeHTTPParams(raw json.RawMessage) (HTTPParams, error) {
	var p HTTPParams
	if err := decodeStrict(raw, &p); err != nil {
		return p, fmt.Errorf("http params: %w", err)
	}
	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return p, errors.New("http params: url must be an absolute http:// or https:// URL")
	}
	if p.Method == "" {
		p.Method = "GET"
	}
	p.Method = strings.ToUpper(p.Method)
	switch p.Method {
	case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS":
	default:
		return p, fmt.Errorf("http params: unsupported method %q", truncate(p.Method, 20))
	}
	for _, code := range p.ExpectStatus {
		if code < 100 || code > 599 {
			return p, fmt.Errorf("http params: expect_status %d is not an HTTP status code", code)
		}
	}
	for k := range p.Headers {
		if k == "" || strings.ContainsAny(k, " \r\n:") {
			return p, fmt.Errorf("http params: invalid header name %q", truncate(k, 40))
		}
	}
	return p, nil
}

// DecodeShellParams decodes and checks shell params.
func DecodeShellParams(raw json.RawMessage) (ShellParams, error) {
	var p ShellParams
	if err := decodeStrict(raw, &p); err != nil {
		return p, fmt.Errorf("shell params: %w", err)
	}
	if len(p.Command) == 0 || p.Command[0] == "" {
		return p, errors.New(`shell params: command must be a non-empty argv array such as ["echo", "hello"]`)
	}
	for k := range p.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return p, fmt.Errorf("shell params: invalid environment variable name %q", truncate(k, 40))
		}
	}
	return p, nil
}
