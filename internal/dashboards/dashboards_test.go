package dashboards

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite dashboards/*.json from the Go definitions")

const dir = "../../dashboards"

// chartDir holds the Helm chart's copies, which its ConfigMaps are made of.
const chartDir = "../../deploy/helm/pink/files/dashboards"

// TestCommittedJSONIsGenerated: the JSON in dashboards/, and the Helm
// chart's copies, are exactly what the Go definitions render (run with
// -update after changing them).
func TestCommittedJSONIsGenerated(t *testing.T) {
	for name, d := range All() {
		want, err := d.JSON()
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{filepath.Join(dir, name), filepath.Join(chartDir, name)} {
			if *update {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./internal/dashboards -update writes it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from its Go definition: run go test ./internal/dashboards -update", path)
			}
		}
	}
	if files, _ := filepath.Glob(filepath.Join(chartDir, "*.json")); len(files) != len(All()) {
		t.Errorf("the chart holds %d dashboards, want the %d of All()", len(files), len(All()))
	}
}

var rateCall = regexp.MustCompile(`\b(rate|increase|irate|delta)\(`)

// TestConventions lints the committed dashboards as Grafana will read them.
func TestConventions(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) < 3 {
		t.Fatalf("dashboards: %v %v", files, err)
	}
	uids := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			UID        string   `json:"uid"`
			Title      string   `json:"title"`
			Tags       []string `json:"tags"`
			Templating struct {
				List []struct {
					Name, Type string
					Query      any
				} `json:"list"`
			} `json:"templating"`
			Panels []struct {
				ID          int    `json:"id"`
				Title       string `json:"title"`
				Description string `json:"description"`
				Datasource  struct{ UID string }
				FieldConfig struct {
					Defaults struct{ Unit string }
				} `json:"fieldConfig"`
				Targets []struct {
					Expr       string `json:"expr"`
					Datasource struct{ UID string }
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		name := filepath.Base(f)
		if !strings.HasPrefix(d.UID, "pink-") || uids[d.UID] || len(d.UID) > 40 {
			t.Errorf("%s: uid %q must be stable, unique, pink-*", name, d.UID)
		}
		uids[d.UID] = true
		if !slices.Contains(d.Tags, "pink") || !strings.HasPrefix(d.Title, "Pink / ") {
			t.Errorf("%s: tags %v title %q", name, d.Tags, d.Title)
		}
		if len(d.Templating.List) == 0 || d.Templating.List[0].Name != "datasource" || d.Templating.List[0].Type != "datasource" || d.Templating.List[0].Query != "prometheus" {
			t.Errorf("%s: the first variable must be the prometheus datasource variable", name)
		}
		ids := map[int]bool{}
		for _, p := range d.Panels {
			where := name + " / " + p.Title
			if ids[p.ID] {
				t.Errorf("%s: duplicate panel id %d", where, p.ID)
			}
			ids[p.ID] = true
			if p.Datasource.UID != "${datasource}" {
				t.Errorf("%s: panel datasource %q, want ${datasource}", where, p.Datasource.UID)
			}
			if p.FieldConfig.Defaults.Unit == "" {
				t.Errorf("%s: no unit", where)
			}
			if len(p.Description) < 20 {
				t.Errorf("%s: no description", where)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: no query", where)
			}
			for _, tg := range p.Targets {
				if tg.Datasource.UID != "${datasource}" {
					t.Errorf("%s: query datasource %q", where, tg.Datasource.UID)
				}
				if rateCall.MatchString(tg.Expr) && strings.Count(tg.Expr, "[$__rate_interval]") != len(rateCall.FindAllString(tg.Expr, -1)) {
					t.Errorf("%s: every range function must use [$__rate_interval]: %s", where, tg.Expr)
				}
			}
		}
	}
}

// heavyPanels are the panels whose queries aggregate the most series (every
// job, worker, bucket or operation on each refresh): they read the
// recording rules of alerts/ instead, a fixed window evaluated once by
// Prometheus. Panels that follow the zoom ($__rate_interval) or show
// exemplars stay on the raw metrics.
var heavyPanels = map[string][]string{
	"Pink / Overview": {"Success ratio", "Runs by status", "Schedule lag", "Dispatch lag", "etcd request latency p99"},
	"Pink / Job":      {"Run duration percentiles", "Failure ratio"},
}

var (
	recordedSeries = regexp.MustCompile(`\bpink:[a-zA-Z0-9_:]+`)
	rawHeavy       = regexp.MustCompile(`_bucket\b|\bhistogram_quantile\(|\b(rate|increase|irate)\(`)
)

// recordingRules returns the series recorded by the rule files in alerts/.
func recordingRules(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../../alerts/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("rule files: %v %v", files, err)
	}
	recorded := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rf struct {
			Groups []struct {
				Rules []struct {
					Record string `yaml:"record"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(b, &rf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					recorded[r.Record] = true
				}
			}
		}
	}
	return recorded
}

// TestHeavyPanelsUseRecordingRules: the heavy panels read only recorded
// series, and every recorded series a dashboard reads is defined by a
// recording rule in alerts/ (a renamed rule would leave a panel empty).
func TestHeavyPanelsUseRecordingRules(t *testing.T) {
	recorded := recordingRules(t)
	used := 0
	for _, d := range All() {
		heavy := map[string]bool{}
		for _, title := range heavyPanels[d.Title] {
			heavy[title] = true
		}
		for _, p := range d.Panels {
			where := d.Title + " / " + p.Title
			for _, tg := range p.Targets {
				names := recordedSeries.FindAllString(tg.Expr, -1)
				for _, name := range names {
					used++
					if !recorded[name] {
						t.Errorf("%s: %s is not recorded by any rule in alerts/: %s", where, name, tg.Expr)
					}
				}
				if heavy[p.Title] && (len(names) == 0 || rawHeavy.MatchString(tg.Expr)) {
					t.Errorf("%s: a heavy panel must read recorded pink:* series only: %s", where, tg.Expr)
				}
			}
			if heavy[p.Title] && p.Targets != nil && p.Targets[0].Exemplar {
				t.Errorf("%s: recorded series carry no exemplars; do not ask for them", where)
			}
			delete(heavy, p.Title)
		}
		for title := range heavy {
			t.Errorf("%s: no panel %q (update heavyPanels)", d.Title, title)
		}
	}
	if used == 0 {
		t.Error("no dashboard reads a recording rule")
	}
}
