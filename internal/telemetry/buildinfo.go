package telemetry

import "github.com/prometheus/client_golang/prometheus"

// RegisterBuildInfo exports pink_build_info{version, revision, goversion,
// cluster} 1, so a dashboard or an alert can tell which build each process
// runs (a rollout half done, a node left behind) and which pink cluster it
// belongs to (--cluster-name; empty: no cluster label).
func RegisterBuildInfo(r prometheus.Registerer, version, revision, goVersion, cluster string) {
	labels := prometheus.Labels{"version": version, "revision": revision, "goversion": goVersion}
	if cluster != "" {
		labels["cluster"] = cluster
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "pink_build_info",
		Help:        "Always 1; the labels say which build of pink this process runs.",
		ConstLabels: labels})
	g.Set(1)
	r.MustRegister(g)
}
