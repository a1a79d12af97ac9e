// Package executor has pink's built-in targets: "http" calls a URL, "shell"
// runs a command. Both are worker.Handlers; a worker registers them by name.
package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/pink-scheduler/pink/internal/egress"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// Headers the http target sends with every request, so the called service
// can dedupe retries (Pink-Snapshot-Id is the same for every attempt) and
// tell runs apart.
const (
	HeaderSnapshotID  = "Pink-Snapshot-Id"
	HeaderJob         = "Pink-Job"
	HeaderScheduledAt = "Pink-Scheduled-At"
	HeaderAttempt     = "Pink-Attempt"
	HeaderShardIndex  = "Pink-Shard-Index"
	HeaderShardTotal  = "Pink-Shard-Total"
)

// HTTPConfig configures the http target.
type HTTPConfig struct {
	// Egress decides what the target may connect to; every connection,
	// redirects included, is checked on the address it really dials.
	Egress *egress.Policy
	// Secrets resolves the secret references of the params.
	Secrets Secrets
	// Denied is told of each run the egress policy refused: its group and
	// the kind of rule (egress.DeniedError.Kind).
	Denied func(group, kind string)
}

// HTTP returns the http target: it sends the request described by the
// params and succeeds on a 2xx status, or on one of expect_status. The
// response body (its first 64 KiB) is the run's output.
func HTTP(cfg HTTPConfig) worker.Handler {
	if cfg.Egress == nil {
		cfg.Egress, _ = egress.New(egress.Config{})
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	client := &http.Client{
		Transport: &http.Transport{
			// No proxy from the environment: the egress policy must see the
			// real destination.
			Proxy:                 nil,
			DialContext:           cfg.Egress.DialContext(dialer, net.DefaultResolver),
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		CheckRedirect: checkRedirect,
	}
	return func(ctx context.Context, run worker.Run) (string, error) {
		res := &resolver{secrets: cfg.Secrets}
		out, err := call(ctx, client, run, res)
		var denied *egress.DeniedError
		if errors.As(err, &denied) && cfg.Denied != nil {
			cfg.Denied(run.Group, denied.Kind)
		}
		return res.mask(out), res.maskErr(err)
	}
}

// redirects is how one run's request may be redirected; it travels in
// the request's context to checkRedirect.
type redirects struct {
	none bool // follow_redirects: false
	// credentials are the headers that carry a secret or a
	// credential-looking literal: they are not sent to another host.
	credentials []string
	// secretBody: a body resolved from a secret is not sent to another host.
	secretBody bool
}

type redirectsKey struct{}

// checkRedirect follows at most job.MaxRedirects redirects, none for a job
// with follow_redirects false (its 3xx is the answer). The egress policy
// checks each redirect's connection as it checks the first. A redirect to
// another host gets none of the run's credentials: Go's client drops only
// Authorization and Cookie, and a secret in X-Api-Key would otherwise
// follow an open redirect anywhere.
func checkRedirect(req *http.Request, via []*http.Request) error {
	rd, _ := req.Context().Value(redirectsKey{}).(*redirects)
	if rd != nil && rd.none {
		return http.ErrUseLastResponse
	}
	if len(via) > job.MaxRedirects {
		return fmt.Errorf("stopped after %d redirects", job.MaxRedirects)
	}
	if rd == nil || strings.EqualFold(req.URL.Host, via[0].URL.Host) {
		return nil
	}
	for _, h := range rd.credentials {
		req.Header.Del(h)
	}
	if rd.secretBody && req.Body != nil && req.Body != http.NoBody {
		return fmt.Errorf("redirected to another host (%s): the body holds a secret and is not sent there", redact(req.URL.String()))
	}
	return nil
}

// call sends one run's request and reads its answer.
func call(ctx context.Context, client *http.Client, run worker.Run, res *resolver) (string, error) {
	p, err := job.DecodeHTTPParams(run.Params)
	if err != nil {
		return "", err
	}
	req, err := buildRequest(ctx, p, run, res)
	if err != nil {
		return "", err
	}
	// The URL in error texts, which viewers read: a secret URL (a webhook
	// with its token in the path) by its name only.
	target := p.Method + " " + redact(req.URL.String())
	if p.URL.Secret != "" {
		target = fmt.Sprintf("%s secret %q", p.Method, p.URL.Secret)
	}
	req, end := clientSpan(req, p.URL.Secret != "")
	resp, err := client.Do(req)
	if err != nil {
		end(0, err)
		var ue *url.Error
		if errors.As(err, &ue) {
			// url.Error prints the whole URL, query and all.
			err = ue.Err
		}
		return "", fmt.Errorf("%s: %w", target, err)
	}
	defer resp.Body.Close()
	end(resp.StatusCode, nil)
	out, err := readOutput(resp.Body)
	if err != nil {
		return out, fmt.Errorf("read response of %s: %w", target, err)
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if len(p.ExpectStatus) > 0 {
		ok = slices.Contains(p.ExpectStatus, resp.StatusCode)
	}
	if !ok {
		want := "2xx"
		if len(p.ExpectStatus) > 0 {
			want = fmt.Sprint([]int(p.ExpectStatus))
		}
		return out, fmt.Errorf("%s: status %d, want %s", target, resp.StatusCode, want)
	}
	return out, nil
}

// clientSpan starts the request's CLIENT span under the run's span and
// puts its traceparent on the request, so that the called service's spans
// are its children. The span's URL is redacted like an error's; a URL that
// is a secret shows its scheme and host only.
func clientSpan(req *http.Request, secretURL bool) (*http.Request, func(int, error)) {
	u := redact(req.URL.String())
	if secretURL {
		u = req.URL.Scheme + "://" + req.URL.Host
	}
	port, _ := strconv.Atoi(req.URL.Port())
	if port == 0 {
		port = map[string]int{"http": 80, "https": 443}[req.URL.Scheme]
	}
	ctx, end := telemetry.StartHTTPClient(req.Context(), telemetry.HTTPRequest{Method: req.Method, URL: u, Address: req.URL.Hostname(), Port: port})
	req = req.WithContext(ctx)
	telemetry.InjectHTTP(ctx, propagation.HeaderCarrier(req.Header))
	return req, end
}

// buildRequest makes the request of params p, with the secrets resolved
// and pink's headers set.
func buildRequest(ctx context.Context, p job.HTTPParams, run worker.Run, res *resolver) (*http.Request, error) {
	rawURL, err := res.value(p.URL)
	if err != nil {
		return nil, err
	}
	if p.URL.Secret != "" && validURL(rawURL) != nil {
		return nil, fmt.Errorf("secret %q holds no absolute http:// or https:// URL", p.URL.Secret)
	}
	var body io.Reader
	if b, err := res.value(p.Body); err != nil {
		return nil, err
	} else if b != "" {
		body = strings.NewReader(b)
	}
	rd := &redirects{none: p.FollowRedirects != nil && !*p.FollowRedirects, secretBody: p.Body.Secret != ""}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, redirectsKey{}, rd), p.Method, rawURL, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	for k, v := range p.Headers {
		s, err := res.named(k, v)
		if err != nil {
			return nil, err
		}
		if strings.ContainsAny(s, "\r\n\x00") {
			return nil, fmt.Errorf("header %s: its value holds CR, LF or NUL", k)
		}
		req.Header.Set(k, s)
		if v.Secret != "" || job.Sensitive(k) {
			rd.credentials = append(rd.credentials, k)
		}
	}
	req.Header.Set(HeaderSnapshotID, run.SnapshotID)
	req.Header.Set(HeaderJob, run.Job)
	req.Header.Set(HeaderScheduledAt, run.ScheduledAt.UTC().Format(time.RFC3339))
	req.Header.Set(HeaderAttempt, strconv.Itoa(run.Attempt))
	req.Header.Set(HeaderShardIndex, strconv.Itoa(run.ShardIndex))
	req.Header.Set(HeaderShardTotal, strconv.Itoa(run.ShardTotal))
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "pink-http-target")
	}
	return req, nil
}

func validURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("not an absolute http(s) URL")
	}
	return nil
}

// readOutput reads the first snapshot.MaxOutputBytes of a response body
// (the start of an answer is where an error message usually is) and marks
// a cut as the shell target does.
func readOutput(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, snapshot.MaxOutputBytes+1))
	if len(b) > snapshot.MaxOutputBytes {
		b = append(b[:snapshot.MaxOutputBytes-len(truncatedMarker)-1], "\n"+truncatedMarker...)
	}
	return string(b), err
}

// redact drops credentials and the query (which often holds tokens) from a
// URL before it goes into a run's error text.
func redact(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	if scheme, rest, ok := strings.Cut(raw, "://"); ok {
		if at := strings.IndexByte(rest, '@'); at >= 0 && (strings.IndexByte(rest, '/') < 0 || at < strings.IndexByte(rest, '/')) {
			rest = rest[at+1:]
		}
		raw = scheme + "://" + rest
	}
	return raw
}
