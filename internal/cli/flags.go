package cli

import (
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/pink-scheduler/pink/internal/node"
)

// flags defines a command's flags on its pflag set; the connection flags
// fall back to an environment variable: --etcd-endpoints reads
// PINK_ETCD_ENDPOINTS when not given. Only the flags in envFlags do; every
// other flag (what a command does, such as --prune, --force, --group) is
// read from the command line only, so a stray variable in the environment
// cannot change what a command does.
type flags struct {
	fs      *pflag.FlagSet
	envErrs []string
	// checks validate values once parsed; check reports their errors.
	checks []func() error
}

// envFlags are the flags with an environment fallback: where to connect and
// with which credentials, how to print and log. docs/security.md and the
// README list them.
var envFlags = map[string]bool{
	// API client: server, credentials, output format.
	"server": true, "token": true, "ca-cert": true, "output": true,
	// etcd: endpoints, key prefix, TLS and users.
	"etcd-endpoints": true, "root": true, "etcd-cacert": true, "etcd-cert": true, "etcd-key": true,
	"etcd-username": true, "etcd-password": true,
	// Servers: where to listen, TLS, the tokens file.
	"listen": true, "tls-cert": true, "tls-key": true, "api-tokens-file": true, "cluster-name": true,
	"advertise-url": true,
	// Logging.
	"log-format": true, "log-level": true,
}

func newFlags(fs *pflag.FlagSet) *flags {
	fs.SortFlags = false
	return &flags{fs: fs}
}

func envName(flagName string) string {
	return "PINK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// env returns the environment value of a flag that has one, and the usage
// text naming its variable.
func (f *flags) env(name, usage string) (string, bool, string) {
	if !envFlags[name] {
		return "", false, usage
	}
	v, ok := os.LookupEnv(envName(name))
	return v, ok, usage + " (env " + envName(name) + ")"
}

func (f *flags) string(name, def, usage string) *string { return f.stringP(name, "", def, usage) }

// stringP is a string flag with a one-letter shorthand (-o, -f).
func (f *flags) stringP(name, short, def, usage string) *string {
	v, ok, usage := f.env(name, usage)
	if ok {
		def = v
	}
	return f.fs.StringP(name, short, def, usage)
}

func (f *flags) bool(name string, def bool, usage string) *bool {
	v, ok, usage := f.env(name, usage)
	if ok {
		switch strings.ToLower(v) {
		case "1", "true", "yes":
			def = true
		case "0", "false", "no", "":
			def = false
		default:
			f.envErrs = append(f.envErrs, fmt.Sprintf("%s=%q is not a boolean", envName(name), v))
		}
	}
	return f.fs.Bool(name, def, usage)
}

func (f *flags) int(name string, def int, usage string) *int { return f.intP(name, "", def, usage) }

// intP is an int flag with a one-letter shorthand (-n).
func (f *flags) intP(name, short string, def int, usage string) *int {
	v, ok, usage := f.env(name, usage)
	if ok {
		if _, err := fmt.Sscan(v, &def); err != nil {
			f.envErrs = append(f.envErrs, fmt.Sprintf("%s=%q is not an integer", envName(name), v))
		}
	}
	return f.fs.IntP(name, short, def, usage)
}

func (f *flags) duration(name string, def time.Duration, usage string) *time.Duration {
	v, ok, usage := f.env(name, usage)
	if ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			f.envErrs = append(f.envErrs, fmt.Sprintf("%s=%q is not a duration", envName(name), v))
		}
		def = d
	}
	return f.fs.Duration(name, def, usage)
}

// check reports the environment values that did not parse: a usage error,
// like a bad flag.
func (f *flags) check() error {
	if len(f.envErrs) > 0 {
		return fmt.Errorf("%w: %s", ErrUsage, strings.Join(f.envErrs, "; "))
	}
	for _, c := range f.checks {
		if err := c(); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
	}
	return nil
}

// logFlags are the logging flags every long-running command has.
type logFlags struct {
	format, level *string
}

func addLogFlags(f *flags) logFlags {
	return logFlags{
		format: f.string("log-format", "text", "log format: text or json"),
		level:  f.string("log-level", "info", "log level: debug, info, warn or error"),
	}
}

func (l logFlags) logger(f *flags, w interface{ Write([]byte) (int, error) }) (*slog.Logger, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	log, err := node.NewLogger(w, *l.format, *l.level)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	return log, nil
}

// clusterName matches a --cluster-name: what a Prometheus label value
// naming a cluster looks like in practice, and safe in a file name or URL.
var clusterName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// addClusterFlag is --cluster-name of the long-running commands.
func addClusterFlag(f *flags) *string {
	name := f.string("cluster-name", "", "name of this pink cluster in its metrics (pink_build_info's cluster label); give Prometheus' cluster target label the same value (docs/observability.md)")
	f.checks = append(f.checks, func() error {
		if *name != "" && !clusterName.MatchString(*name) {
			return fmt.Errorf("--cluster-name %q: want 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit", *name)
		}
		return nil
	})
	return name
}

// etcdFlags are the flags that say how to reach etcd.
type etcdFlags struct {
	endpoints, root, cacert, cert, key, username, password *string
	cluster                                                *string
}

func addEtcdFlags(f *flags) etcdFlags {
	return etcdFlags{
		endpoints: f.string("etcd-endpoints", "", "comma-separated etcd client URLs, e.g. http://127.0.0.1:2379"),
		root:      f.string("root", "/pink", "etcd key prefix of this pink cluster"),
		cacert:    f.string("etcd-cacert", "", "CA certificate (PEM) that signed etcd's server certificate"),
		cert:      f.string("etcd-cert", "", "client certificate (PEM) for etcd's client-certificate auth"),
		key:       f.string("etcd-key", "", "client key (PEM) of --etcd-cert"),
		username:  f.string("etcd-username", "", "etcd user"),
		password:  f.string("etcd-password", "", "etcd password (prefer the environment: flags show in ps)"),
		cluster:   addClusterFlag(f),
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (e etcdFlags) config() node.EtcdConfig {
	return node.EtcdConfig{Endpoints: splitList(*e.endpoints), Root: *e.root, CACert: *e.cacert, Cert: *e.cert, Key: *e.key,
		Username: *e.username, Password: *e.password, ClusterName: *e.cluster}
}
