package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// The read commands print the API's answer as it came (-o json, and -o
// yaml of it): the server's times, durations and fields, not a client's
// re-encoding. They decode the same bytes for their tables.

// get reads the answer at path: as it came, and decoded into v.
func (e Env) get(ctx context.Context, path string, v any) (json.RawMessage, error) {
	return e.send(ctx, http.MethodGet, path, nil, v, nil)
}

// send sends a request (body JSON-encoded unless nil, headers extra) and
// returns the answer as it came, decoded into v too (unless nil).
func (e Env) send(ctx context.Context, method, path string, body, v any, headers map[string]string) (json.RawMessage, error) {
	var raw json.RawMessage
	if err := e.Client.Do(ctx, method, path, body, &raw, headers); err != nil {
		return nil, err
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			return nil, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return raw, nil
}

// list reads every page of the list at path: the answer {key: [...]} with
// the items as they came, and the items decoded into v (a pointer to a
// slice).
func (e Env) list(ctx context.Context, path string, q url.Values, key string, v any) (json.RawMessage, error) {
	items, err := e.Client.List(ctx, path, q, key)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("GET %s: decode %s: %w", path, key, err)
	}
	return json.Marshal(map[string]json.RawMessage{key: b})
}

// query is a url.Values of the pairs whose value is not "".
func query(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q
}
