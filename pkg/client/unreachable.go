package client

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// ErrUnreachable is wrapped by the error of a call that reached no pink
// server at all (nothing listens, no such host): what to do then is
// different from an answer the server gave.
var ErrUnreachable = errors.New("cannot reach pink")

// unreachable words a transport error so that a person knows what to do:
// "nothing listens" is the common case (pink is not running, or runs
// elsewhere); others keep their cause.
func (c *Client) unreachable(method, path string, err error) error {
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w at %s (connection refused): is it running? start one with 'pink dev', or set --server / PINK_SERVER", ErrUnreachable, c.base)
	case errors.As(err, &dns):
		return fmt.Errorf("%w at %s (no such host %q): check --server / PINK_SERVER", ErrUnreachable, c.base, dns.Name)
	}
	return fmt.Errorf("%s %s: %w", method, path, err)
}
