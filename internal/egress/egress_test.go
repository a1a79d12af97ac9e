package egress

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	mustPolicy := func(cfg Config) *Policy {
		p, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	worker := mustPolicy(Config{Protected: []string{"10.0.0.5:2379", "127.0.0.1:9090"}})
	dev := mustPolicy(Config{Protected: []string{"127.0.0.1:2379"}, AllowLoopback: true})
	listed := mustPolicy(Config{Allow: []string{"10.1.0.0/16", "*.example.com", "169.254.169.254", "127.0.0.1/32"},
		Deny: []string{"10.1.2.0/24", "bad.example.com", "fe80::/10"}, Protected: []string{"127.0.0.1:2379"}})
	tests := []struct {
		name   string
		p      *Policy
		host   string
		addr   string
		port   uint16
		denied string // substring of the rule, "" for allowed
	}{
		{"public address", worker, "api.example.org", "93.184.216.34", 443, ""},
		{"etcd endpoint", worker, "10.0.0.5", "10.0.0.5", 2379, "etcd endpoint"},
		{"own listen address", worker, "127.0.0.1", "127.0.0.1", 9090, "always denied"},
		{"own listen address on another loopback spelling", worker, "localhost", "127.0.0.2", 9090, "always denied"},
		{"etcd port elsewhere is another server", worker, "10.0.0.6", "10.0.0.6", 2379, ""},
		{"loopback by default", worker, "127.0.0.1", "127.0.0.1", 8080, "loopback addresses are denied by default"},
		{"unspecified is loopback", worker, "0.0.0.0", "0.0.0.0", 8080, "loopback"},
		{"ipv6 loopback", worker, "::1", "::1", 8080, "loopback"},
		{"mapped ipv4 loopback", worker, "::ffff:127.0.0.1", "::ffff:127.0.0.1", 8080, "loopback"},
		{"metadata service", worker, "169.254.169.254", "169.254.169.254", 80, "link-local"},
		{"ipv6 link-local", worker, "fe80::1", "fe80::1", 80, "link-local"},
		{"ipv6 link-local with a zone", worker, "fe80::1%eth0", "fe80::1%eth0", 80, "link-local"},
		{"zoned address on the deny list", listed, "fe80::1%eth0", "fe80::1%eth0", 80, "--http-deny fe80::/10"},
		{"dev allows loopback", dev, "127.0.0.1", "127.0.0.1", 8080, ""},
		{"dev's etcd on loopback", dev, "localhost", "127.0.0.1", 2379, "always denied"},
		{"dev's etcd on unspecified", dev, "0.0.0.0", "0.0.0.0", 2379, "always denied"},
		{"allow list names a net", listed, "10.1.9.9", "10.1.9.9", 80, ""},
		{"deny list beats allow list", listed, "10.1.2.3", "10.1.2.3", 80, "--http-deny 10.1.2.0/24"},
		{"deny list by name", listed, "bad.example.com", "93.184.216.34", 443, "--http-deny bad.example.com"},
		{"deny list by name, fully qualified", listed, "Bad.Example.Com.", "93.184.216.34", 443, "--http-deny bad.example.com"},
		{"a name rule does not open link-local", listed, "meta.example.com", "169.254.1.1", 80, "link-local addresses"},
		{"a name rule does not open loopback", listed, "local.example.com", "127.0.0.2", 80, "loopback addresses are denied"},
		{"allow list by subdomain", listed, "api.example.com", "93.184.216.34", 443, ""},
		{"allow list does not name the domain itself", listed, "example.com", "93.184.216.34", 443, "not in the allow list"},
		{"allowed metadata", listed, "169.254.169.254", "169.254.169.254", 80, ""},
		{"allowed loopback", listed, "127.0.0.1", "127.0.0.1", 8080, ""},
		{"allow list cannot open etcd", listed, "127.0.0.1", "127.0.0.1", 2379, "always denied"},
		{"outside the allow list", listed, "other.org", "8.8.8.8", 443, "not in the allow list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Check(tt.host, netip.MustParseAddr(tt.addr), tt.port)
			var de *DeniedError
			switch {
			case tt.denied == "" && err != nil:
				t.Errorf("denied: %v", err)
			case tt.denied != "" && !errors.As(err, &de):
				t.Errorf("allowed, want denied (%s)", tt.denied)
			case tt.denied != "" && !strings.Contains(de.Rule, tt.denied):
				t.Errorf("rule %q, want %q", de.Rule, tt.denied)
			case tt.denied != "" && de.ErrorCode() != "egress_denied":
				t.Errorf("code %q", de.ErrorCode())
			}
		})
	}
}

func TestBadRules(t *testing.T) {
	for _, cfg := range []Config{
		{Allow: []string{"10.0.0.0/33"}},
		{Deny: []string{"not a host!"}},
		{Allow: []string{"*."}},
		{Protected: []string{"no-port"}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// fixedResolver answers every name with the same addresses: a name that
// "rebinds" to loopback.
type fixedResolver []netip.Addr

func (r fixedResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return r, nil
}

// TestDialChecksTheResolvedAddress: a public-looking name that resolves to
// loopback is refused at dial time, and a real server behind an allowed
// address is reached.
func TestDialChecksTheResolvedAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	strict, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DialContext: strict.DialContext(&net.Dialer{}, fixedResolver{netip.MustParseAddr("127.0.0.1")})}}
	_, err = client.Get("http://rebinding.example.com:" + port + "/")
	var de *DeniedError
	if !errors.As(err, &de) || !strings.Contains(de.Error(), "rebinding.example.com:"+port+" (127.0.0.1)") {
		t.Fatalf("rebinding name: %v, want egress denied naming the name and the address", err)
	}
	dev, err := New(Config{AllowLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	client = &http.Client{Transport: &http.Transport{DialContext: dev.DialContext(&net.Dialer{}, fixedResolver{netip.MustParseAddr("127.0.0.1")})}}
	resp, err := client.Get("http://rebinding.example.com:" + port + "/")
	if err != nil {
		t.Fatalf("allowed loopback: %v", err)
	}
	resp.Body.Close()
}

func TestProtectedFromURLs(t *testing.T) {
	got := ProtectedFromURLs([]string{"http://127.0.0.1:2379", "https://etcd-1", "http://etcd-2",
		"10.0.0.5:2379", "etcd-3:2379", "[fd00::1]:2379", "unix://localhost:1234", "::bad"})
	want := []string{"127.0.0.1:2379", "etcd-1:443", "etcd-2:80", "10.0.0.5:2379", "etcd-3:2379", "[fd00::1]:2379"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestSetProtected: a replaced list protects the new addresses and frees
// the old ones, as when an etcd member is replaced.
func TestSetProtected(t *testing.T) {
	p, err := New(Config{Protected: []string{"10.0.0.5:2379"}})
	if err != nil {
		t.Fatal(err)
	}
	check := func(addr string) error { return p.Check(addr, netip.MustParseAddr(addr), 2379) }
	if check("10.0.0.5") == nil || check("10.0.0.6") != nil {
		t.Fatalf("before: 10.0.0.5 %v, 10.0.0.6 %v", check("10.0.0.5"), check("10.0.0.6"))
	}
	if err := p.SetProtected(context.Background(), []string{"10.0.0.6:2379"}); err != nil {
		t.Fatal(err)
	}
	if check("10.0.0.5") != nil || check("10.0.0.6") == nil {
		t.Fatalf("after: 10.0.0.5 %v, 10.0.0.6 %v", check("10.0.0.5"), check("10.0.0.6"))
	}
	if err := p.SetProtected(context.Background(), []string{"no-port"}); err == nil || check("10.0.0.6") == nil {
		t.Fatalf("a bad list: %v, and the old one must stay", err)
	}
}
