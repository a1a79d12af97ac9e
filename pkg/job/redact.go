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

// RedactParams returns the params of a job of target with every
// credential-looking value masked, for readers who may see a job but not
// its credentials: the value of any object member whose name is Sensitive
// (header, environment variable or any param at any depth), and the user
// info and credential-looking query values of any URL. A secret reference
// ({"secret": "NAME"}) is kept where target resolves one (the http
// target's url, body and header values, the shell target's command and
// env values): it names a secret without holding it. Anywhere else an
// object of that shape is plain data, masked like any other. Params that
// do not parse are returned masked whole.
func RedactParams(target string, params json.RawMessage) json.RawMessage {
	if len(params) == 0 {
		return params
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return json.RawMessage(`"` + Masked + `"`)
	}
	if m, ok := v.(map[string]any); ok {
		redactTop(target, m)
	} else {
		v = redactValue(v, false, false)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return json.RawMessage(`"` + Masked + `"`)
	}
	return bytes.TrimRight(out.Bytes(), "\n")
}

// refPlaces are where each built-in target resolves secret references:
// a param that may be one itself (refValue), or a map or list whose every
// value may be one (refEach).
var refPlaces = map[string]map[string]refPlace{
	TargetHTTP:  {"url": refValue, "body": refValue, "headers": refEach},
	TargetShell: {"command": refEach, "env": refEach},
}

type refPlace int

const (
	refNone refPlace = iota
	refValue
	refEach
)

// redactTop masks the members of a target's params object m in place.
func redactTop(target string, m map[string]any) {
	places := refPlaces[target]
	for k, e := range m {
		sensitive := Sensitive(k)
		switch x := e.(type) {
		case map[string]any:
			if places[k] != refEach {
				m[k] = redactValue(e, sensitive, places[k] == refValue)
				continue
			}
			for name, v := range x {
				x[name] = redactValue(v, sensitive || Sensitive(name), true)
			}
		case []any:
			for i, v := range x {
				x[i] = redactValue(v, sensitive, places[k] == refEach)
			}
		default:
			m[k] = redactValue(e, sensitive, false)
		}
	}
}

// redactValue masks v if sensitive, else masks what it holds; refOK says a
// secret reference is allowed here (and so shown, as it holds no secret).
func redactValue(v any, sensitive, refOK bool) any {
	switch x := v.(type) {
	case map[string]any:
		if refOK && isSecretRef(x) {
			return x
		}
		if sensitive {
			return Masked
		}
		for k, e := range x {
			x[k] = redactValue(e, Sensitive(k), false)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = redactValue(e, sensitive, false)
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

// redactURL masks the user info (a password, or a user name alone, which
// is how many services take a token: https://TOKEN@host) and the
// credential-looking query values of s if it is an absolute URL; other
// strings are returned as they are.
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
	} else if u.User != nil {
		u.User = url.User(Masked)
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
	s = strings.Replace(u.String(), ":"+url.PathEscape(Masked)+"@", ":"+Masked+"@", 1)
	return strings.Replace(s, "//"+url.PathEscape(Masked)+"@", "//"+Masked+"@", 1)
}
