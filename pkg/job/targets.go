package job

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Names of the built-in targets every pink worker can run.
const (
	TargetHTTP  = "http"
	TargetShell = "shell"
)

// Value is a param of the built-in targets that is either written in the
// job, as a JSON string, or a reference to a secret, {"secret": "NAME"},
// which only the worker that runs the job resolves (from its secrets
// directory or its environment): a secret's value is never stored in etcd,
// shown by the API, logged or traced.
type Value struct {
	Literal string
	// Secret names the secret when the value is a reference.
	Secret string
}

// Lit is a Value written in the job.
func Lit(s string) Value { return Value{Literal: s} }

// SecretRef is a Value that refers to the secret name.
func SecretRef(name string) Value { return Value{Secret: name} }

// secretName is what a secret may be called: it names a file of the
// worker's secrets directory and a PINK_SECRET_ variable, so no path
// separator and no leading dot.
var secretName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// ValidSecretName reports whether s can name a secret.
func ValidSecretName(s string) bool { return secretName.MatchString(s) }

// MarshalJSON writes a literal as a string and a reference as
// {"secret": "NAME"}.
func (v Value) MarshalJSON() ([]byte, error) {
	if v.Secret != "" {
		return json.Marshal(map[string]string{"secret": v.Secret})
	}
	return json.Marshal(v.Literal)
}

// UnmarshalJSON reads a string or {"secret": "NAME"}.
func (v *Value) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = Value{Literal: s}
		return nil
	}
	var ref struct {
		Secret *string `json:"secret"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ref); err != nil || ref.Secret == nil {
		return errors.New(`want a string or a secret reference {"secret": "NAME"}`)
	}
	if !ValidSecretName(*ref.Secret) {
		return fmt.Errorf("secret name %q: use 1-128 characters of A-Z, a-z, 0-9, '_', '.', '-', not starting with '.' or '-'", truncate(*ref.Secret, 40))
	}
	*v = Value{Secret: *ref.Secret}
	return nil
}

// HTTPParams are the params of the built-in http target.
type HTTPParams struct {
	URL     Value            `json:"url"`
	Method  string           `json:"method,omitempty"`
	Headers map[string]Value `json:"headers,omitempty"`
	Body    Value            `json:"body,omitempty"`
	// ExpectStatus lists the status codes that count as success; empty
	// means any 2xx. A single number is accepted too.
	ExpectStatus StatusList `json:"expect_status,omitempty"`
	// FollowRedirects, when false, makes a 3xx answer the run's answer
	// instead of following it (up to MaxRedirects, each checked by the
	// worker's egress policy).
	FollowRedirects *bool `json:"follow_redirects,omitempty"`
}

// MaxRedirects is how many redirects the http target follows.
const MaxRedirects = 5

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
	Command []Value          `json:"command"`
	Env     map[string]Value `json:"env,omitempty"`
	Dir     string           `json:"dir,omitempty"`
}

// ParamError is a problem with one param of a built-in target; Path is the
// param's place, such as "headers.Authorization" or "command[1]".
type ParamError struct {
	Target, Path, Message string
}

func (e *ParamError) Error() string {
	if e.Path == "" {
		return e.Target + " params: " + e.Message
	}
	return e.Target + " params: " + e.Path + ": " + e.Message
}

func decodeStrict(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// validURL checks a URL the http target may call.
func validURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("url must be an absolute http:// or https:// URL")
	}
	return nil
}

// DecodeHTTPParams decodes and checks http params. A URL given as a secret
// reference is checked when the worker resolves it.
func DecodeHTTPParams(raw json.RawMessage) (HTTPParams, error) {
	var p HTTPParams
	bad := func(path, format string, args ...any) error {
		return &ParamError{Target: TargetHTTP, Path: path, Message: fmt.Sprintf(format, args...)}
	}
	if err := decodeStrict(raw, &p); err != nil {
		return p, bad("", "%v", err)
	}
	if p.URL.Secret == "" {
		if err := validURL(p.URL.Literal); err != nil {
			return p, bad("url", "%v", err)
		}
	}
	if p.Method == "" {
		p.Method = "GET"
	}
	p.Method = strings.ToUpper(p.Method)
	switch p.Method {
	case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS":
	default:
		return p, bad("method", "unsupported method %q", truncate(p.Method, 20))
	}
	for _, code := range p.ExpectStatus {
		if code < 100 || code > 599 {
			return p, bad("expect_status", "%d is not an HTTP status code", code)
		}
	}
	for k, v := range p.Headers {
		if !validHeaderName(k) {
			return p, bad("headers", "invalid header name %q", truncate(k, 40))
		}
		if strings.ContainsAny(v.Literal, "\r\n\x00") {
			return p, bad("headers."+k, "a header value must not contain CR, LF or NUL")
		}
	}
	return p, nil
}

// validHeaderName reports whether k is an HTTP field name (RFC 9110 token).
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range []byte(k) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// DecodeShellParams decodes and checks shell params.
func DecodeShellParams(raw json.RawMessage) (ShellParams, error) {
	var p ShellParams
	bad := func(path, format string, args ...any) error {
		return &ParamError{Target: TargetShell, Path: path, Message: fmt.Sprintf(format, args...)}
	}
	if err := decodeStrict(raw, &p); err != nil {
		return p, bad("", "%v", err)
	}
	if len(p.Command) == 0 || (p.Command[0].Secret == "" && p.Command[0].Literal == "") {
		return p, bad("command", `command must be a non-empty argv array such as ["echo", "hello"]`)
	}
	for i, arg := range p.Command {
		if strings.IndexByte(arg.Literal, 0) >= 0 {
			return p, bad("command["+strconv.Itoa(i)+"]", "an argument must not contain NUL")
		}
	}
	for k, v := range p.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return p, bad("env", "invalid environment variable name %q", truncate(k, 40))
		}
		if strings.IndexByte(v.Literal, 0) >= 0 {
			return p, bad("env."+k, "a value must not contain NUL")
		}
	}
	if strings.IndexByte(p.Dir, 0) >= 0 {
		return p, bad("dir", "dir must not contain NUL")
	}
	return p, nil
}
