// Package egress decides which network destinations the http target may
// connect to. A job's URL is written by whoever may create jobs, and the
// worker that calls it sits inside the network, next to etcd; so every
// connection the target makes (the first and each redirect's) is checked
// on the IP address it really connects to, after name resolution, and
// DNS rebinding cannot slip past the check.
//
// The order of the rules:
//  1. always denied, whatever the allow list: the worker's own etcd
//     endpoints and listen address (on any address of this host);
//  2. the deny list (--http-deny);
//  3. the allow list's addresses and CIDRs (--http-allow) allow what they
//     name, link-local and loopback included;
//  4. denied by default: link-local addresses (cloud metadata services),
//     and loopback unless the policy allows it (pink dev does). A host name
//     rule never opens these: whoever controls a name's DNS could point it
//     at the metadata service;
//  5. the allow list's host names allow what they name;
//  6. with an allow list, anything it does not name is denied.
//
// Host name rules match the name the job wrote, so they are only as firm
// as that name's DNS; CIDR rules are the firm ones.
package egress

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// Config describes a policy.
type Config struct {
	// Allow and Deny list CIDRs ("10.0.0.0/8"), addresses ("10.1.2.3") and
	// host names ("api.example.com", or "*.example.com" for its
	// subdomains).
	Allow, Deny []string
	// Protected are host:port addresses no job may reach: the worker's etcd
	// endpoints and its own listen address. The port is protected on every
	// address that reaches this host (loopback, unspecified, and the
	// addresses given), so a different spelling of the address does not
	// reach the same server. SetProtected replaces them while the policy is
	// in use.
	Protected []string
	// AllowLoopback lets jobs call loopback addresses without an allow
	// rule (pink dev, where everything runs on the laptop).
	AllowLoopback bool
}

// Policy is a checked Config.
type Policy struct {
	allow, deny rules
	protected   atomic.Pointer[[]protected]
	loopback    bool
	// local are the addresses that reach this host, for protected ports.
	local []netip.Addr
}

type rules struct {
	nets  []netip.Prefix
	hosts []string // lower case; "*.x" matches subdomains of x
	raw   []string // as given, index-aligned: nets first, then hosts
}

type protected struct {
	name  string // as given, for messages
	host  string // lower case host name or address
	addrs []netip.Addr
	port  uint16
	// local says the address is this host's: then the port is protected on
	// every address that reaches this host.
	local bool
}

var (
	linkLocal4 = netip.MustParsePrefix("169.254.0.0/16")
	linkLocal6 = netip.MustParsePrefix("fe80::/10")
)

// New checks cfg and returns its policy.
func New(cfg Config) (*Policy, error) {
	p := &Policy{loopback: cfg.AllowLoopback, local: localAddrs()}
	var err error
	if p.allow, err = parseRules("--http-allow", cfg.Allow); err != nil {
		return nil, err
	}
	if p.deny, err = parseRules("--http-deny", cfg.Deny); err != nil {
		return nil, err
	}
	if err := p.SetProtected(context.Background(), cfg.Protected); err != nil {
		return nil, err
	}
	return p, nil
}

// SetProtected replaces the protected host:port addresses, resolving host
// names now: a worker calls it again as etcd's members change and as their
// names come to resolve elsewhere. On error the policy keeps its old list.
func (p *Policy) SetProtected(ctx context.Context, hostPorts []string) error {
	list := make([]protected, 0, len(hostPorts))
	for _, hp := range hostPorts {
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			return fmt.Errorf("protected address %q: %w", hp, err)
		}
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return fmt.Errorf("protected address %q: bad port", hp)
		}
		pr := protected{name: hp, host: normalHost(host), port: uint16(n), local: strings.EqualFold(host, "localhost")}
		if a, err := netip.ParseAddr(host); err == nil {
			pr.addrs = []netip.Addr{normalAddr(a)}
		} else if addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host); err == nil {
			for _, a := range addrs {
				pr.addrs = append(pr.addrs, normalAddr(a))
			}
		}
		for _, a := range pr.addrs {
			pr.local = pr.local || p.isLocal(a)
		}
		list = append(list, pr)
	}
	p.protected.Store(&list)
	return nil
}

// ProtectedFromURLs lists the host:port of each endpoint URL (etcd's
// http://host:port, or host:port without a scheme as etcd's client accepts
// it), for Config.Protected; an endpoint without a port counts with its
// scheme's. Unix sockets are not network destinations and are left out.
func ProtectedFromURLs(endpoints []string) []string {
	var out []string
	for _, e := range endpoints {
		if !strings.Contains(e, "://") {
			e = "http://" + e
		}
		u, err := url.Parse(e)
		if err != nil || u.Host == "" || strings.HasPrefix(u.Scheme, "unix") {
			continue
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"https": "443"}[u.Scheme]
			if port == "" {
				port = "80"
			}
		}
		out = append(out, net.JoinHostPort(u.Hostname(), port))
	}
	return out
}

// normalHost is a host name as rules compare it: lower case, without the
// trailing dot of a fully qualified name ("x.example.com." is
// "x.example.com").
func normalHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// normalAddr is an address as rules compare it: IPv4 unmapped, and without
// an IPv6 zone (fe80::1%eth0 is fe80::1, which netip prefixes would not
// otherwise contain).
func normalAddr(a netip.Addr) netip.Addr { return a.WithZone("").Unmap() }

func parseRules(flag string, entries []string) (rules, error) {
	var r rules
	var hosts []string
	for _, e := range entries {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
			continue
		case strings.Contains(e, "/"):
			pfx, err := netip.ParsePrefix(e)
			if err != nil {
				return r, fmt.Errorf("%s %q: not a CIDR such as 10.0.0.0/8", flag, e)
			}
			r.nets = append(r.nets, pfx.Masked())
			r.raw = append(r.raw, e)
		default:
			if a, err := netip.ParseAddr(e); err == nil {
				a = normalAddr(a)
				r.nets = append(r.nets, netip.PrefixFrom(a, a.BitLen()))
				r.raw = append(r.raw, e)
				continue
			}
			h := strings.ToLower(strings.TrimSuffix(e, "."))
			if !validHostPattern(h) {
				return r, fmt.Errorf("%s %q: not a CIDR, an address or a host name (api.example.com, *.example.com)", flag, e)
			}
			hosts = append(hosts, h)
		}
	}
	r.hosts = hosts
	r.raw = append(r.raw, hosts...)
	return r, nil
}

func validHostPattern(h string) bool {
	h = strings.TrimPrefix(h, "*.")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return false
		}
	}
	return true
}

// match returns the rule of r that names host or addr, or "".
func (r rules) match(host string, addr netip.Addr) string {
	return cmp.Or(r.matchNet(addr), r.matchHost(host))
}

// matchNet returns the address or CIDR rule of r that holds addr, or "".
func (r rules) matchNet(addr netip.Addr) string {
	for i, n := range r.nets {
		if n.Contains(addr) {
			return r.raw[i]
		}
	}
	return ""
}

// matchHost returns the host name rule of r that names host, or "".
func (r rules) matchHost(host string) string {
	for _, h := range r.hosts {
		if h == host || (strings.HasPrefix(h, "*.") && strings.HasSuffix(host, h[1:])) {
			return h
		}
	}
	return ""
}

// DeniedError is a connection the policy refused. Rule says which rule, in
// words an operator can act on.
type DeniedError struct {
	Dest string // host:port as the job named it
	Addr string // the address it resolved to
	Rule string
	// Kind names the rule's kind, for metrics: protected, deny_list,
	// link_local, loopback or not_allowed.
	Kind string
}

func (e *DeniedError) Error() string {
	if e.Addr != "" && !strings.HasPrefix(e.Dest, e.Addr) {
		return fmt.Sprintf("egress denied: %s (%s): %s", e.Dest, e.Addr, e.Rule)
	}
	return fmt.Sprintf("egress denied: %s: %s", e.Dest, e.Rule)
}

// ErrorCode is the code of a run refused by the policy.
func (e *DeniedError) ErrorCode() string { return "egress_denied" }

// Check decides a connection to addr:port for the host name host (the URL's
// host, lower case; an address when the URL has one). It returns nil or a
// *DeniedError.
func (p *Policy) Check(host string, addr netip.Addr, port uint16) error {
	addr, host = normalAddr(addr), normalHost(host)
	dest := net.JoinHostPort(host, strconv.Itoa(int(port)))
	deny := func(kind, rule string) error {
		return &DeniedError{Dest: dest, Addr: addr.String(), Rule: rule, Kind: kind}
	}
	for _, pr := range *p.protected.Load() {
		if port == pr.port && (host == pr.host || slices.Contains(pr.addrs, addr) || (pr.local && p.isLocal(addr))) {
			return deny("protected", fmt.Sprintf("%s is an etcd endpoint or the listen address of this worker: always denied", pr.name))
		}
	}
	if rule := p.deny.match(host, addr); rule != "" {
		return deny("deny_list", fmt.Sprintf("denied by --http-deny %s", rule))
	}
	if p.allow.matchNet(addr) != "" {
		return nil
	}
	// Only an address or CIDR rule opens these: a name rule would let
	// whoever controls the name's DNS point it here.
	switch {
	case linkLocal4.Contains(addr) || linkLocal6.Contains(addr):
		return deny("link_local", "link-local addresses (cloud metadata services) are denied by default; allow one with --http-allow "+addr.String())
	case (addr.IsLoopback() || addr.IsUnspecified()) && !p.loopback:
		return deny("loopback", "loopback addresses are denied by default; allow one with --http-allow "+addr.String())
	case p.allow.matchHost(host) != "":
		return nil
	case len(p.allow.raw) > 0:
		return deny("not_allowed", "not in the allow list (--http-allow)")
	}
	return nil
}

// isLocal reports whether addr reaches this host.
func (p *Policy) isLocal(addr netip.Addr) bool {
	return addr.IsLoopback() || addr.IsUnspecified() || slices.Contains(p.local, addr)
}

// localAddrs are the addresses of this host's interfaces.
func localAddrs() []netip.Addr {
	ifAddrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range ifAddrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out
}

// Resolver looks up a host name's addresses; net.DefaultResolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DialContext returns a dial function for an http.Transport that resolves
// each host itself, checks every address against the policy, and connects
// only to an address it allowed: what was checked is what is connected to.
func (p *Policy) DialContext(d *net.Dialer, r Resolver) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, portStr, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		port, err := strconv.ParseUint(portStr, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("bad port in %q", address)
		}
		host = strings.ToLower(host)
		addrs, err := lookup(ctx, r, host)
		if err != nil {
			return nil, err
		}
		var denied, dialErr error
		for _, a := range addrs {
			if err := p.Check(host, a, uint16(port)); err != nil {
				denied = cmp.Or(denied, err)
				continue
			}
			conn, err := d.DialContext(ctx, network, net.JoinHostPort(a.String(), portStr))
			if err == nil {
				return conn, nil
			}
			dialErr = err
		}
		if dialErr != nil {
			return nil, dialErr
		}
		return nil, denied
	}
}

func lookup(ctx context.Context, r Resolver, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, errors.New("no address for " + host)
	}
	return addrs, nil
}
