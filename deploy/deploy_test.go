// Package deploy holds pink's deployment configuration (Prometheus,
// Alertmanager, Grafana provisioning, examples) and, in its tests, the
// static checks of those files and of docker-compose.yml: no Docker engine
// runs where the tests do, so the compose file is checked for what would
// break it — files that do not exist, targets that name no service.
package deploy

import (
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pink-scheduler/pink/internal/apply"
)

const root = ".."

type composeFile struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		Build       any            `yaml:"build"`
		Command     []string       `yaml:"command"`
		Entrypoint  []string       `yaml:"entrypoint"`
		Environment map[string]any `yaml:"environment"`
		Volumes     []string       `yaml:"volumes"`
		Ports       []string       `yaml:"ports"`
		DependsOn   []string       `yaml:"depends_on"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// imagePorts are the ports the third-party images of the compose file serve.
var imagePorts = map[string][]string{
	"quay.io/coreos/etcd":      {"2379", "2380"},
	"prom/prometheus":          {"9090"},
	"prom/alertmanager":        {"9093"},
	"grafana/grafana":          {"3000"},
	"jaegertracing/all-in-one": {"16686", "4317", "4318"},
}

var listenFlag = regexp.MustCompile(`^--(?:listen|listen-client-urls)=(?:http://)?[^:]*:(\d+)$`)

// servicePorts returns the ports a compose service listens on: from pink's
// --listen flag, or the image's well-known ports.
func servicePorts(c composeFile, name string) []string {
	s := c.Services[name]
	var ports []string
	for _, arg := range s.Command {
		if m := listenFlag.FindStringSubmatch(arg); m != nil {
			ports = append(ports, m[1])
		}
	}
	image, _, _ := strings.Cut(s.Image, ":")
	ports = append(ports, imagePorts[image]...)
	if strings.Contains(s.Image, "etcd") {
		ports = append(ports, "2379")
	}
	return ports
}

// checkHostPort fails unless addr (host:port) is a compose service that
// serves that port.
func checkHostPort(t *testing.T, c composeFile, where, addr string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Errorf("%s: %q is not host:port", where, addr)
		return
	}
	if _, ok := c.Services[host]; !ok {
		t.Errorf("%s: %s is not a service of docker-compose.yml", where, host)
		return
	}
	if !slices.Contains(servicePorts(c, host), port) {
		t.Errorf("%s: service %s does not serve port %s (it serves %v)", where, host, port, servicePorts(c, host))
	}
}

func checkURL(t *testing.T, c composeFile, where, raw string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		t.Errorf("%s: %q is not a URL", where, raw)
		return
	}
	checkHostPort(t, c, where, u.Host)
}

// TestCompose checks docker-compose.yml against the files and services it
// names.
func TestCompose(t *testing.T) {
	var c composeFile
	readYAML(t, "docker-compose.yml", &c)
	count := func(prefix string) int {
		n := 0
		for name := range c.Services {
			if strings.HasPrefix(name, prefix) {
				n++
			}
		}
		return n
	}
	if count("etcd-") != 3 || count("scheduler-") != 3 || count("worker-default-") < 1 || count("worker-batch-") < 1 {
		t.Errorf("want 3 etcd, 3 schedulers and workers in two groups; services: %v", c.Services)
	}
	for _, want := range []string{"prometheus", "alertmanager", "grafana", "jaeger", "seed"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("no %s service", want)
		}
	}
	// The seed applies the example jobs with pink apply: the file must parse.
	if cmd := c.Services["seed"].Command; len(cmd) < 3 || cmd[0] != "apply" || cmd[2] != "/examples/jobs.yaml" {
		t.Errorf("seed command %v", cmd)
	}
	examples, err := os.ReadFile(filepath.Join(root, "deploy/examples/jobs.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := apply.Parse(examples)
	if err != nil || len(f.Jobs) < 3 {
		t.Errorf("deploy/examples/jobs.yaml: %v", err)
	}
	for name, s := range c.Services {
		if s.Image == "" && s.Build == nil {
			t.Errorf("%s: no image and no build", name)
		}
		if s.Image == "pink:dev" && s.Build == nil && !slices.ContainsFunc(s.DependsOn, func(d string) bool { return c.Services[d].Build != nil }) {
			t.Errorf("%s uses the pink image without building it or depending on a service that does", name)
		}
		for _, dep := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("%s depends on unknown service %s", name, dep)
			}
		}
		for _, v := range s.Volumes {
			host, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(host, ".") {
				if _, err := os.Stat(filepath.Join(root, host)); err != nil {
					t.Errorf("%s mounts %s, which does not exist", name, host)
				}
			} else if _, ok := c.Volumes[host]; !ok {
				t.Errorf("%s mounts named volume %s, which is not declared", name, host)
			}
		}
		for k, v := range s.Environment {
			val, _ := v.(string)
			switch {
			case k == "PINK_ETCD_ENDPOINTS":
				for _, ep := range strings.Split(val, ",") {
					checkURL(t, c, name+" "+k, ep)
				}
			case strings.HasPrefix(k, "OTEL_EXPORTER_OTLP") && strings.HasSuffix(k, "ENDPOINT"), k == "PINK_SERVER":
				checkURL(t, c, name+" "+k, val)
			}
		}
		if strings.HasPrefix(name, "scheduler-") || strings.HasPrefix(name, "worker-") {
			if s.Build == nil {
				t.Errorf("%s should run the image built from this repository", name)
			}
		}
	}

	var prom struct {
		RuleFiles []string `yaml:"rule_files"`
		Alerting  struct {
			Alertmanagers []struct {
				StaticConfigs []struct{ Targets []string } `yaml:"static_configs"`
			} `yaml:"alertmanagers"`
		} `yaml:"alerting"`
		ScrapeConfigs []struct {
			JobName       string                       `yaml:"job_name"`
			StaticConfigs []struct{ Targets []string } `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, "deploy/prometheus/prometheus.yml", &prom)
	jobs := map[string]int{}
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				jobs[sc.JobName]++
				if strings.HasPrefix(target, "localhost:") {
					continue
				}
				checkHostPort(t, c, "prometheus scrape job "+sc.JobName, target)
			}
		}
	}
	if jobs["pink-scheduler"] != 3 || jobs["pink-worker"] < 2 {
		t.Errorf("prometheus scrapes %v; want every scheduler and worker", jobs)
	}
	for _, am := range prom.Alerting.Alertmanagers {
		for _, st := range am.StaticConfigs {
			for _, target := range st.Targets {
				checkHostPort(t, c, "prometheus alerting", target)
			}
		}
	}
	// The rules glob must match alerts/ as mounted into the container.
	mounted := false
	for _, v := range c.Services["prometheus"].Volumes {
		parts := strings.Split(v, ":")
		if parts[0] == "./alerts" && len(prom.RuleFiles) == 1 && strings.HasPrefix(prom.RuleFiles[0], parts[1]+"/") {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("prometheus rule_files %v do not point at the mounted alerts/ directory", prom.RuleFiles)
	}

	var ds struct {
		Datasources []struct {
			UID, Type, URL string
			JSONData       struct {
				ExemplarTraceIDDestinations []struct {
					Name          string `yaml:"name"`
					DatasourceUID string `yaml:"datasourceUid"`
				} `yaml:"exemplarTraceIdDestinations"`
			} `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	readYAML(t, "deploy/grafana/provisioning/datasources/pink.yml", &ds)
	uids := map[string]string{}
	for _, d := range ds.Datasources {
		uids[d.UID] = d.Type
		checkURL(t, c, "grafana datasource "+d.UID, d.URL)
	}
	for _, d := range ds.Datasources {
		for _, dest := range d.JSONData.ExemplarTraceIDDestinations {
			if dest.Name != "trace_id" || uids[dest.DatasourceUID] == "" || uids[dest.DatasourceUID] == "prometheus" {
				t.Errorf("exemplar link %+v must map trace_id to the trace datasource", dest)
			}
		}
	}
	if uids["prometheus"] != "prometheus" {
		t.Errorf("no prometheus datasource: %v", uids)
	}

	var provider struct {
		Providers []struct {
			Options struct{ Path string } `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, "deploy/grafana/provisioning/dashboards/pink.yml", &provider)
	found := false
	for _, v := range c.Services["grafana"].Volumes {
		parts := strings.Split(v, ":")
		if parts[0] == "./dashboards" && len(provider.Providers) == 1 && provider.Providers[0].Options.Path == parts[1] {
			found = true
		}
	}
	if !found {
		t.Error("the grafana dashboard provider does not point at the mounted dashboards/ directory")
	}
}

// TestDockerfile: multi-stage, static, non-root.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if strings.Count(s, "\nFROM ") < 1 || strings.Count(s, "FROM ") < 2 || !strings.Contains(s, "CGO_ENABLED=0") ||
		!regexp.MustCompile(`(?m)^USER nonroot`).MatchString(s) {
		t.Errorf("Dockerfile must be multi-stage, build a static binary and run as non-root")
	}
}

// TestConfigsWithPrometheusTools runs amtool and promtool on the configs.
func TestConfigsWithPrometheusTools(t *testing.T) {
	for _, c := range [][]string{
		{"amtool", "check-config", "deploy/prometheus/alertmanager.yml"},
		{"promtool", "check", "config", "--syntax-only", "deploy/prometheus/prometheus.yml"},
	} {
		path, err := exec.LookPath(c[0])
		if err != nil {
			t.Fatalf("%s is not installed: run make test, which installs it (Debian packages prometheus, prometheus-alertmanager)", c[0])
		}
		cmd := exec.Command(path, c[1:]...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
}
