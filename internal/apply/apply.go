// Package apply makes a pink cluster's groups and jobs match a file:
// declarative job management for CI pipelines. Plan computes what would
// change; Execute changes it through the API. Applying the same file twice
// changes nothing the second time.
package apply

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pink-scheduler/pink/pkg/job"
)

// GroupDef is a group in an apply file.
type GroupDef struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// JobDef is a job in an apply file, with which optional fields the file set.
type JobDef struct {
	Spec job.Spec
	// SetsPaused is false when the file does not mention "paused": then
	// apply leaves the job's paused state alone, so an operator's pause
	// survives a CI apply.
	SetsPaused bool
}

// File is a parsed apply file:
//
//	groups:               # the scope of --prune: jobs of these groups
//	  - name: batch       # that the file does not list are deleted
//	    description: nightly batch workers
//	jobs:
//	  - name: nightly-report
//	    group: batch
//	    schedule: "0 3 * * *"
//	    target: http
//	    params: {url: "https://reports.internal/run"}
type File struct {
	Groups []GroupDef
	Jobs   []JobDef
}

// rawFile is the file's shape before each job is decoded like an API body.
type rawFile struct {
	Groups []GroupDef        `json:"groups"`
	Jobs   []json.RawMessage `json:"jobs"`
}

// Parse reads an apply file (YAML, or JSON, which is YAML too): it refuses
// unknown fields, invalid jobs and duplicate names, with the position of
// the problem in the message.
func Parse(b []byte) (File, error) {
	var f File
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return f, fmt.Errorf("not YAML or JSON: %w", err)
	}
	if doc == nil {
		return f, fmt.Errorf("the file is empty: give groups and/or jobs")
	}
	asJSON, err := json.Marshal(doc)
	if err != nil {
		return f, fmt.Errorf("the file must be a mapping with string keys: %w", err)
	}
	var raw rawFile
	if err := job.DecodeStrict(bytes.NewReader(asJSON), &raw); err != nil {
		return f, fmt.Errorf("file: %w", err)
	}
	groups := map[string]bool{}
	for i, g := range raw.Groups {
		if err := job.CheckName("name", g.Name); err != nil {
			return f, fmt.Errorf("groups[%d]: %w", i, err)
		}
		if groups[g.Name] {
			return f, fmt.Errorf("groups[%d]: group %s is listed twice", i, g.Name)
		}
		if len(g.Description) > job.MaxDescriptionBytes {
			return f, fmt.Errorf("groups[%d]: description longer than %d bytes", i, job.MaxDescriptionBytes)
		}
		groups[g.Name] = true
		f.Groups = append(f.Groups, g)
	}
	names := map[string]bool{}
	for i, rj := range raw.Jobs {
		var spec job.Spec
		if err := job.DecodeStrict(bytes.NewReader(rj), &spec); err != nil {
			return f, fmt.Errorf("jobs[%d]: %w", i, err)
		}
		var keys map[string]json.RawMessage
		_ = json.Unmarshal(rj, &keys)
		for _, serverSet := range []string{"created_at", "updated_at", "revision", "paused_by", "pause_reason", "paused_until"} {
			if _, ok := keys[serverSet]; ok {
				return f, fmt.Errorf("jobs[%d] (%s): %s is set by the server; leave it out of the file", i, spec.Name, serverSet)
			}
		}
		spec.ApplyDefaults()
		if err := spec.Validate(); err != nil {
			return f, fmt.Errorf("jobs[%d] (%s): %w", i, spec.Name, err)
		}
		if names[spec.Name] {
			return f, fmt.Errorf("jobs[%d]: job %s is listed twice", i, spec.Name)
		}
		names[spec.Name] = true
		_, setsPaused := keys["paused"]
		f.Jobs = append(f.Jobs, JobDef{Spec: spec, SetsPaused: setsPaused})
	}
	if len(f.Groups) == 0 && len(f.Jobs) == 0 {
		return f, fmt.Errorf("the file lists no groups and no jobs")
	}
	return f, nil
}

// comparable returns the fields of a spec that apply manages, as a JSON
// object with normalized params, for comparison and diffs.
func comparable(s job.Spec, withPaused bool) map[string]any {
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC().Truncate(0), s.UpdatedAt.UTC().Truncate(0)
	b, _ := json.Marshal(s)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, k := range []string{"created_at", "updated_at", "revision", "paused_by", "pause_reason", "paused_until"} {
		delete(m, k)
	}
	if !withPaused {
		delete(m, "paused")
	}
	return m
}

// diffFields lists the fields that differ, as `field: old -> new`; params
// are shown masked (job.RedactParams), since plans land in CI logs.
func diffFields(from, to map[string]any) []string {
	keys := map[string]bool{}
	for k := range from {
		keys[k] = true
	}
	for k := range to {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		a, b := plainJSON(from[k]), plainJSON(to[k])
		switch {
		case bytes.Equal(a, b):
		case k == "params":
			out = append(out, diffParams(from["target"], to["target"], a, b))
		default:
			out = append(out, fmt.Sprintf("%s: %s -> %s", k, a, b))
		}
	}
	sort.Strings(out)
	return out
}

// diffParams is the diff line of params that differ, cur (the cluster's)
// and want (the file's), with credentials masked. A token below admin
// reads the cluster's params masked: when the file's, masked, are the
// same, whether the credentials differ cannot be known, and the line says
// so rather than show a change that may not be one.
func diffParams(curTarget, wantTarget any, cur, want []byte) string {
	ct, _ := curTarget.(string)
	wt, _ := wantTarget.(string)
	mc, mw := job.RedactParams(ct, cur), job.RedactParams(wt, want)
	switch {
	case bytes.Equal(mc, mw) && bytes.Equal(mc, cur):
		return "params: hold credentials this token may not read (an admin token compares them)"
	case bytes.Equal(mc, mw):
		return "params: credentials changed (values not shown)"
	}
	return fmt.Sprintf("params: %s -> %s", mc, mw)
}

// plainJSON is v as compact JSON without HTML escapes, as
// job.RedactParams writes it, so the two compare byte for byte.
func plainJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// render formats a value for a diff line.
func render(fields []string) string { return strings.Join(fields, "; ") }
