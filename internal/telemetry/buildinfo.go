package telemetry

import "github.com/prometheus/client_golang/prometheus"

// RegisterBuildInfo exports pink_build_info{version, revision, goversion} 1,
// so a dashboard or an alert can tell which build each process runs (a
// rollout half done, a node left behind).
func RegisterBuildInfo(r prometheus.Registerer, version, revision, goVersion string) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "pink_build_info",
		Help:        "Always 1; the labels say which build of pink this process runs.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": goVersion}})
	g.Set(1)
	r.MustRegister(g)
}
