package node

import (
	"net"
	"testing"

	"github.com/pink-scheduler/pink/internal/cluster"
)

func TestAdvertiseURL(t *testing.T) {
	host := cluster.Host()
	for _, c := range []struct {
		given, bound string
		tls          bool
		want         string
	}{
		{"", "127.0.0.1:8080", false, "http://127.0.0.1:8080"},
		{"", "127.0.0.1:8443", true, "https://127.0.0.1:8443"},
		{"", "0.0.0.0:8080", false, "http://" + net.JoinHostPort(host, "8080")},
		{"", "[::]:8080", true, "https://" + net.JoinHostPort(host, "8080")},
		{"", "[::1]:8080", false, "http://[::1]:8080"},
		{"https://pink-0.pink:8080/", "0.0.0.0:8080", true, "https://pink-0.pink:8080"},
	} {
		if got := advertiseURL(c.given, c.bound, c.tls); got != c.want {
			t.Errorf("advertiseURL(%q, %q, %v) = %q, want %q", c.given, c.bound, c.tls, got, c.want)
		}
	}
}

func TestCheckAdvertiseURL(t *testing.T) {
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"", true},
		{"http://10.0.0.1:8080", true},
		{"https://pink-0.pink:8080/", true},
		{"pink-0:8080", false},
		{"ftp://pink-0:8080", false},
		{"http://", false},
		{"http://pink-0:8080/api", false},
		{"http://pink-0:8080?x=1", false},
		{"http://user:pw@pink-0:8080", false},
	} {
		if err := CheckAdvertiseURL(c.url); (err == nil) != c.ok {
			t.Errorf("CheckAdvertiseURL(%q) = %v, want ok %v", c.url, err, c.ok)
		}
	}
}
