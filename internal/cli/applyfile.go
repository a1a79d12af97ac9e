package cli

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/pink-scheduler/pink/pkg/client"
	"github.com/pink-scheduler/pink/pkg/job"
)

// serverSet are the fields of a job the server sets: an apply file leaves
// them out (pink apply refuses a file that sets them).
var serverSet = map[string]bool{
	"created_at": true, "updated_at": true, "revision": true,
	"paused_by": true, "pause_reason": true, "paused_until": true,
}

// printApplyFile prints jobs as a file pink apply takes: their specs
// without what the server sets, under jobs:. Params the server masked for
// this caller (not an admin) would be written back as "***": a comment
// says so.
func (e Env) printApplyFile(jobs []client.Job) error {
	list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, j := range jobs {
		n, err := yamlNode(j.Spec)
		if err != nil {
			return err
		}
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !serverSet[n.Content[i].Value] {
				kept = append(kept, n.Content[i], n.Content[i+1])
			}
		}
		n.Content = kept
		list.Content = append(list.Content, n)
		if bytes.Contains(j.Params, []byte(`"`+job.Masked+`"`)) {
			fmt.Fprintf(e.Out, "# job %s: params shown as %q are masked for this token; export as an admin to keep them\n", j.Name, job.Masked)
		}
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "jobs"}, list,
	}}
	return e.encodeYAML(doc)
}
