package worker

import "errors"

// A worker may hand its runs to another process instead of running them
// itself — pink's HTTP worker protocol does, for workers in any language:
// Config.Admit lets that process's demand bound what the worker claims,
// Wake tells it the demand changed, and Config.Reported tells each
// result's fate (ErrRefused for a zombie's).

// Wake makes the worker look at its assigned work again: what Admit
// admits has changed.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// admit is how many of n startable runs to start (Config.Admit).
func (w *Worker) admit(n int) int {
	if w.cfg.Admit == nil || n <= 0 {
		return n
	}
	return max(min(w.cfg.Admit(n), n), 0)
}

// ErrRefused is what Config.Reported is given for a result the leader's
// fencing refused: the run was moved to another worker or canceled while
// this one ran it.
var ErrRefused = errors.New("worker: result refused: the run was moved or canceled while it ran")
