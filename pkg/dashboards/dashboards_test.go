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
)

var update = flag.Bool("update", false, "rewrite dashboards/*.json from the Go definitions")

const dir = "../../dashboards"

// TestCommittedJSONIsGenerated: the JSON in dashboards/ is exactly what the
// Go definitions render (run with -update after changing them).
func TestCommittedJSONIsGenerated(t *testing.T) {
	for name, d := range All() {
		want, err := d.JSON()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test ./pkg/dashboards -update writes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from its Go definition: run go test ./pkg/dashboards -update", name)
		}
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
