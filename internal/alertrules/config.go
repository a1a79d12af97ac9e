// Package alertrules generates pink's Prometheus rules — the recording
// rules and the alerts of alerts/pink-alerts.yml and of the Helm chart's
// PrometheusRule — from one definition, for the labels and selectors of a
// deployment: the label that tells pink clusters apart, the scrape job of
// the schedulers and where the runbooks live. The committed files are the
// output for DefaultConfig; `pink alert-rules` prints them for others.
package alertrules

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Config is what differs between deployments.
type Config struct {
	// ClusterLabel is the label, set on every series of one pink cluster
	// (a target label in the scrape configuration), that every rule
	// aggregates by, so that two clusters in one Prometheus do not mix.
	// Series without it form one cluster.
	ClusterLabel string
	// SchedulerSelector selects the scheduler nodes' `up` series: the
	// label matchers of their scrape job, without braces.
	SchedulerSelector string
	// RunbookURL is the runbooks page; each alert links to its section.
	RunbookURL string
}

// DefaultConfig is the configuration of the committed rules: the
// examples' scrape job and target label, the runbooks on GitHub.
func DefaultConfig() Config {
	return Config{
		ClusterLabel:      "cluster",
		SchedulerSelector: `job="pink-scheduler"`,
		RunbookURL:        "https://github.com/pink-scheduler/pink/blob/main/docs/runbooks.md",
	}
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// matcher is one label matcher of a selector: name, operator, quoted value.
var matcher = regexp.MustCompile(`^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*$`)

// ErrInvalid is wrapped by every error about a setting or a name given to
// this package: a mistake of its caller.
var ErrInvalid = errors.New("invalid")

// invalidError is a caller's mistake: its text is the message alone.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, args ...any) error {
	return &invalidError{fmt.Sprintf(format, args...)}
}

// Validate says what is wrong with c, naming the setting.
func (c Config) Validate() error {
	if !labelName.MatchString(c.ClusterLabel) || strings.HasPrefix(c.ClusterLabel, "__") {
		return invalid("cluster label %q: want a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)", c.ClusterLabel)
	}
	if strings.TrimSpace(c.SchedulerSelector) == "" {
		return invalid("scheduler selector is empty: want label matchers such as job=\"pink-scheduler\"")
	}
	for _, m := range splitMatchers(c.SchedulerSelector) {
		if !matcher.MatchString(m) {
			return invalid("scheduler selector %q: %q is not a label matcher (name, one of = != =~ !~, a double-quoted value)", c.SchedulerSelector, m)
		}
	}
	u, err := url.Parse(c.RunbookURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		return invalid("runbook URL %q: want an absolute http(s) URL without a #fragment (each alert adds its own)", c.RunbookURL)
	}
	return nil
}

// splitMatchers splits a selector at the commas outside quoted values.
func splitMatchers(sel string) []string {
	var out []string
	start, quoted, escaped := 0, false, false
	for i, r := range sel {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && quoted:
			escaped = true
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			out = append(out, sel[start:i])
			start = i + 1
		}
	}
	return append(out, sel[start:])
}

// expand puts c's labels and selector into a rule's text: $cluster is the
// cluster label, $scheduler the scheduler selector.
func (c Config) expand(s string) string {
	return strings.NewReplacer("$cluster", c.ClusterLabel, "$scheduler", c.SchedulerSelector).Replace(s)
}
