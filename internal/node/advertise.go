package node

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/pink-scheduler/pink/internal/cluster"
)

// CheckAdvertiseURL says what is wrong with an --advertise-url: it must be
// an http or https URL of a host (and port), nothing after it, since the
// other nodes append the API's paths to it.
func CheckAdvertiseURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	shown := raw
	if err == nil && u.User != nil {
		shown = u.Redacted() // no password in an error
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("--advertise-url %q: give the base URL other scheduler nodes reach this node's API at, such as https://pink-0.pink:8080", shown)
	}
	return nil
}

// advertiseURL is the URL a node registers for other nodes to reach its
// API: the one given, else the address the API is bound to — with the
// host name in place of an unspecified address (0.0.0.0, ::), which
// reaches nothing from another machine.
func advertiseURL(given, bound string, tls bool) string {
	if given != "" {
		return strings.TrimRight(given, "/")
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(bound)
	if err != nil {
		return scheme + "://" + bound
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if h := cluster.Host(); h != "" {
			host = h
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
