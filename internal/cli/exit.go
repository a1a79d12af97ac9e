package cli

import (
	"context"
	"errors"
	"net/http"

	"github.com/pink-scheduler/pink/pkg/client"
)

// Exit codes. Scripts can tell "not there" from "refused" from "broken".
const (
	ExitOK        = 0
	ExitFailure   = 1 // network trouble, server error, or a failed apply
	ExitUsage     = 2 // bad command line
	ExitNotFound  = 3 // 404
	ExitConflict  = 4 // 409: exists, changed meanwhile, running, forbidden overlap
	ExitDenied    = 5 // 401, 403
	ExitBadInput  = 6 // 400, 413, 415: the server refused the input
	ExitCancelled = 130
)

// ExitCode maps an error of a command to its exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) {
		return ExitCancelled
	}
	if errors.Is(err, ErrUsage) {
		return ExitUsage
	}
	switch s := client.StatusOf(err); {
	case s == http.StatusNotFound:
		return ExitNotFound
	case s == http.StatusConflict:
		return ExitConflict
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return ExitDenied
	case s >= 400 && s < 500:
		return ExitBadInput
	}
	return ExitFailure
}
