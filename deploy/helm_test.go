package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/pink-scheduler/pink/internal/auth"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

const chart = "helm/pink"

// helm runs the real helm that make deps builds into .tools/.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join(root, ".tools/helm"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("helm is not installed: run make deps, which builds it into .tools/ (%v)", err)
	}
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	if err := cmd.Run(); err != nil {
		return out.String() + errOut.String(), fmt.Errorf("helm %s: %w\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), nil
}

// rendered is the chart's output for one values file, decoded strictly
// into the Kubernetes and prometheus-operator Go types: a field the API
// does not know fails the test.
type rendered struct {
	deployments     map[string]*appsv1.Deployment
	services        map[string]*corev1.Service
	secrets         map[string]*corev1.Secret
	configMaps      map[string]*corev1.ConfigMap
	accounts        map[string]*corev1.ServiceAccount
	pdbs            map[string]*policyv1.PodDisruptionBudget
	policies        map[string]*networkingv1.NetworkPolicy
	serviceMonitors map[string]*monitoringv1.ServiceMonitor
	rules           map[string]*monitoringv1.PrometheusRule
}

func render(t *testing.T, values string) rendered {
	t.Helper()
	out, err := helm(t, "template", "rel", filepath.Join(root, "deploy", chart), "-f", filepath.Join(root, "deploy", chart, "ci", values))
	if err != nil {
		t.Fatal(err)
	}
	r := rendered{map[string]*appsv1.Deployment{}, map[string]*corev1.Service{}, map[string]*corev1.Secret{}, map[string]*corev1.ConfigMap{},
		map[string]*corev1.ServiceAccount{}, map[string]*policyv1.PodDisruptionBudget{}, map[string]*networkingv1.NetworkPolicy{},
		map[string]*monitoringv1.ServiceMonitor{}, map[string]*monitoringv1.PrometheusRule{}}
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(out, -1) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct{ Name string }
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("%s: %v\n%s", values, err, doc)
		}
		if head.Kind == "" {
			continue
		}
		var obj any
		switch head.APIVersion + " " + head.Kind {
		case "apps/v1 Deployment":
			obj = into(r.deployments, head.Metadata.Name)
		case "v1 Service":
			obj = into(r.services, head.Metadata.Name)
		case "v1 Secret":
			obj = into(r.secrets, head.Metadata.Name)
		case "v1 ConfigMap":
			obj = into(r.configMaps, head.Metadata.Name)
		case "v1 ServiceAccount":
			obj = into(r.accounts, head.Metadata.Name)
		case "policy/v1 PodDisruptionBudget":
			obj = into(r.pdbs, head.Metadata.Name)
		case "networking.k8s.io/v1 NetworkPolicy":
			obj = into(r.policies, head.Metadata.Name)
		case "monitoring.coreos.com/v1 ServiceMonitor":
			obj = into(r.serviceMonitors, head.Metadata.Name)
		case "monitoring.coreos.com/v1 PrometheusRule":
			obj = into(r.rules, head.Metadata.Name)
		default:
			t.Fatalf("%s: the chart renders %s %s, which this test does not know", values, head.APIVersion, head.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Errorf("%s: %s %s does not decode strictly: %v", values, head.Kind, head.Metadata.Name, err)
		}
	}
	return r
}

// into makes a new object in m under name and returns it to decode into.
func into[T any](m map[string]*T, name string) *T {
	v := new(T)
	m[name] = v
	return v
}

func names[T any](m map[string]T) []string { return slices.Sorted(mapKeys(m)) }

func mapKeys[T any](m map[string]T) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestHelmChart renders deploy/helm/pink with the values files of its ci/
// directory through the real helm and checks every object strictly against
// its Go type and what each values file asks for; helm lint passes on
// each; and the chart refuses values that cannot work, saying why.
func TestHelmChart(t *testing.T) {
	for _, values := range []string{"tokens-values.yaml", "full-values.yaml", "insecure-values.yaml"} {
		if out, err := helm(t, "lint", "--strict", filepath.Join(root, "deploy", chart), "-f", filepath.Join(root, "deploy", chart, "ci", values)); err != nil ||
			!strings.Contains(out, "1 chart(s) linted, 0 chart(s) failed") {
			t.Errorf("helm lint with %s: %v\n%s", values, err, out)
		}
	}

	t.Run("tokens", func(t *testing.T) {
		r := render(t, "tokens-values.yaml")
		if got, want := names(r.deployments), []string{"rel-pink-scheduler", "rel-pink-worker-default"}; !slices.Equal(got, want) {
			t.Fatalf("deployments %v, want %v", got, want)
		}
		s := r.deployments["rel-pink-scheduler"]
		c := s.Spec.Template.Spec.Containers[0]
		if *s.Spec.Replicas != 3 || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Errorf("schedulers: replicas %d, readiness %+v", *s.Spec.Replicas, c.ReadinessProbe)
		}
		a := s.Spec.Template.Spec.Affinity
		if a == nil || a.PodAntiAffinity == nil || len(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
			t.Errorf("schedulers: no preferred anti-affinity: %+v", a)
		}
		for _, want := range []string{"scheduler", "--listen=0.0.0.0:8080", "--etcd-endpoints=https://etcd-0.etcd:2379,https://etcd-1.etcd:2379,https://etcd-2.etcd:2379",
			"--api-tokens-file=/etc/pink/api/tokens.yaml", "--cluster-name=rel", "--node-id=$(POD_NAME)"} {
			if !slices.Contains(c.Args, want) {
				t.Errorf("scheduler args %v lack %s", c.Args, want)
			}
		}
		if slices.Contains(c.Args, "--insecure-allow-unauthenticated") {
			t.Errorf("scheduler with tokens runs unauthenticated: %v", c.Args)
		}
		tokens := r.secrets["rel-pink-api-tokens"]
		if tokens == nil || !strings.Contains(tokens.StringData["tokens.yaml"], "token_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08") {
			t.Errorf("tokens secret: %+v", tokens)
		}
		// The tokens file is one pink reads: the worker token keeps its groups.
		if _, err := auth.Parse([]byte(tokens.StringData["tokens.yaml"])); err != nil ||
			!strings.Contains(tokens.StringData["tokens.yaml"], `groups: ["billing"]`) {
			t.Errorf("the chart's tokens file: %v\n%s", err, tokens.StringData["tokens.yaml"])
		}
		if pdb := r.pdbs["rel-pink-scheduler"]; pdb == nil || pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 2 {
			t.Errorf("PodDisruptionBudget: %+v", pdb)
		}
		if got := names(r.policies); !slices.Equal(got, []string{"rel-pink-scheduler", "rel-pink-workers"}) {
			t.Errorf("network policies %v", got)
		}
		if len(r.serviceMonitors)+len(r.rules)+len(r.configMaps) != 0 {
			t.Errorf("monitoring objects rendered while off: %v %v %v", names(r.serviceMonitors), names(r.rules), names(r.configMaps))
		}
		checkSecurity(t, r)
	})

	t.Run("full", func(t *testing.T) {
		r := render(t, "full-values.yaml")
		if got, want := names(r.deployments), []string{"rel-pink-scheduler", "rel-pink-worker-default", "rel-pink-worker-ops"}; !slices.Equal(got, want) {
			t.Fatalf("deployments %v, want %v", got, want)
		}
		s := r.deployments["rel-pink-scheduler"].Spec.Template.Spec
		c := s.Containers[0]
		for _, want := range []string{"--etcd-cacert=/etc/pink/etcd-tls/ca.crt", "--etcd-cert=/etc/pink/etcd-tls/tls.crt", "--etcd-key=/etc/pink/etcd-tls/tls.key",
			"--root=/pink-prod", "--cluster-name=prod-eu", "--metrics-require-token", "--history-limit=200"} {
			if !slices.Contains(c.Args, want) {
				t.Errorf("scheduler args %v lack %s", c.Args, want)
			}
		}
		if c.Image != "ghcr.io/pink-scheduler/pink:v1.2.3" {
			t.Errorf("image %s", c.Image)
		}
		var envFromSecret []string
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				envFromSecret = append(envFromSecret, e.Name+"="+e.ValueFrom.SecretKeyRef.Name+"/"+e.ValueFrom.SecretKeyRef.Key)
			}
		}
		if want := []string{"PINK_ETCD_USERNAME=pink-etcd-user/username", "PINK_ETCD_PASSWORD=pink-etcd-user/password"}; !slices.Equal(envFromSecret, want) {
			t.Errorf("etcd credentials from the secret: %v, want %v", envFromSecret, want)
		}
		if s.Affinity == nil || len(s.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 1 {
			t.Errorf("required anti-affinity: %+v", s.Affinity)
		}
		ops := r.deployments["rel-pink-worker-ops"].Spec.Template.Spec.Containers[0].Args
		if !slices.Contains(ops, "--allow-shell") || !slices.Contains(ops, "--capacity=2") || !slices.Contains(ops, "--group=ops") {
			t.Errorf("ops worker args %v", ops)
		}
		if slices.Contains(r.deployments["rel-pink-worker-default"].Spec.Template.Spec.Containers[0].Args, "--allow-shell") {
			t.Errorf("the default workers run shell")
		}
		if len(r.secrets) != 0 || len(r.policies) != 0 {
			t.Errorf("secrets %v (tokens come from an existing one), policies %v (off)", names(r.secrets), names(r.policies))
		}
		for _, component := range []string{"scheduler", "worker"} {
			sm := r.serviceMonitors["rel-pink-"+component]
			if sm == nil || sm.Labels["release"] != "prometheus" || len(sm.Spec.Endpoints) != 1 {
				t.Fatalf("ServiceMonitor %s: %+v", component, sm)
			}
			got := map[string]string{}
			for _, rl := range sm.Spec.Endpoints[0].RelabelConfigs {
				got[rl.TargetLabel] = *rl.Replacement
			}
			if want := map[string]string{"job": "pink-" + component, "cluster": "prod-eu"}; !reflect.DeepEqual(got, want) {
				t.Errorf("ServiceMonitor %s relabels %v, want %v (the scrape job and cluster the rules select)", component, got, want)
			}
		}
		pdb := r.pdbs["rel-pink-scheduler"]
		if pdb == nil || pdb.Spec.MinAvailable != nil || pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 {
			t.Errorf("PodDisruptionBudget must have maxUnavailable 1 alone (the API refuses both): %+v", pdb)
		}
		// /metrics needs a token: the scheduler ServiceMonitor sends it.
		auth := r.serviceMonitors["rel-pink-scheduler"].Spec.Endpoints[0].Authorization
		if auth == nil || auth.Credentials == nil || auth.Credentials.Name != "pink-prometheus-token" || auth.Credentials.Key != "token" {
			t.Errorf("scheduler ServiceMonitor authorization %+v, want the token secret", auth)
		}
		checkPrometheusRule(t, r.rules["rel-pink"])
		checkDashboards(t, r.configMaps)
		checkSecurity(t, r)
	})

	t.Run("insecure", func(t *testing.T) {
		r := render(t, "insecure-values.yaml")
		if got := names(r.deployments); !slices.Equal(got, []string{"rel-pink-scheduler"}) {
			t.Fatalf("deployments %v, want the schedulers only", got)
		}
		c := r.deployments["rel-pink-scheduler"].Spec.Template.Spec.Containers[0]
		if !slices.Contains(c.Args, "--insecure-allow-unauthenticated") || slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--api-tokens-file") }) {
			t.Errorf("args %v", c.Args)
		}
		if len(r.pdbs) != 0 || r.deployments["rel-pink-scheduler"].Spec.Template.Spec.Affinity != nil {
			t.Errorf("PodDisruptionBudget %v or anti-affinity rendered while off", names(r.pdbs))
		}
	})

	t.Run("flags exist", func(t *testing.T) {
		// Every flag the chart passes is one the binary has.
		bin := pinktest.Binary(t)
		help := map[string]string{}
		for _, values := range []string{"tokens-values.yaml", "full-values.yaml", "insecure-values.yaml"} {
			for name, d := range render(t, values).deployments {
				args := d.Spec.Template.Spec.Containers[0].Args
				cmd := args[0]
				if help[cmd] == "" {
					out, err := exec.Command(bin, cmd, "--help").CombinedOutput()
					if err != nil {
						t.Fatalf("pink %s --help: %v", cmd, err)
					}
					help[cmd] = string(out)
				}
				for _, a := range args[1:] {
					flag, _, _ := strings.Cut(a, "=")
					if !strings.Contains(help[cmd], "  "+flag+" ") && !strings.Contains(help[cmd], "  "+flag+"\n") {
						t.Errorf("%s (%s): pink %s has no flag %s", name, values, cmd, flag)
					}
				}
			}
		}
	})

	t.Run("refuses", func(t *testing.T) {
		for _, tc := range []struct {
			set, want string
		}{
			{"etcd.endpoints=null", "etcd.endpoints is required"},
			{"api.tokens=null", "give api.tokens or api.existingSecret"},
			{"api.tokens[0].name=x,api.tokens[0].role=admin,api.tokens[0].token_sha256=hunter2", "token_sha256 must be 64 lower-case hex digits"},
			{"api.tokens[0].name=x,api.tokens[0].role=root,api.tokens[0].token_sha256=" + strings.Repeat("a", 64), `role "root" must be worker, viewer, operator or admin`},
			{"workers[0].group=default,workers[1].group=default", "group default is listed twice"},
			{"workers[1].replicas=2", "every entry of workers needs a group"},
			{"workers[0].group=Batch_Jobs", "must be a DNS label"},
			{"scheduler.podAntiAffinity=sometimes", "scheduler.podAntiAffinity must be preferred, required or none"},
			{"scheduler.podDisruptionBudget.maxUnavailable=1", "give minAvailable or maxUnavailable, not both"},
			{"serviceMonitor.enabled=true,api.metricsRequireToken=true", "give serviceMonitor.tokenSecret"},
		} {
			out, err := helm(t, "template", "rel", filepath.Join(root, "deploy", chart), "-f", filepath.Join(root, "deploy", chart, "ci", "tokens-values.yaml"), "--set", tc.set)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("--set %s: %v, want a failure saying %q\n%.600s", tc.set, err, tc.want, out)
			}
		}
	})
}

// checkPrometheusRule: the rule groups are alerts/pink-alerts.yml's.
func checkPrometheusRule(t *testing.T, pr *monitoringv1.PrometheusRule) {
	t.Helper()
	if pr == nil {
		t.Fatal("no PrometheusRule")
	}
	var file struct {
		Groups []monitoringv1.RuleGroup `json:"groups"`
	}
	b, err := os.ReadFile(filepath.Join(root, "alerts/pink-alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Groups) != 1 || len(file.Groups[0].Rules) < 30 {
		t.Fatalf("alerts/pink-alerts.yml: %d groups", len(file.Groups))
	}
	if !reflect.DeepEqual(pr.Spec.Groups, file.Groups) {
		t.Errorf("the PrometheusRule's groups differ from alerts/pink-alerts.yml's")
	}
}

// checkDashboards: one ConfigMap per dashboard, labelled for Grafana's
// sidecar, holding the file of dashboards/ unchanged.
func checkDashboards(t *testing.T, cms map[string]*corev1.ConfigMap) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "dashboards/*.json"))
	if err != nil || len(files) != 3 {
		t.Fatalf("dashboards: %v %v", files, err)
	}
	for _, f := range files {
		base := filepath.Base(f)
		cm := cms["rel-pink-dashboard-"+strings.TrimSuffix(strings.TrimPrefix(base, "pink-"), ".json")]
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if cm == nil || cm.Labels["grafana_dashboard"] != "1" || cm.Data[base] != strings.TrimSuffix(string(want), "\n") {
			t.Errorf("ConfigMap of %s: missing, unlabelled or not the file (%d bytes, want %d)", base, len(cm.Data[base]), len(want))
		}
	}
}

// checkSecurity: every pink container runs without privilege on a
// read-only root, and no pod mounts a service account token.
func checkSecurity(t *testing.T, r rendered) {
	t.Helper()
	for name, d := range r.deployments {
		spec := d.Spec.Template.Spec
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			t.Errorf("%s mounts a service account token", name)
		}
		for _, c := range spec.Containers {
			sc := c.SecurityContext
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
				t.Errorf("%s/%s security context %+v", name, c.Name, sc)
			}
		}
	}
}
