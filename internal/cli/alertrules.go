package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/pink-scheduler/pink/internal/alertrules"
)

// alertRulesCommand is `pink alert-rules`: pink's Prometheus rules for a
// deployment's labels, as a rule file or a PrometheusRule.
func alertRulesCommand(stdout io.Writer) *cobra.Command {
	def := alertrules.DefaultConfig()
	c := &cobra.Command{
		Use:   "alert-rules",
		Short: "Print pink's Prometheus recording rules and alerts for your labels",
		Long: `Print pink's Prometheus rules — the recording rules and alerts of alerts/pink-alerts.yml,
whose runbooks are docs/runbooks.md — for the labels of your deployment: the label that
tells pink clusters apart (set it on every pink target, with the value of each cluster's
--cluster-name), the label matchers of the schedulers' scrape job, and where your copy of
the runbooks lives. With --prometheus-rule, as a prometheus-operator PrometheusRule.`,
		Example: `  pink alert-rules > /etc/prometheus/rules/pink.yml
  pink alert-rules --cluster-label pink_cluster --scheduler-selector 'job="pink",role="scheduler"'
  pink alert-rules --prometheus-rule pink --namespace monitoring --rule-label release=prometheus | kubectl apply -f -`,
		Args: cobra.NoArgs,
	}
	f := newFlags(c.Flags())
	cluster := f.string("cluster-label", def.ClusterLabel, "label that tells pink clusters apart; every rule aggregates by it")
	selector := f.string("scheduler-selector", def.SchedulerSelector, "label matchers of the schedulers' up series, without braces")
	runbooks := f.string("runbook-url", def.RunbookURL, "the runbooks page; each alert links to its #section")
	object := f.string("prometheus-rule", "", "print a PrometheusRule object of this name instead of a rule file")
	namespace := f.string("namespace", "", "namespace of the PrometheusRule")
	ruleLabels := c.Flags().StringToString("rule-label", nil, "label of the PrometheusRule, key=value (repeatable), for the operator's ruleSelector")
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := f.check(); err != nil {
			return err
		}
		cfg := alertrules.Config{ClusterLabel: *cluster, SchedulerSelector: *selector, RunbookURL: *runbooks}
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		if *object == "" && (*namespace != "" || len(*ruleLabels) > 0) {
			return fmt.Errorf("%w: --namespace and --rule-label shape a PrometheusRule: give --prometheus-rule too", ErrUsage)
		}
		var out []byte
		var err error
		if *object != "" {
			out, err = alertrules.PrometheusRule(cfg, *object, *namespace, *ruleLabels)
		} else {
			out, err = alertrules.File(cfg)
		}
		if errors.Is(err, alertrules.ErrInvalid) {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		if err != nil {
			return err
		}
		_, err = stdout.Write(out)
		return err
	}
	return c
}
