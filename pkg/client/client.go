// Package client is a Go client of pink's JSON API, used by the CLI and by
// programs that manage jobs.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Client talks to one pink API address.
type Client struct {
	base     string
	token    string
	http     *http.Client
	pageSize int
}

// Options configure a Client.
type Options struct {
	// Server is the API's base URL, e.g. http://127.0.0.1:8080.
	Server string
	// Token is a bearer token ("" sends none).
	Token string
	// CACert is a PEM file of CAs to trust for an https server.
	CACert  string
	Timeout time.Duration
	// PageSize is the limit the list methods ask each page for (0 means
	// DefaultPageSize); they follow next_cursor until the last page.
	PageSize int
}

// DefaultPageSize is the page size the list methods ask for: the API's
// largest, so listing everything takes few round trips.
const DefaultPageSize = 1000

// maxPages bounds how many pages one list call follows, so a server that
// keeps answering with a cursor cannot loop a client forever.
const maxPages = 100000

// New returns a client.
func New(o Options) (*Client, error) {
	if o.Server == "" {
		return nil, errors.New("no server: set --server or PINK_SERVER")
	}
	// A bare host:port ("127.0.0.1:8080", "localhost:8080") means http.
	if !strings.Contains(o.Server, "://") {
		o.Server = "http://" + o.Server
	}
	u, err := url.Parse(o.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server %q: want a URL such as http://127.0.0.1:8080", o.Server)
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if o.CACert != "" {
		pem, err := os.ReadFile(o.CACert)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", o.CACert)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	return &Client{base: strings.TrimRight(o.Server, "/"), token: o.Token, http: &http.Client{Timeout: o.Timeout, Transport: transport},
		pageSize: o.PageSize}, nil
}

// Error is an error answer of the API.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s (%d %s, field %s)", e.Message, e.Status, e.Code, e.Field)
	}
	return fmt.Sprintf("%s (%d %s)", e.Message, e.Status, e.Code)
}

// StatusOf returns the HTTP status of an API error, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// Do sends a request with body (JSON-encoded unless nil) and decodes a 2xx
// answer into out (if not nil). Headers are extra request headers.
func (c *Client) Do(ctx context.Context, method, path string, body, out any, headers map[string]string) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.unreachable(method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return errorFrom(resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// errorFrom is the error of an API answer with status and body b: the
// API's error object, or the body's text.
func errorFrom(status int, b []byte) error {
	var e struct {
		Error *Error `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != nil {
		e.Error.Status = status
		return e.Error
	}
	return &Error{Status: status, Code: "http_error", Message: strings.TrimSpace(string(b))}
}

// Job is a job as the API returns it.
type Job struct {
	job.Spec
	NextFires []time.Time `json:"next_fires"`
	// Warnings are set only by CreateJob and ReplaceJob: what will not
	// work as the job stands although it was written, such as `no live
	// worker of group "default" runs target "shel" (live workers run:
	// http, shell); fires will wait as pending until one does`. Nil when
	// there is nothing to say. Print them: the write succeeded.
	Warnings []string `json:"warnings,omitempty"`
	// ScheduleText reads the schedule in English with its zone; empty
	// when the expression has no short reading.
	ScheduleText string `json:"schedule_text,omitempty"`
	// LastRun is the outcome of the job's latest finished run; nil before
	// the first.
	LastRun *LastRun `json:"last_run,omitempty"`
}

// LastRun is a job's latest finished run as a job's view carries it.
type LastRun struct {
	// Status is "succeeded" or "failed" (failed, timed out or lost).
	Status     string    `json:"status"`
	FinishedAt time.Time `json:"finished_at"`
}

// listAll reads every page of the list at path (query q, list under key):
// it asks for pages of the client's page size and follows next_cursor
// until a page has none.
func listAll[T any](ctx context.Context, c *Client, path string, q url.Values, key string) ([]T, error) {
	if q == nil {
		q = url.Values{}
	}
	q.Set("limit", fmt.Sprint(c.pageSize))
	all := []T{}
	seen := map[string]bool{}
	for range maxPages {
		var page map[string]json.RawMessage
		if err := c.Do(ctx, http.MethodGet, path+"?"+q.Encode(), nil, &page, nil); err != nil {
			return all, err
		}
		var items []T
		if raw, ok := page[key]; ok {
			if err := json.Unmarshal(raw, &items); err != nil {
				return all, fmt.Errorf("GET %s: decode %s: %w", path, key, err)
			}
		}
		all = append(all, items...)
		var next string
		if raw, ok := page["next_cursor"]; ok {
			if err := json.Unmarshal(raw, &next); err != nil {
				return all, fmt.Errorf("GET %s: decode next_cursor: %w", path, err)
			}
		}
		if next == "" {
			return all, nil
		}
		if seen[next] {
			return all, fmt.Errorf("GET %s: the server repeated cursor %q", path, next)
		}
		seen[next] = true
		q.Set("cursor", next)
	}
	return all, fmt.Errorf("GET %s: more than %d pages", path, maxPages)
}

// List reads every page of the list at path (with query q; nil for
// none), following next_cursor, and returns the items under key as the
// API wrote them.
func (c *Client) List(ctx context.Context, path string, q url.Values, key string) ([]json.RawMessage, error) {
	return listAll[json.RawMessage](ctx, c, path, q, key)
}

// Jobs lists every job by name, of one group if group is not "", reading
// all pages.
func (c *Client) Jobs(ctx context.Context, group string) ([]Job, error) {
	q := url.Values{}
	if group != "" {
		q.Set("group", group)
	}
	return listAll[Job](ctx, c, "/api/v1/jobs", q, "jobs")
}

// Job reads one job.
func (c *Client) Job(ctx context.Context, name string) (Job, error) {
	var out Job
	err := c.Do(ctx, http.MethodGet, "/api/v1/jobs/"+url.PathEscape(name), nil, &out, nil)
	return out, err
}

// CreateJob creates a job. The job returned carries the API's warnings
// (Job.Warnings), if any.
func (c *Client) CreateJob(ctx context.Context, spec job.Spec, reason string) (Job, error) {
	var out Job
	err := c.Do(ctx, http.MethodPost, "/api/v1/jobs", spec, &out, reasonHeader(reason))
	return out, err
}

// ReplaceJob replaces a job; a non-zero spec.Revision makes it conditional.
// The job returned carries the API's warnings (Job.Warnings), if any.
func (c *Client) ReplaceJob(ctx context.Context, spec job.Spec, reason string) (Job, error) {
	var out Job
	err := c.Do(ctx, http.MethodPut, "/api/v1/jobs/"+url.PathEscape(spec.Name), spec, &out, reasonHeader(reason))
	return out, err
}

// DeleteJob deletes a job.
func (c *Client) DeleteJob(ctx context.Context, name, reason string) error {
	return c.Do(ctx, http.MethodDelete, "/api/v1/jobs/"+url.PathEscape(name), nil, nil, reasonHeader(reason))
}

// Group is a group as the API returns it.
type Group struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	Clients     int       `json:"clients"`
}

// Groups lists every group by name, reading all pages.
func (c *Client) Groups(ctx context.Context) ([]Group, error) {
	return listAll[Group](ctx, c, "/api/v1/groups", nil, "groups")
}

// CreateGroup creates a group.
func (c *Client) CreateGroup(ctx context.Context, name, description, reason string) error {
	return c.Do(ctx, http.MethodPost, "/api/v1/groups", map[string]string{"name": name, "description": description}, nil, reasonHeader(reason))
}

// UpdateGroup changes a group's description.
func (c *Client) UpdateGroup(ctx context.Context, name, description, reason string) error {
	return c.Do(ctx, http.MethodPut, "/api/v1/groups/"+url.PathEscape(name), map[string]string{"description": description}, nil, reasonHeader(reason))
}

// RunPage is a page of runs.
type RunPage struct {
	Runs       []snapshot.Run `json:"runs"`
	NextCursor string         `json:"next_cursor"`
}

// Runs lists a job's runs, newest first.
func (c *Client) Runs(ctx context.Context, jobName, status string, limit int, cursor string) (RunPage, error) {
	q := url.Values{"job": {jobName}}
	if status != "" {
		q.Set("status", status)
	}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var out RunPage
	err := c.Do(ctx, http.MethodGet, "/api/v1/runs?"+q.Encode(), nil, &out, nil)
	return out, err
}

func reasonHeader(reason string) map[string]string {
	if reason == "" {
		return nil
	}
	return map[string]string{"Pink-Reason": reason}
}

// Base is the server's base URL, as the client calls it.
func (c *Client) Base() string { return c.base }

// RunFilter selects runs for RunsWhere: of one job, or across jobs by
// group and nominal time (the API refuses a job with group, since or until).
type RunFilter struct {
	Job, Group, Status string
	Since, Until       time.Time
}

// RunsWhere returns a page of runs, newest first, that f selects.
func (c *Client) RunsWhere(ctx context.Context, f RunFilter, limit int, cursor string) (RunPage, error) {
	var out RunPage
	err := c.Do(ctx, http.MethodGet, "/api/v1/runs?"+f.Query(limit, cursor).Encode(), nil, &out, nil)
	return out, err
}

// Query is the query of GET /api/v1/runs that asks for a page of the
// runs f selects.
func (f RunFilter) Query(limit int, cursor string) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"job": f.Job, "group": f.Group, "status": f.Status, "cursor": cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.UTC().Format(time.RFC3339))
	}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	return q
}
