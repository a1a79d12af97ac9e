// Package executor has pink's built-in targets: "http" calls a URL, "shell"
// runs a command. Both are worker.Handlers; a worker registers them by name.
package executor

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"

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

// HTTP returns the http target: it sends the request described by the
// params and succeeds on a 2xx status, or on one of expect_status. The
// response body is the run's output. A nil client means a default one.
func HTTP(client *http.Client) worker.Handler {
	if client == nil {
		client = &http.Client{Transport: http.DefaultTransport}
	}
	return func(ctx context.Context, run worker.Run) (string, error) {
		p, err := job.DecodeHTTPParams(run.Params)
		if err != nil {
			return "", err
		}
		var body io.Reader
		if p.Body != "" {
			body = strings.NewReader(p.Body)
		}
		req, err := http.NewRequestWithContext(ctx, p.Method, p.URL, body)
		if err != nil {
			return "", fmt.Errorf("build request: %w", err)
		}
		for k, v := range p.Headers {
			req.Header.Set(k, v)
		}
		req.Header.Set(HeaderSnapshotID, run.SnapshotID)
		req.Header.Set(HeaderJob, run.Job)
		req.Header.Set(HeaderScheduledAt, run.ScheduledAt.UTC().Format(time.RFC3339))
		req.Header.Set(HeaderAttempt, strconv.Itoa(run.Attempt))
		req.Header.Set(HeaderShardIndex, strconv.Itoa(run.ShardIndex))
		req.Header.Set(HeaderShardTotal, strconv.Itoa(run.ShardTotal))
		// The called service joins the run's trace.
		telemetry.InjectHTTP(ctx, propagation.HeaderCarrier(req.Header))
		if req.Header.Get("User-Agent") == "" {
			req.Header.Set("User-Agent", "pink-http-target")
		}
		resp, err := client.Do(req)
		if err != nil {
			return "", fmt.Errorf("%s %s: %w", p.Method, redact(p.URL), err)
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(io.LimitReader(resp.Body, snapshot.MaxOutputBytes))
		if err != nil {
			return string(out), fmt.Errorf("read response of %s %s: %w", p.Method, redact(p.URL), err)
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
			return string(out), fmt.Errorf("%s %s: status %d, want %s", p.Method, redact(p.URL), resp.StatusCode, want)
		}
		return string(out), nil
	}
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
