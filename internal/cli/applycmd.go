package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/pink-scheduler/pink/internal/apply"
	"github.com/pink-scheduler/pink/pkg/client"
)

// Apply makes the cluster match the file at path ("-" for stdin). With
// dryRun it only prints the plan.
func (e Env) Apply(ctx context.Context, path string, prune, dryRun bool) error {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	f, err := apply.ParseFile(path, b)
	if err != nil {
		return &client.Error{Status: http.StatusBadRequest, Code: "invalid_file", Message: fmt.Sprintf("%s: %v", path, err)}
	}
	plan, err := apply.MakePlan(ctx, e.Client, f, prune)
	if errors.Is(err, apply.ErrInvalid) {
		return &client.Error{Status: http.StatusBadRequest, Code: "invalid_file", Message: fmt.Sprintf("%s: %v; nothing was changed", path, err)}
	}
	if err != nil {
		return err
	}
	if dryRun {
		return e.report(plan.Actions, plan, true)
	}
	executed, err := apply.Execute(ctx, e.Client, plan, e.Reason)
	// Report in the plan's order what was done and what needed nothing.
	did := map[string]apply.Action{}
	for _, a := range executed {
		did[a.Object+" "+a.Name] = a
	}
	var done []apply.Action
	for _, a := range plan.Actions {
		if x, ok := did[a.Object+" "+a.Name]; ok {
			done = append(done, x) // with the API's warnings
		} else if a.Kind == apply.Unchanged {
			done = append(done, a)
		}
	}
	if rerr := e.report(done, apply.Plan{Actions: done}, false); rerr != nil && err == nil {
		err = rerr
	}
	// Warnings are for people, on stderr; -o json carries them in the
	// actions.
	for _, w := range apply.Warnings(done) {
		fmt.Fprintln(e.Err, "warning: "+w)
	}
	return err
}

func (e Env) report(actions []apply.Action, plan apply.Plan, dryRun bool) error {
	switch e.Format {
	case formatJSON:
		return e.printJSON(map[string]any{"dry_run": dryRun, "actions": actions, "counts": plan.Counts()})
	case formatYAML:
		return e.printYAML(map[string]any{"dry_run": dryRun, "actions": actions, "counts": plan.Counts()})
	case formatName:
		for _, a := range actions {
			if _, err := fmt.Fprintln(e.Out, a.Object+"/"+a.Name); err != nil {
				return err
			}
		}
		return nil
	}
	for _, a := range actions {
		fmt.Fprintln(e.Out, a.String())
	}
	c := plan.Counts()
	format := "applied: %d created, %d updated, %d deleted, %d unchanged\n"
	if dryRun {
		format = "dry run: %d to create, %d to update, %d to delete, %d unchanged\n"
	}
	_, err := fmt.Fprintf(e.Out, format, c[apply.Create], c[apply.Update], c[apply.Delete], c[apply.Unchanged])
	return err
}
