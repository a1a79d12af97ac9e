package job

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
)

// Masked is what a credential-looking param shows to someone who may not
// read it.
const Masked = "***"

// sensitiveWords make a param, header or variable name look like it holds
// a credential.
var sensitiveWords = []string{"token", "secret", "password", "passwd", "key", "auth", "cookie", "credential", "signature"}

// Sensitive reports whether a param, header or environment variable called
// name looks like it holds a credential: Authorization, Proxy-Authorization,
// Cookie, X-Api-Key, or any name containing token, secret, password or key.
func Sensitive(name string) bool {
	n := strings.ToLower(name)
	for _, w := range sensitiveWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// RedactParams returns params with every credential-looking value masked,
// for readers who may see a job but not its credentials: the value of any
// object member whose name is Sensitive (header, environment variable or
// any param at any depth) unless it is a secret reference, which is not
// secret; and the password and credential-looking query values of any URL.
// Params that do not parse are returned masked whole.
func RedactParams(params json.RawMessage) json.RawMessage {
	if len(params) == 0 {
		return params
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return json.RawMessage(`"` + Masked + `"`)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(redactValue(v, false)); err != nil {
		return json.RawMessage(`"` + Masked + `"`)
	}
	return bytes.TrimRight(out.Bytes(), "\n")
}

func redactValue(v any, sensitive bool) any {
	switch x := v.(type) {
	case map[string]any:
		if isSecretRef(x) {
			return x
		}
		if sensitive {
			return Masked
		}
		for k, e := range x {
			x[k] = redactValue(e, Sensitive(k))
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = redactValue(e, sensitive)
		}
		return x
	case string:
		if sensitive {
			return Masked
		}
		return redactURL(x)
	case json.Number, bool:
		if sensitive {
			return Masked
		}
	}
	return v
}

func isSecretRef(m map[string]any) bool {
	_, ok := m["secret"].(string)
	return ok && len(m) == 1
}

// redactURL masks the password and the credential-looking query values of
// s if it is an absolute URL; other strings are returned as they are.
func redactURL(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	changed := false
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), Masked)
		changed = true
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if Sensitive(k) {
				q[k] = []string{Masked}
				changed = true
			}
		}
		if changed {
			u.RawQuery = strings.ReplaceAll(q.Encode(), url.QueryEscape(Masked), Masked)
		}
	}
	if !changed {
		return s
	}
	return strings.Replace(u.String(), ":"+url.PathEscape(Masked)+"@", ":"+Masked+"@", 1)
}
