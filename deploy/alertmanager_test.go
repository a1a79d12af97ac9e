package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// amAlert is an alert as Alertmanager's v2 API takes (POST /api/v2/alerts)
// and returns it (GET /api/v2/alerts).
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Fingerprint string            `json:"fingerprint,omitempty"`
	Status      *struct {
		State       string   `json:"state"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status,omitempty"`
}

// key names an alert in this test: its alertname and, when it has them,
// its group, job and cluster.
func (a amAlert) key() string {
	k := a.Labels["alertname"]
	for _, l := range []string{"group", "job_name", "cluster"} {
		if v := a.Labels[l]; v != "" {
			k += "/" + v
		}
	}
	return k
}

// alertmanager is a real Alertmanager daemon's v2 API.
type alertmanager struct{ base string }

// startAlertmanager runs the Alertmanager of Debian's prometheus-alertmanager
// package (or an `alertmanager` on PATH) with the shipped config, unchanged,
// on a loopback port, without clustering.
func startAlertmanager(t *testing.T) alertmanager {
	t.Helper()
	var bin string
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Fatal("alertmanager is not installed: run make test, which installs it (Debian package prometheus-alertmanager)")
	}
	config, err := filepath.Abs(filepath.Join(root, "deploy/prometheus/alertmanager.yml"))
	if err != nil {
		t.Fatal(err)
	}
	addr := pinktest.FreeAddr(t)
	pinktest.StartCommand(t, "alertmanager", bin, nil, "--config.file="+config, "--storage.path="+t.TempDir(),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	am := alertmanager{base: "http://" + addr}
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		resp, err := http.Get(am.base + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Sprintf("/-/ready: %d", resp.StatusCode)
	})
	return am
}

func (am alertmanager) post(t *testing.T, alerts ...amAlert) {
	t.Helper()
	body, err := json.Marshal(alerts)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(am.base+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: %d", resp.StatusCode)
	}
}

// alerts returns the active alerts by key.
func (am alertmanager) alerts() (map[string]amAlert, error) {
	resp, err := http.Get(am.base + "/api/v2/alerts")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var list []amAlert
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, fmt.Errorf("GET /api/v2/alerts: %d: %w", resp.StatusCode, err)
	}
	out := map[string]amAlert{}
	for _, a := range list {
		out[a.key()] = a
	}
	return out, nil
}

// TestAlertmanagerInhibition posts one alert of every kind pink raises to
// a real Alertmanager running deploy/prometheus/alertmanager.yml, then
// raises and resolves each inhibiting alert in turn and checks exactly
// which alerts it mutes: while there is no leader the scheduling symptoms,
// but not the failures of runs that workers really ran (see
// docs/runbooks.md#alertmanager-inhibition); while a group has no workers
// that group's pending runs and missed schedules and the cluster's dispatch
// lag, but not another group's; while a job fails its other symptoms; and
// never across clusters.
func TestAlertmanagerInhibition(t *testing.T) {
	now := time.Now()
	alert := func(labels ...string) amAlert {
		a := amAlert{Labels: map[string]string{}, StartsAt: now, EndsAt: now.Add(time.Hour)}
		for i := 0; i < len(labels); i += 2 {
			a.Labels[labels[i]] = labels[i+1]
		}
		return a
	}
	job := func(name, group string) amAlert {
		return alert("alertname", name, "severity", "warning", "group", group, "job_name", "nightly")
	}
	hourly := func(name string) amAlert {
		return alert("alertname", name, "severity", "warning", "group", "batch", "job_name", "hourly")
	}
	targets := []amAlert{
		alert("alertname", "PinkMultipleLeaders", "severity", "warning"),
		alert("alertname", "PinkSchedulerDown", "severity", "warning", "job", "pink-scheduler", "instance", "s2:8080"),
		job("PinkJobMissedSchedule", "batch"),
		job("PinkJobMissedSchedule", "default"),
		// Failing, with no other symptom posted: no leader must not mute it.
		alert("alertname", "PinkJobFailing", "severity", "warning", "group", "batch", "job_name", "weekly"),
		alert("alertname", "PinkGroupJobsFailing", "severity", "warning", "group", "etl"),
		alert("alertname", "PinkGroupJobsOverdue", "severity", "warning", "group", "batch"),
		hourly("PinkJobMissedSchedule"),
		hourly("PinkRunsTimingOut"),
		hourly("PinkJobOverrunning"),
		alert("alertname", "PinkJobMissedSchedule", "severity", "warning", "group", "batch", "job_name", "nightly", "cluster", "us"),
		job("PinkRunsTimingOut", "batch"),
		alert("alertname", "PinkScheduleLagHigh", "severity", "warning"),
		alert("alertname", "PinkDispatchLagHigh", "severity", "warning"),
		alert("alertname", "PinkSnapshotsPendingTooLong", "severity", "warning", "group", "batch"),
		alert("alertname", "PinkSnapshotsPendingTooLong", "severity", "warning", "group", "default"),
		alert("alertname", "PinkFailoverStorm", "severity", "warning", "group", "batch"),
		alert("alertname", "PinkFiresMissed", "severity", "warning"),
		job("PinkJobOverrunning", "batch"),
		alert("alertname", "PinkEtcdSlow", "severity", "warning", "op", "fire"),
		alert("alertname", "PinkEtcdErrors", "severity", "warning"),
		alert("alertname", "PinkEtcdSpaceLow", "severity", "warning", "endpoint", "https://etcd-1:2379"),
		alert("alertname", "PinkEtcdEndpointDown", "severity", "warning", "endpoint", "https://etcd-2:2379"),
		alert("alertname", "PinkWorkerClockSkew", "severity", "warning", "job", "pink-worker", "instance", "w1:9090"),
	}
	cases := []struct {
		name      string
		source    amAlert
		inhibited []string
	}{
		{"no leader", alert("alertname", "PinkNoLeader", "severity", "critical"), []string{
			"PinkDispatchLagHigh", "PinkFiresMissed", "PinkGroupJobsOverdue/batch", "PinkJobMissedSchedule/batch/hourly", "PinkJobMissedSchedule/batch/nightly",
			"PinkJobMissedSchedule/default/nightly", "PinkMultipleLeaders", "PinkScheduleLagHigh",
			"PinkSnapshotsPendingTooLong/batch", "PinkSnapshotsPendingTooLong/default",
		}},
		// Issue 16: another cluster's outage mutes nothing here.
		{"no leader in cluster us", alert("alertname", "PinkNoLeader", "severity", "critical", "cluster", "us"), []string{
			"PinkJobMissedSchedule/batch/nightly/us",
		}},
		{"no live clients in group batch", alert("alertname", "PinkNoLiveClients", "severity", "critical", "group", "batch"), []string{
			"PinkDispatchLagHigh", "PinkGroupJobsOverdue/batch", "PinkJobMissedSchedule/batch/hourly", "PinkJobMissedSchedule/batch/nightly", "PinkSnapshotsPendingTooLong/batch",
		}},
		{"etcd out of space", alert("alertname", "PinkEtcdNoSpace", "severity", "critical"), []string{
			"PinkDispatchLagHigh", "PinkEtcdErrors", "PinkEtcdSpaceLow", "PinkFiresMissed", "PinkJobMissedSchedule/batch/hourly",
			"PinkJobMissedSchedule/batch/nightly", "PinkJobMissedSchedule/default/nightly", "PinkScheduleLagHigh",
			"PinkSnapshotsPendingTooLong/batch", "PinkSnapshotsPendingTooLong/default",
		}},
		{"leader stalled on etcd", alert("alertname", "PinkEtcdStalled", "severity", "critical", "job", "pink-scheduler", "instance", "s1:8080"), []string{
			"PinkDispatchLagHigh", "PinkEtcdErrors", "PinkEtcdSlow", "PinkFiresMissed", "PinkJobMissedSchedule/batch/hourly",
			"PinkJobMissedSchedule/batch/nightly", "PinkJobMissedSchedule/default/nightly", "PinkScheduleLagHigh",
			"PinkSnapshotsPendingTooLong/batch", "PinkSnapshotsPendingTooLong/default",
		}},
		// Without the job label: a group's failing jobs mute its overdue
		// count and its timeouts.
		{"jobs of group batch failing", alert("alertname", "PinkGroupJobsFailing", "severity", "warning", "group", "batch"), []string{
			"PinkGroupJobsOverdue/batch", "PinkRunsTimingOut/batch/hourly", "PinkRunsTimingOut/batch/nightly",
		}},
		// Issue 16: one notification per failing job, and only that job's.
		{"job hourly failing", hourly("PinkJobFailing"), []string{
			"PinkJobMissedSchedule/batch/hourly", "PinkRunsTimingOut/batch/hourly",
		}},
	}

	// Every alert of the rule file is posted: a new alert must be placed here.
	var rules struct {
		Groups []struct {
			Rules []struct{ Alert string } `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, "alerts/pink-alerts.yml", &rules)
	posted := map[string]bool{}
	for _, a := range targets {
		posted[a.Labels["alertname"]] = true
	}
	for _, c := range cases {
		posted[c.source.Labels["alertname"]] = true
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" && !posted[r.Alert] {
				t.Errorf("%s is not covered: add it to the alerts this test posts", r.Alert)
			}
		}
	}

	am := startAlertmanager(t)
	am.post(t, targets...)
	// inhibitedNow waits until the targets are active and exactly want are
	// inhibited, by the alert with fingerprint by.
	inhibitedNow := func(t *testing.T, want []string, by string) {
		t.Helper()
		pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
			got, err := am.alerts()
			if err != nil {
				return false, err.Error()
			}
			var inhibited, wrong []string
			for _, a := range targets {
				g, ok := got[a.key()]
				if !ok || g.Status == nil {
					return false, "not active yet: " + a.key()
				}
				if len(g.Status.InhibitedBy) > 0 {
					inhibited = append(inhibited, a.key())
					if !slices.Equal(g.Status.InhibitedBy, []string{by}) {
						wrong = append(wrong, fmt.Sprintf("%s by %v", a.key(), g.Status.InhibitedBy))
					}
				}
			}
			sort.Strings(inhibited)
			return slices.Equal(inhibited, want) && len(wrong) == 0,
				fmt.Sprintf("inhibited %v, want %v; wrong source: %v", inhibited, want, wrong)
		})
	}
	inhibitedNow(t, nil, "")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			am.post(t, c.source)
			var fp string
			pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
				got, err := am.alerts()
				if err != nil {
					return false, err.Error()
				}
				src, ok := got[c.source.key()]
				if !ok || src.Status == nil {
					return false, "source not active yet"
				}
				fp = src.Fingerprint
				return len(src.Status.InhibitedBy) == 0, fmt.Sprintf("the source %s is itself inhibited by %v", c.source.key(), src.Status.InhibitedBy)
			})
			want := slices.Clone(c.inhibited)
			sort.Strings(want)
			inhibitedNow(t, want, fp)

			// Resolved, the source mutes nothing.
			resolved := c.source
			resolved.EndsAt = time.Now()
			am.post(t, resolved)
			inhibitedNow(t, nil, "")
			got, err := am.alerts()
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := got[c.source.key()]; ok {
				t.Errorf("%s is still active after it was resolved", c.source.key())
			}
		})
	}
}
