package executor

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pink-scheduler/pink/pkg/job"
)

// Secrets resolves the secret references of a job's params on the worker
// that runs it: secret NAME is the file NAME of Dir (one file per secret,
// as Kubernetes mounts them; a trailing newline is dropped), else the
// worker's environment variable PINK_SECRET_NAME (NAME upper-cased, '.' and
// '-' as '_'). Only variables with that prefix can be read, so a job author
// cannot ask for the worker's own credentials (PINK_ETCD_PASSWORD).
type Secrets struct {
	Dir string
}

// EnvName is the environment variable that holds secret name.
func EnvName(name string) string {
	return "PINK_SECRET_" + strings.NewReplacer(".", "_", "-", "_").Replace(strings.ToUpper(name))
}

// MissingSecretError is a reference to a secret this worker does not have.
type MissingSecretError struct{ Name string }

func (e *MissingSecretError) Error() string {
	return fmt.Sprintf("secret %q is not on this worker: put it in the worker's --secrets-dir or in %s", e.Name, EnvName(e.Name))
}

// ErrorCode is the code of a run whose secret is missing.
func (e *MissingSecretError) ErrorCode() string { return "secret_missing" }

// lookup returns the value of secret name.
func (s Secrets) lookup(name string) (string, error) {
	if !job.ValidSecretName(name) {
		return "", &MissingSecretError{Name: name}
	}
	if s.Dir != "" {
		b, err := os.ReadFile(filepath.Join(s.Dir, name))
		switch {
		case err == nil:
			return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
		case !errors.Is(err, os.ErrNotExist):
			return "", fmt.Errorf("read secret %q: %w", name, errors.Unwrap(err))
		}
	}
	if v, ok := os.LookupEnv(EnvName(name)); ok {
		return v, nil
	}
	return "", &MissingSecretError{Name: name}
}

// resolver resolves the values of one run and remembers the secrets it
// resolved, so that they can be masked in the run's output and error.
type resolver struct {
	secrets Secrets
	used    []string
}

func (r *resolver) value(v job.Value) (string, error) {
	if v.Secret == "" {
		return v.Literal, nil
	}
	s, err := r.secrets.lookup(v.Secret)
	if err != nil {
		return "", err
	}
	r.hide(s)
	return s, nil
}

// named resolves the value of a header or variable called name: a literal
// whose name looks like a credential (job.Sensitive) is hidden in the
// output like a secret.
func (r *resolver) named(name string, v job.Value) (string, error) {
	s, err := r.value(v)
	if err == nil && v.Secret == "" && job.Sensitive(name) {
		r.hide(s)
	}
	return s, err
}

// minHidden is the shortest value masked in output: a one-letter secret
// would mask every occurrence of that letter.
const minHidden = 4

// hide remembers s for mask, with the spellings an echoing service or a
// command is likely to print it in: JSON-escaped (with and without HTML
// escapes, as Go and most JSON encoders write it) and URL-encoded.
func (r *resolver) hide(s string) {
	if len(s) < minHidden {
		return
	}
	forms := []string{s, url.QueryEscape(s), url.PathEscape(s)}
	for _, html := range []bool{true, false} {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		_ = enc.Encode(s)
		forms = append(forms, strings.TrimSuffix(strings.TrimSuffix(b.String(), "\n"), `"`)[1:])
	}
	for _, f := range forms {
		if !slices.Contains(r.used, f) {
			r.used = append(r.used, f)
		}
	}
}

// mask replaces every resolved secret in s with job.Masked: a command that
// prints its environment, or a server that echoes its request, does not put
// the secret into history.
func (r *resolver) mask(s string) string {
	for _, v := range r.used {
		s = strings.ReplaceAll(s, v, job.Masked)
	}
	return s
}

// maskErr masks the resolved secrets in err's text, keeping its code.
func (r *resolver) maskErr(err error) error {
	if err == nil || len(r.used) == 0 {
		return err
	}
	if m := r.mask(err.Error()); m != err.Error() {
		return &maskedError{msg: m, err: err}
	}
	return err
}

// maskedError is an error whose text had secrets masked; errors.As still
// finds the original's code.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }
