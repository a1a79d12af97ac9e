package dashboards

import (
	"regexp"
	"strings"
)

// The variables every dashboard has after the datasource, in the order of
// grafana/dashboard-linter's template rules: the pink cluster (the target
// label the rules aggregate by), the scrape job and the instance. Every
// query is scoped to them (scope).
var (
	clusterVar  = queryVar("cluster", "Cluster", `label_values(pink_build_info, cluster)`, true)
	scrapeVar   = queryVar("job", "Scrape job", `label_values(pink_build_info{cluster=~"$cluster"}, job)`, true)
	instanceVar = queryVar("instance", "Instance", `label_values(pink_build_info{cluster=~"$cluster",job=~"$job"}, instance)`, true)
)

// seriesRef is a pink series in a query, with its selector if it has one:
// a raw metric (pink_...) or a recorded one (pink:...).
var seriesRef = regexp.MustCompile(`\b(pink_[a-zA-Z0-9_]+|pink:[a-zA-Z0-9_:]+)(\{[^}]*\})?`)

// scope adds the dashboard's cluster, scrape job and instance matchers to
// every series of expr. A recorded series keeps the cluster only: its rule
// aggregates the scrape job and instance away (the reason the linter's
// target-job and target-instance rules do not apply to it).
func scope(expr string) string {
	return seriesRef.ReplaceAllStringFunc(expr, func(m string) string {
		name, sel, _ := strings.Cut(m, "{")
		matchers := `cluster=~"$cluster"`
		if !strings.HasPrefix(name, "pink:") {
			matchers += `,job=~"$job",instance=~"$instance"`
		}
		if sel == "" {
			return name + "{" + matchers + "}"
		}
		return name + "{" + matchers + "," + sel
	})
}

// annotations mark, on every time series panel, the events an on-call
// lines a graph up with: leader changes, restarts of pink processes, and
// changes of jobs (creation, edit, pause, resume: what pink apply deploys).
func annotations(jobs string) Annotations {
	a := func(name, color, expr, title, text string) Annotation {
		return Annotation{Name: name, Datasource: Datasource, Enable: true, Expr: scope(expr), IconColor: color, Step: "15s",
			TitleFormat: title, TextFormat: text}
	}
	return Annotations{List: []Annotation{
		a("Leader changes", "red", `changes(pink_scheduler_leader[1m]) > 0 and pink_scheduler_leader == 1`, "Leader: {{instance}}", "{{instance}} became the leader"),
		a("Restarts", "orange", `changes(process_start_time_seconds{job=~"$job",instance=~"$instance",cluster=~"$cluster"}[1m]) > 0`, "Restart: {{instance}}", "{{job}} {{instance}} started"),
		a("Job changes", "blue", `changes(pink_job_updated_timestamp_seconds`+jobs+`[1m]) > 0`, "Job changed: {{job_name}}", "{{job_name}} (group {{group}}) was created, edited, paused or resumed"),
	}}
}
