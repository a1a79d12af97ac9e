package pinktest

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metric returns the value of the counter or gauge name whose labels
// include want, summed over matching series (for a histogram, its sample
// count); 0 if none.
func Metric(t testing.TB, g prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	sum := 0.0
	for _, m := range matching(t, g, name, want) {
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// Values renders every series of the named counters and gauges as
// `name{label="value",...}` (labels sorted) -> value, for comparing whole
// sets of series, e.g. before and after a leader change.
func Values(t testing.TB, g prometheus.Gatherer, names ...string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, name := range names {
		for _, m := range matching(t, g, name, nil) {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(ls)
			v := m.GetCounter().GetValue()
			if m.Gauge != nil {
				v = m.GetGauge().GetValue()
			}
			out[name+"{"+strings.Join(ls, ",")+"}"] = v
		}
	}
	return out
}

// Series counts the series of name whose labels include want.
func Series(t testing.TB, g prometheus.Gatherer, name string, want map[string]string) int {
	t.Helper()
	return len(matching(t, g, name, want))
}

// matching returns the series of name whose labels include want.
func matching(t testing.TB, g prometheus.Gatherer, name string, want map[string]string) []*dto.Metric {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	var out []*dto.Metric
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue series
				}
			}
			out = append(out, m)
		}
	}
	return out
}

// Scrape fetches a /metrics page over HTTP (Prometheus text format) and
// returns it as a Gatherer for Metric and Series.
func Scrape(t testing.TB, url string) prometheus.Gatherer {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: status %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	list := make([]*dto.MetricFamily, 0, len(families))
	for _, f := range families {
		list = append(list, f)
	}
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return list, nil })
}
