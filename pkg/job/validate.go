package job

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Error codes of FieldError. The API returns them as its machine-readable
// error code, so scripts can tell mistakes apart.
const (
	CodeInvalidName     = "invalid_name"
	CodeInvalidSchedule = "invalid_schedule"
	CodeInvalidTimezone = "invalid_timezone"
	CodeInvalidField    = "invalid_field"
)

// Limits on a spec's fields. They keep one job from filling etcd or a page:
// a stored spec is at most MaxSpecBytes.
const (
	MaxSpecBytes        = 80 << 10
	MaxParamsBytes      = 64 << 10
	MaxRetries          = 100
	MaxShards           = 256
	MaxLabels           = 32
	MaxDescriptionBytes = 1024
	MaxHistoryLimit     = 100_000
	MaxTimeout          = Duration(7 * 24 * time.Hour)
	MaxRetryBackoff     = Duration(24 * time.Hour)
	MaxCatchupWindow    = Duration(7 * 24 * time.Hour)
)

// FieldError says which field of a spec is wrong and why.
type FieldError struct {
	Field   string
	Code    string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

var (
	namePattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	targetPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$`)
	labelPattern  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]{0,62}$`)
)

// ValidName reports whether s is a valid job or group name: 1–63 characters
// of a-z, 0-9, '-', '_', '.', starting with a letter or digit.
func ValidName(s string) bool { return namePattern.MatchString(s) }

// ValidTarget reports whether s is a valid target name: what a job runs
// and a worker advertises a handler for.
func ValidTarget(s string) bool { return targetPattern.MatchString(s) }

// CheckName returns a FieldError for field if name is not a valid name.
func CheckName(field, name string) error {
	if !ValidName(name) {
		return &FieldError{Field: field, Code: CodeInvalidName,
			Message: fmt.Sprintf("%q is not a valid name: use 1-63 characters of a-z, 0-9, '-', '_', '.', starting with a letter or digit", truncate(name, 80))}
	}
	return nil
}

// Validate checks a spec after ApplyDefaults and returns the first problem
// as a *FieldError, or nil.
func (s *Spec) Validate() error {
	if err := CheckName("name", s.Name); err != nil {
		return err
	}
	if err := CheckName("group", s.Group); err != nil {
		return err
	}
	if _, err := LoadLocation(s.Timezone); err != nil {
		return &FieldError{Field: "timezone", Code: CodeInvalidTimezone, Message: err.Error()}
	}
	if _, err := ParseSchedule(s.Schedule, s.Timezone); err != nil {
		return &FieldError{Field: "schedule", Code: CodeInvalidSchedule, Message: err.Error()}
	}
	invalid := func(field, format string, args ...any) error {
		return &FieldError{Field: field, Code: CodeInvalidField, Message: fmt.Sprintf(format, args...)}
	}
	if !targetPattern.MatchString(s.Target) {
		return invalid("target", "target must be a handler name such as \"http\", \"shell\" or your SDK handler's name (1-128 characters of A-Z, a-z, 0-9, '.', '_', ':', '/', '-')")
	}
	if err := checkParams(s.Target, s.Params); err != nil {
		return err
	}
	if s.Timeout <= 0 || s.Timeout > MaxTimeout {
		return invalid("timeout", "timeout must be between 1ns and %s, got %s", MaxTimeout, s.Timeout)
	}
	if s.Retries < 0 || s.Retries > MaxRetries {
		return invalid("retries", "retries must be between 0 and %d, got %d", MaxRetries, s.Retries)
	}
	if s.RetryBackoff < 0 || s.RetryBackoff > MaxRetryBackoff {
		return invalid("retry_backoff", "retry_backoff must be between 0s and %s, got %s", MaxRetryBackoff, s.RetryBackoff)
	}
	switch s.Concurrency {
	case ConcurrencyAllow, ConcurrencyForbid, ConcurrencyReplace:
	default:
		return invalid("concurrency", "concurrency must be one of allow, forbid, replace; got %q", truncate(string(s.Concurrency), 40))
	}
	switch s.Misfire {
	case MisfireRunOnce, MisfireSkip, MisfireRunAll:
	default:
		return invalid("misfire", "misfire must be one of run_once, skip, run_all; got %q", truncate(string(s.Misfire), 40))
	}
	if s.CatchupWindow < Duration(time.Second) || s.CatchupWindow > MaxCatchupWindow {
		return invalid("catchup_window", "catchup_window must be between 1s and %s, got %s", MaxCatchupWindow, s.CatchupWindow)
	}
	switch s.Strategy {
	case StrategyRoundRobin, StrategyRandom, StrategyLeastLoaded, StrategyHash, StrategyBroadcast:
	default:
		return invalid("strategy", "strategy must be one of round_robin, random, least_loaded, hash, broadcast; got %q", truncate(string(s.Strategy), 40))
	}
	if s.Shards < 1 || s.Shards > MaxShards {
		return invalid("shards", "shards must be between 1 and %d, got %d", MaxShards, s.Shards)
	}
	if s.Shards > 1 && s.Strategy == StrategyBroadcast {
		return invalid("shards", "shards and strategy broadcast cannot be combined: broadcast already runs once per client")
	}
	if len(s.Labels) > MaxLabels {
		return invalid("labels", "at most %d labels, got %d", MaxLabels, len(s.Labels))
	}
	for k, v := range s.Labels {
		if !labelPattern.MatchString(k) {
			return invalid("labels", "label name %q must match [a-zA-Z_][a-zA-Z0-9_]* (max 63 characters)", truncate(k, 80))
		}
		if len(v) > 256 {
			return invalid("labels", "label %q: value longer than 256 bytes", k)
		}
	}
	if _, err := alertFailures(s.Labels); err != nil {
		return invalid("labels", "%v", err)
	}
	if s.HistoryLimit < 0 || s.HistoryLimit > MaxHistoryLimit {
		return invalid("history_limit", "history_limit must be between 0 (the scheduler's default) and %d, got %d", MaxHistoryLimit, s.HistoryLimit)
	}
	if len(s.Description) > MaxDescriptionBytes {
		return invalid("description", "description longer than %d bytes", MaxDescriptionBytes)
	}
	if b, err := json.Marshal(s); err != nil || len(b) > MaxSpecBytes {
		return invalid("params", "the job spec is larger than %d bytes", MaxSpecBytes)
	}
	return nil
}

func checkParams(target string, params json.RawMessage) error {
	bad := func(field, format string, args ...any) error {
		return &FieldError{Field: field, Code: CodeInvalidField, Message: fmt.Sprintf(format, args...)}
	}
	if len(params) > MaxParamsBytes {
		return bad("params", "params larger than %d bytes", MaxParamsBytes)
	}
	if d := JSONDepth(params); d > MaxParamsDepth {
		return bad("params", "params nest %d levels deep; at most %d", d, MaxParamsDepth)
	}
	trimmed := bytes.TrimSpace(params)
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return bad("params", "params must be a JSON object")
	}
	var err error
	switch target {
	case TargetHTTP:
		_, err = DecodeHTTPParams(params)
	case TargetShell:
		_, err = DecodeShellParams(params)
	}
	var pe *ParamError
	switch {
	case errors.As(err, &pe) && pe.Path != "":
		return bad("params."+pe.Path, "%s", pe.Message)
	case err != nil:
		return bad("params", "%v", err)
	}
	return nil
}

// ValidLabelName reports whether k may be a key of a job's labels: a
// Prometheus label name of at most 63 characters, so that it can become a
// metric label (pink_job_info's label_<key>).
func ValidLabelName(k string) bool { return labelPattern.MatchString(k) }
