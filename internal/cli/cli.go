// Package cli is pink's command line, a cobra command tree: the commands
// that run the parts of a cluster (dev, scheduler, worker: flags mapped
// onto the configs of the composition root, internal/node), pink bench,
// and the API client commands, which call the API through pkg/client and
// print tables for people or JSON/YAML for scripts (-o), with exit codes
// scripts can branch on. cmd/pink only calls Main.
package cli

import (
	"errors"
	"fmt"
	"io"
	"net/url"

	"github.com/pink-scheduler/pink/pkg/client"
)

// Env is what every command needs.
type Env struct {
	Client *client.Client
	Out    io.Writer
	// Err is where warnings go (stderr).
	Err io.Writer
	// Format is how read commands print (-o): table, wide, json, yaml or
	// name.
	Format string
	// Reason is sent with changes, for the audit log.
	Reason string
}

func (e Env) reason() map[string]string {
	if e.Reason == "" {
		return nil
	}
	return map[string]string{"Pink-Reason": e.Reason}
}

func esc(s string) string { return url.PathEscape(s) }

// done reports a change: the API's answer for -o json and yaml, the
// object's kind/name for -o name, else a sentence.
func (e Env) done(v any, name string, format string, args ...any) error {
	switch e.Format {
	case formatJSON:
		return e.printJSON(v)
	case formatYAML:
		return e.printYAML(v)
	case formatName:
		_, err := fmt.Fprintln(e.Out, name)
		return err
	}
	_, err := fmt.Fprintf(e.Out, format+"\n", args...)
	return err
}

// ErrUsage marks a command-line mistake (exit status 2).
var ErrUsage = errors.New("usage")
