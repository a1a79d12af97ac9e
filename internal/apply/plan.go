package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/pink-scheduler/pink/pkg/client"
	"github.com/pink-scheduler/pink/pkg/job"
)

// Kind is what an action does.
type Kind string

// Action kinds.
const (
	Create    Kind = "create"
	Update    Kind = "update"
	Delete    Kind = "delete"
	Unchanged Kind = "unchanged"
)

// Action is one change (or non-change) of a plan.
type Action struct {
	Kind   Kind   `json:"action"`
	Object string `json:"object"` // "group" or "job"
	Name   string `json:"name"`
	// Changes lists the fields an update changes (`field: old -> new`).
	Changes []string `json:"changes,omitempty"`
	// Warnings are the API's warnings about a job Execute created or
	// updated (client.Job.Warnings): it was written, but, say, no live
	// worker of its group runs its target. Only on actions Execute
	// returns.
	Warnings []string `json:"warnings,omitempty"`

	group    *GroupDef
	spec     *job.Spec
	revision int64
}

// String renders an action as a diff line.
func (a Action) String() string {
	sign := map[Kind]string{Create: "+", Update: "~", Delete: "-", Unchanged: "="}[a.Kind]
	s := fmt.Sprintf("%s %s %s", sign, a.Object, a.Name)
	if len(a.Changes) > 0 {
		s += ": " + render(a.Changes)
	}
	return s
}

// Plan is the ordered list of actions that makes the cluster match a file:
// groups first, then jobs, deletions last.
type Plan struct {
	Actions []Action `json:"actions"`
}

// Counts returns how many actions of each kind the plan has.
func (p Plan) Counts() map[Kind]int {
	c := map[Kind]int{}
	for _, a := range p.Actions {
		c[a.Kind]++
	}
	return c
}

// Changes reports whether the plan changes anything.
func (p Plan) Changes() bool {
	c := p.Counts()
	return c[Create]+c[Update]+c[Delete] > 0
}

// ErrInvalid marks a file that cannot be applied to the cluster as it is
// (a job of a group that exists nowhere, an invalid spec, a name listed
// twice). MakePlan returns it before anything is written.
var ErrInvalid = errors.New("invalid apply file")

// check validates the whole file against the cluster's groups, so that a
// plan that passes it is not refused halfway for a reason known up front:
// every group and job valid and named once, every job's group in the file
// or in the cluster.
func check(f File, existing map[string]client.Group) error {
	groups := map[string]bool{}
	for i, g := range f.Groups {
		if err := job.CheckName("name", g.Name); err != nil {
			return fmt.Errorf("%w: groups[%d]: %w", ErrInvalid, i, err)
		}
		if groups[g.Name] {
			return fmt.Errorf("%w: groups[%d]: group %s is listed twice", ErrInvalid, i, g.Name)
		}
		if len(g.Description) > job.MaxDescriptionBytes {
			return fmt.Errorf("%w: groups[%d]: description longer than %d bytes", ErrInvalid, i, job.MaxDescriptionBytes)
		}
		groups[g.Name] = true
	}
	jobs := map[string]bool{}
	for i, d := range f.Jobs {
		spec := d.Spec // the server defaults before it validates
		spec.ApplyDefaults()
		if err := spec.Validate(); err != nil {
			return fmt.Errorf("%w: jobs[%d] (%s): %w", ErrInvalid, i, d.Spec.Name, err)
		}
		if jobs[d.Spec.Name] {
			return fmt.Errorf("%w: jobs[%d]: job %s is listed twice", ErrInvalid, i, d.Spec.Name)
		}
		jobs[d.Spec.Name] = true
		if _, inCluster := existing[d.Spec.Group]; !groups[d.Spec.Group] && !inCluster {
			return fmt.Errorf("%w: jobs[%d] (%s): group %q is neither in the file nor in the cluster: add it under groups", ErrInvalid, i, d.Spec.Name, d.Spec.Group)
		}
	}
	if len(f.Groups) == 0 && len(f.Jobs) == 0 {
		return fmt.Errorf("%w: the file lists no groups and no jobs", ErrInvalid)
	}
	return nil
}

// MakePlan compares the file with the cluster. With prune, jobs of the
// file's groups that the file does not list are deleted. It reads only:
// a file that fails validation against the cluster (ErrInvalid) gives no
// plan, so nothing is written.
func MakePlan(ctx context.Context, c *client.Client, f File, prune bool) (Plan, error) {
	var p Plan
	groups, err := c.Groups(ctx)
	if err != nil {
		return p, err
	}
	existing := map[string]client.Group{}
	for _, g := range groups {
		existing[g.Name] = g
	}
	if err := check(f, existing); err != nil {
		return p, err
	}
	for i := range f.Groups {
		g := &f.Groups[i]
		cur, ok := existing[g.Name]
		switch {
		case !ok:
			p.Actions = append(p.Actions, Action{Kind: Create, Object: "group", Name: g.Name, group: g})
		case cur.Description != g.Description:
			p.Actions = append(p.Actions, Action{Kind: Update, Object: "group", Name: g.Name, group: g,
				Changes: []string{fmt.Sprintf("description: %q -> %q", cur.Description, g.Description)}})
		default:
			p.Actions = append(p.Actions, Action{Kind: Unchanged, Object: "group", Name: g.Name})
		}
	}
	jobs, err := c.Jobs(ctx, "")
	if err != nil {
		return p, err
	}
	current := map[string]client.Job{}
	for _, j := range jobs {
		current[j.Name] = j
	}
	listed := map[string]bool{}
	for i := range f.Jobs {
		d := &f.Jobs[i]
		listed[d.Spec.Name] = true
		want := d.Spec
		cur, ok := current[want.Name]
		if !ok {
			p.Actions = append(p.Actions, Action{Kind: Create, Object: "job", Name: want.Name, spec: &want})
			continue
		}
		if !d.SetsPaused {
			want.Paused = cur.Paused
		}
		changes := diffFields(comparable(cur.Spec, true), comparable(want, true))
		if len(changes) == 0 {
			p.Actions = append(p.Actions, Action{Kind: Unchanged, Object: "job", Name: want.Name})
			continue
		}
		p.Actions = append(p.Actions, Action{Kind: Update, Object: "job", Name: want.Name, spec: &want,
			revision: cur.Revision, Changes: changes})
	}
	if prune {
		scope := map[string]bool{}
		for _, g := range f.Groups {
			scope[g.Name] = true
		}
		var doomed []string
		for name, j := range current {
			if scope[j.Group] && !listed[name] {
				doomed = append(doomed, name)
			}
		}
		sort.Strings(doomed)
		for _, name := range doomed {
			p.Actions = append(p.Actions, Action{Kind: Delete, Object: "job", Name: name})
		}
	}
	return p, nil
}

// Execute carries out a plan made by MakePlan, which has validated the
// whole file first, so only a change by someone else meanwhile, a refused
// token or an outage can fail a write. It stops at the first failure and
// returns the actions done so far with the error; each carries the API's
// warnings about its job (Action.Warnings, see Warnings). Updates are
// conditional on the revision the plan saw, so a job changed meanwhile is
// not overwritten.
func Execute(ctx context.Context, c *client.Client, p Plan, reason string) ([]Action, error) {
	var done []Action
	for _, a := range p.Actions {
		var err error
		switch {
		case a.Kind == Unchanged:
			continue
		case a.Object == "group" && a.Kind == Create:
			err = c.CreateGroup(ctx, a.group.Name, a.group.Description, reason)
		case a.Object == "group" && a.Kind == Update:
			err = c.UpdateGroup(ctx, a.group.Name, a.group.Description, reason)
		case a.Object == "job" && a.Kind == Create:
			var out client.Job
			out, err = c.CreateJob(ctx, *a.spec, reason)
			a.Warnings = out.Warnings
		case a.Object == "job" && a.Kind == Update:
			spec := *a.spec
			spec.Revision = a.revision
			var out client.Job
			out, err = c.ReplaceJob(ctx, spec, reason)
			a.Warnings = out.Warnings
		case a.Object == "job" && a.Kind == Delete:
			err = c.DeleteJob(ctx, a.Name, reason)
		}
		if err != nil {
			return done, fmt.Errorf("%s %s %s: %w", a.Kind, a.Object, a.Name, err)
		}
		done = append(done, a)
	}
	return done, nil
}

// Warnings lists the warnings of executed actions, one line each, as
// `job NAME: warning`, in the actions' order: what to print after an
// apply, since each job was written all the same.
func Warnings(done []Action) []string {
	var out []string
	for _, a := range done {
		for _, w := range a.Warnings {
			out = append(out, fmt.Sprintf("%s %s: %s", a.Object, a.Name, w))
		}
	}
	return out
}
