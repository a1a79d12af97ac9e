package telemetry

import "github.com/prometheus/client_golang/prometheus"

// jobInfo is pink_job_info{job_name, group, label_<key>...} 1: a job's
// labels of the allowed keys, kube-state-metrics' kube_cronjob_labels
// pattern, so a query joins any job series to the team that owns it:
//
//	pink:job_failure_ratio:rate15m * on (job_name, group) group_left (label_team) pink_job_info
type jobInfo struct {
	keys []string // job label keys, in the order of the metric's labels
	vec  *prometheus.GaugeVec
}

func newJobInfo(keys []string) *jobInfo {
	names := []string{"job_name", "group"}
	seen := map[string]bool{}
	var kept []string
	for _, k := range keys {
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		kept = append(kept, k)
		names = append(names, "label_"+k)
	}
	return &jobInfo{keys: kept, vec: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pink_job_info",
		Help: "Always 1 per job; label_<key> carries the job's label key (the keys --metrics-job-info-labels allows). Leader only."}, names)}
}

func (j *jobInfo) set(job, group string, labels map[string]string) {
	j.vec.DeletePartialMatch(prometheus.Labels{"job_name": job})
	values := []string{job, group}
	for _, k := range j.keys {
		values = append(values, labels[k])
	}
	j.vec.WithLabelValues(values...).Set(1)
}
