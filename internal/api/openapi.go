package api

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/pink-scheduler/pink/internal/auth"
)

// routeDoc describes one route in the OpenAPI document.
type routeDoc struct {
	summary  string
	request  string // schema of the body, "" for none
	response string // schema of the success body
	status   int
	query    []string // query parameters
}

// routeDocs documents every route of Routes, keyed "METHOD path".
var routeDocs = map[string]routeDoc{
	"POST /api/v1/groups":                            {"Create a group", "GroupInput", "Group", 201, nil},
	"GET /api/v1/groups":                             {"List groups with their live client counts, by name", "", "GroupList", 200, []string{"limit", "cursor"}},
	"GET /api/v1/groups/{group}":                     {"Get a group", "", "Group", 200, nil},
	"PUT /api/v1/groups/{group}":                     {"Change a group's description", "GroupInput", "Group", 200, nil},
	"DELETE /api/v1/groups/{group}":                  {"Delete a group no job uses", "", "Deleted", 200, nil},
	"GET /api/v1/groups/{group}/clients":             {"List a group's live clients", "", "ClientList", 200, nil},
	"DELETE /api/v1/groups/{group}/clients/{client}": {"Evict a client: its work fails over as if it had died", "", "Evicted", 200, nil},
	"POST /api/v1/jobs":                              {"Create a job", "JobInput", "Job", 201, nil},
	"GET /api/v1/jobs":                               {"List jobs by name, filtered by group, q (name or description), paused, failing and label", "", "JobList", 200, []string{"group", "q", "paused", "failing", "label", "limit", "cursor"}},
	"GET /api/v1/jobs/{name}":                        {"Get a job", "", "Job", 200, nil},
	"PUT /api/v1/jobs/{name}":                        {"Replace a job (conditional with revision)", "JobInput", "Job", 200, nil},
	"DELETE /api/v1/jobs/{name}":                     {"Delete a job and its pending snapshots", "", "Deleted", 200, nil},
	"POST /api/v1/jobs/{name}/pause":                 {"Pause a job, optionally until a time", "PauseInput", "Job", 200, nil},
	"POST /api/v1/jobs/{name}/resume":                {"Resume a job", "", "Job", 200, nil},
	"POST /api/v1/jobs/{name}/trigger":               {"Run a job now", "", "Triggered", 202, []string{"force"}},
	"POST /api/v1/jobs/{name}/backfill":              {"Run every fire of a past time range", "BackfillInput", "BackfillAccepted", 202, nil},
	"GET /api/v1/jobs/{name}/preview":                {"List a job's next fires with UTC offsets and daylight-saving notes", "", "Preview", 200, []string{"n"}},
	"POST /api/v1/schedules/validate":                {"Check a schedule and time zone without creating a job", "ScheduleInput", "ScheduleCheck", 200, nil},
	"GET /api/v1/schedules/changes":                  {"List jobs written before pink read schedules as crontab(5) does whose fires moved", "", "ScheduleChangeList", 200, []string{"limit", "cursor"}},
	"GET /api/v1/snapshots":                          {"List live snapshots (pending, dispatched, running)", "", "SnapshotList", 200, []string{"group", "job", "limit", "cursor"}},
	"GET /api/v1/snapshots/{id}":                     {"Get a live snapshot", "", "Snapshot", 200, nil},
	"DELETE /api/v1/snapshots/{id}":                  {"Cancel a snapshot that has not started", "", "Canceled", 200, nil},
	"GET /api/v1/runs":                               {"List finished runs, newest first: of one job, or across jobs (filters group, since, until)", "", "RunPage", 200, []string{"job", "group", "status", "since", "until", "limit", "cursor"}},
	"GET /api/v1/runs/{id}":                          {"Get a run", "", "Run", 200, nil},
	"GET /api/v1/nodes":                              {"List scheduler nodes and the leader", "", "NodeList", 200, nil},
	"GET /api/v1/stats":                              {"Runs by status and duration percentiles per time bucket, from the history etcd holds, and job totals", "", "Stats", 200, []string{"job", "group", "from", "to", "step", "step_seconds"}},
	"GET /api/v1/audit":                              {"List the audit log, newest first", "", "AuditPage", 200, []string{"limit", "cursor"}},
	"GET /api/v1/openapi.json":                       {"This document", "", "Object", 200, nil},
	"GET /api/v1/whoami":                             {"Who the caller's token is and its role", "", "Whoami", 200, nil},
	"GET /api/v1/events":                             {"Stream changes of jobs, snapshots, runs, clients, nodes and the leader as Server-Sent Events", "", "StreamEvent", 200, []string{"job", "group", "types", "last_event_id"}},
	// The HTTP worker protocol (docs/worker-protocol.md).
	"POST /api/v1/groups/{group}/workers":                {"Register a worker of the group (HTTP worker protocol): a client with a lease the node holds while it polls or heartbeats within its TTL", "WorkerRegistration", "WorkerRegistered", 201, nil},
	"POST /api/v1/groups/{group}/workers/{id}/poll":      {"Long-poll for runs claimed for this worker: answers once work is assigned or after wait_seconds with none; counts as a heartbeat; 410 worker_gone once its lease ended", "PollInput", "PollAnswer", 200, nil},
	"POST /api/v1/groups/{group}/workers/{id}/heartbeat": {"Keep the worker's lease (204); 410 worker_gone once it ended", "", "", 204, nil},
	"DELETE /api/v1/groups/{group}/workers/{id}":         {"Drain the worker: its unstarted runs go back to the group at once, its running ones are retried", "", "", 204, nil},
	"POST /api/v1/runs/{id}/result":                      {"Report a run's result with its claim (id: the snapshot id); 409 claim_lost when the run was moved, retried or timed out", "ResultInput", "Recorded", 200, nil},
}

var pathParam = regexp.MustCompile(`\{(\w+)\}`)

// queryDocs describes the query parameters named in routeDocs.
var queryDocs = map[string]map[string]any{
	"group":  {"description": "only those of this group", "schema": str},
	"job":    {"description": "only those of this job", "schema": str},
	"since":  {"description": "runs across jobs: nominal time at or after this RFC 3339 time", "schema": when},
	"until":  {"description": "runs across jobs: nominal time at or before this RFC 3339 time", "schema": when},
	"status": {"description": "only runs with this status", "schema": map[string]any{"type": "string", "enum": []string{"succeeded", "failed", "timed_out", "canceled", "lost"}}},
	"limit": {"description": fmt.Sprintf("page size, 1 to %d (default %d on /jobs, /groups, /snapshots; %d on /runs, /audit)", maxPageLimit, defaultPageLimit, defaultRunLimit),
		"schema": map[string]any{"type": "integer", "minimum": 1, "maximum": maxPageLimit}},
	"cursor": {"description": "the next_cursor of the previous page; absent for the first page", "schema": str},
	"from":   {"description": "start of the range (RFC 3339, included; default to − 24h)", "schema": when},
	"to":     {"description": "end of the range (RFC 3339, excluded; default now)", "schema": when},
	"step":   {"description": "bucket length, a duration of whole seconds, at least 1m (default 1h; at most 1440 buckets)", "schema": str},
	"step_seconds": {"description": "the bucket length as a number of seconds, instead of step (both: they must agree, else 400 conflicting_fields)",
		"schema": number},
	"types": {"description": "only events of these kinds, comma-separated: job, snapshot, run, client, node, leader", "schema": str},
	"last_event_id": {"description": "resume after this event id (an etcd revision), as the Last-Event-ID header does",
		"schema": integer},
	"force": {"description": "run even if the job's concurrency is forbid and a run is live", "schema": boolean},
	"n":     {"description": fmt.Sprintf("how many fires, 1 to %d (default %d)", maxPreview, defaultPreview), "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": maxPreview}},
}

// reasonParams document the optional reason of a change, recorded in the
// audit log (see reasonOf).
func reasonParams() []any {
	desc := fmt.Sprintf("why, recorded in the audit log (at most %d bytes; longer is cut). The body's reason wins on pause and backfill.", maxReasonBytes)
	return []any{
		map[string]any{"name": "Pink-Reason", "in": "header", "description": desc, "schema": str},
		map[string]any{"name": "reason", "in": "query", "description": desc + " Used when the Pink-Reason header is absent.", "schema": str},
	}
}

func obj(props map[string]any, required ...string) map[string]any {
	m := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		m["required"] = required
	}
	return m
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func arrayOf(name string) map[string]any {
	return map[string]any{"type": "array", "items": ref(name)}
}

var (
	str     = map[string]any{"type": "string"}
	integer = map[string]any{"type": "integer"}
	boolean = map[string]any{"type": "boolean"}
	number  = map[string]any{"type": "number"}
	// when is a time a request sends: any RFC 3339 time.
	when = map[string]any{"type": "string", "format": "date-time"}
	// answerTime is a time in an answer: RFC 3339 in UTC with milliseconds.
	answerTime = map[string]any{"type": "string", "format": "date-time", "pattern": `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`,
		"example": "2026-12-02T07:30:00.123Z"}
	// durSeconds is the <name>_seconds twin of a duration <name>.
	durSeconds = map[string]any{"type": "number", "description": "the duration next to it, in seconds"}
	object     = map[string]any{"type": "object", "additionalProperties": true}
)

// Descriptions of the fields that say why fires wait (see targets.go).
const (
	warningsDoc = "Only in the answer to a create or replace, absent when there is nothing to say: the job was written, " +
		"but no live worker of its group runs its target, or the group has no live worker; its fires wait as pending until one does."
	pendingReasonDoc = "On a pending snapshot that no live worker would take, why: its group has no live worker, or none that " +
		"runs its target. Absent otherwise (it may still wait for the leader, a retry's backoff or the run it replaces)."
)

// schemas are the bodies the API reads and writes. Answers' times are
// answerTime; each duration has its _seconds twin (see wire.go).
func schemas() map[string]any {
	spec := map[string]any{
		"name": str, "group": str, "schedule": str, "timezone": str, "target": str, "params": object,
		"timeout": str, "timeout_seconds": durSeconds, "retries": integer, "retry_backoff": str, "retry_backoff_seconds": durSeconds,
		"concurrency":            map[string]any{"type": "string", "enum": []string{"allow", "forbid", "replace"}},
		"misfire":                map[string]any{"type": "string", "enum": []string{"run_once", "skip", "run_all"}},
		"catchup_window":         str,
		"catchup_window_seconds": durSeconds,
		"strategy":               map[string]any{"type": "string", "enum": []string{"round_robin", "random", "least_loaded", "hash", "broadcast"}},
		"shards":                 integer, "paused": boolean, "labels": map[string]any{"type": "object", "additionalProperties": str},
		"description": str, "history_limit": integer, "revision": integer,
	}
	job := map[string]any{}
	for k, v := range spec {
		job[k] = v
	}
	for k, v := range map[string]any{"created_at": answerTime, "updated_at": answerTime, "paused_by": str, "pause_reason": str,
		"paused_until": answerTime, "next_fires": map[string]any{"type": "array", "items": answerTime}, "schedule_text": str,
		"last_run":        obj(map[string]any{"status": map[string]any{"type": "string", "enum": []string{"succeeded", "failed"}}, "finished_at": answerTime}),
		"schedule_change": ref("ScheduleChange"),
		"warnings":        map[string]any{"type": "array", "items": str, "description": warningsDoc}} {
		job[k] = v
	}
	snap := map[string]any{"id": str, "job": str, "group": str, "target": str, "params": object,
		"timeout": str, "timeout_seconds": durSeconds, "retries": integer, "retry_backoff": str, "retry_backoff_seconds": durSeconds,
		"trigger": str, "attempt": integer, "shard_index": integer, "shard_total": integer, "scheduled_at": answerTime, "created_at": answerTime,
		"job_revision": integer, "traceparent": str, "not_before": answerTime, "pinned": boolean, "cancel_requested": boolean, "written_ahead": boolean, "claimed_ahead": boolean,
		"state":  map[string]any{"type": "string", "enum": []string{"pending", "dispatched", "running"}},
		"client": str, "dispatched_at": answerTime, "started_at": answerTime,
		"pending_reason": map[string]any{"type": "string", "description": pendingReasonDoc}}
	run := map[string]any{"id": str, "snapshot_id": str, "job": str, "group": str, "client": str, "target": str,
		"attempt": integer, "shard_index": integer, "shard_total": integer, "trigger": str,
		"status":       map[string]any{"type": "string", "enum": []string{"succeeded", "failed", "timed_out", "canceled", "lost"}},
		"scheduled_at": answerTime, "dispatched_at": answerTime, "started_at": answerTime, "finished_at": answerTime,
		"duration": str, "duration_seconds": durSeconds, "output": str, "error": str, "error_code": str, "trace_id": str}
	out := map[string]any{
		"Error": obj(map[string]any{"error": obj(map[string]any{"code": str, "message": str, "field": str}, "code", "message")}, "error"),
		"JobInput": map[string]any{"type": "object", "properties": spec, "required": []string{"name", "group", "schedule", "target"},
			"additionalProperties": false},
		"Job":              obj(job),
		"JobList":          obj(map[string]any{"jobs": arrayOf("Job"), "next_cursor": str}),
		"GroupInput":       obj(map[string]any{"name": str, "description": str}, "name"),
		"Group":            obj(map[string]any{"name": str, "description": str, "created_at": answerTime, "clients": integer}),
		"GroupList":        obj(map[string]any{"groups": arrayOf("Group"), "next_cursor": str}),
		"Client":           obj(map[string]any{"id": str, "group": str, "host": str, "pid": integer, "capacity": integer, "targets": map[string]any{"type": "array", "items": str}, "version": str, "addr": str, "started_at": answerTime, "via": str, "draining": boolean}),
		"ClientList":       obj(map[string]any{"clients": arrayOf("Client")}),
		"PauseInput":       obj(map[string]any{"reason": str, "until": map[string]any{"type": "string", "description": "RFC 3339 time or a duration such as 2h"}, "until_seconds": durSeconds}),
		"Triggered":        triggeredSchema(),
		"BackfillInput":    obj(map[string]any{"from": when, "to": when, "reason": str}, "from", "to"),
		"BackfillAccepted": obj(map[string]any{"backfill_id": str, "job": str, "fires": integer, "first": answerTime, "last": answerTime}),
		"Preview":          obj(map[string]any{"job": str, "schedule": str, "timezone": str, "paused": boolean, "fires": arrayOf("Fire"), "end": str}),
		"ScheduleInput":    obj(map[string]any{"schedule": str, "timezone": str, "n": integer}, "schedule"),
		"ScheduleChange":   obj(map[string]any{"old_next": answerTime, "new_next": answerTime, "keep_old_schedule": str, "refused_for_new_jobs": str}),
		"ScheduleChangeList": obj(map[string]any{"since_revision": integer, "next_cursor": str, "jobs": map[string]any{"type": "array", "items": obj(map[string]any{
			"job": str, "group": str, "schedule": str, "timezone": str, "paused": boolean,
			"old_next": answerTime, "new_next": answerTime, "keep_old_schedule": str, "refused_for_new_jobs": str})}}),
		"Whoami":        obj(map[string]any{"name": str, "role": str, "authentication": boolean}),
		"StreamEvent":   obj(map[string]any{"revision": integer, "seq": integer, "type": map[string]any{"type": "string", "enum": []string{"job", "snapshot", "run", "client", "node", "leader"}}, "action": map[string]any{"type": "string", "enum": []string{"put", "delete"}}, "job": str, "group": str, "id": str, "state": str, "status": str, "client": str}),
		"ScheduleCheck": obj(map[string]any{"valid": boolean, "schedule": str, "timezone": str, "interval": str, "interval_seconds": durSeconds, "fires": arrayOf("Fire"), "end": str}),
		"Snapshot":      obj(snap),
		"SnapshotList":  obj(map[string]any{"snapshots": arrayOf("Snapshot"), "next_cursor": str}),
		"Run":           obj(run),
		"RunPage":       obj(map[string]any{"runs": arrayOf("Run"), "next_cursor": str}),
		"Node":          obj(map[string]any{"id": str, "addr": str, "url": str, "version": str, "host": str, "pid": integer, "started_at": answerTime, "leader": boolean}),
		"NodeList":      obj(map[string]any{"nodes": arrayOf("Node"), "leader": str}),
		"AuditEntry":    obj(map[string]any{"id": str, "at": answerTime, "who": str, "role": str, "action": str, "target": str, "reason": str, "detail": object}),
		"AuditPage":     obj(map[string]any{"entries": arrayOf("AuditEntry"), "next_cursor": str}),
		"Deleted":       obj(map[string]any{"name": str, "deleted": boolean}),
		"Evicted":       obj(map[string]any{"group": str, "client": str, "evicted": boolean}),
		"Canceled":      obj(map[string]any{"id": str, "status": str}),
		"Object":        object,
		"Status":        obj(map[string]any{"status": str}, "status"),
	}
	maps.Copy(out, moreSchemas())
	maps.Copy(out, workerSchemas())
	return out
}

// moreSchemas are the schemas of previews and statistics.
func moreSchemas() map[string]any {
	percentiles := func(v map[string]any) map[string]any {
		return obj(map[string]any{"p50": v, "p95": v, "p99": v, "max": v})
	}
	return map[string]any{
		"Fire": obj(map[string]any{
			"at": map[string]any{"type": "string", "format": "date-time", "pattern": `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$`,
				"description": "the fire in the job's time zone, with its offset (the one answer time not in UTC)", "example": "2026-03-08T03:00:00.000-04:00"},
			"utc": answerTime, "utc_offset": str,
			"note": map[string]any{"type": "string", "enum": []string{"dst_gap", "dst_repeated"}}}),
		"Stats": obj(map[string]any{"from": answerTime, "to": answerTime, "step": str, "step_seconds": durSeconds, "truncated": boolean, "counted_since": answerTime,
			"buckets": map[string]any{"type": "array", "items": obj(map[string]any{"start": answerTime, "total": integer, "runs": object,
				"duration": percentiles(str), "duration_seconds": percentiles(number)})},
			"totals": obj(map[string]any{"runs": object, "jobs": integer, "active": integer, "paused": integer, "failing": integer})}),
	}
}

// triggeredSchema is the answer of a trigger: snapshot_id for one
// snapshot, snapshot_ids (only) for a fire of several.
func triggeredSchema() map[string]any {
	m := obj(map[string]any{
		"snapshot_id":  map[string]any{"type": "string", "description": "the snapshot made, when the trigger made one"},
		"snapshot_ids": map[string]any{"type": "array", "items": str, "description": "the snapshots made, when the trigger made several (shards, broadcast)"},
		"job":          str, "state": str}, "job", "state")
	m["oneOf"] = []any{map[string]any{"required": []string{"snapshot_id"}}, map[string]any{"required": []string{"snapshot_ids"}}}
	return m
}

// OpenAPI returns the OpenAPI 3 document of the API, built from Routes.
func (s *Server) OpenAPI() map[string]any {
	errResp := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
	}
	paths := map[string]any{}
	for _, rt := range s.Routes() {
		d := routeDocs[rt.Method+" "+rt.Path]
		op := map[string]any{
			"summary":     d.summary,
			"operationId": operationID(rt),
			"description": "Needs role " + rt.Role.String() + " or higher.",
			"security":    []any{map[string]any{"bearer": []string{}}},
			"responses": map[string]any{
				strconv.Itoa(d.status): okResponse(rt, d),
				"400":                  errResp("Bad input; nothing was written"),
				"401":                  errResp("No valid token"),
				"403":                  errResp("The token's role may not do this"),
				"404":                  errResp("Not found"),
				"500":                  errResp("Internal error"),
				"503":                  errResp("etcd did not answer in time"),
			},
		}
		if strings.Contains(rt.Path, "/workers/{id}") {
			op["responses"].(map[string]any)["410"] = errResp("worker_gone: the worker's lease ended; register again")
		}
		if strings.Contains(rt.Path, "/workers/{id}") || strings.HasSuffix(rt.Path, "/result") {
			op["responses"].(map[string]any)["503"] = errResp("etcd did not answer in time, or worker_node_unreachable: the scheduler node holding the worker (any node forwards to it) does not answer; retry")
		}
		if rt.Method == http.MethodPost || rt.Method == http.MethodPut {
			op["responses"].(map[string]any)["409"] = errResp("Conflict")
			op["responses"].(map[string]any)["413"] = errResp("Body over 1 MiB")
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": str})
		}
		for _, q := range d.query {
			p := map[string]any{"name": q, "in": "query", "required": false}
			for k, v := range queryDocs[q] {
				p[k] = v
			}
			params = append(params, p)
		}
		if rt.Action != "" {
			params = append(params, reasonParams()...)
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if d.request != "" {
			op["requestBody"] = map[string]any{"required": rt.Action != "job.pause",
				"content": map[string]any{"application/json": map[string]any{"schema": ref(d.request)}}}
		}
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		item[strings.ToLower(rt.Method)] = op
	}
	s.documentOpenRoutes(paths)
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "pink API", "version": "v1",
			"description": "The JSON API of pink, the distributed cron scheduler. Errors have the Error shape. Roles: " +
				strings.Join([]string{auth.RoleViewer.String(), auth.RoleOperator.String(), auth.RoleAdmin.String()}, " < ") + "."},
		"paths": paths,
		"components": map[string]any{
			"schemas":         schemas(),
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
}

// okResponse is a route's success: one JSON body, or for the event stream
// text/event-stream whose events' data have the schema named.
func okResponse(rt Route, d routeDoc) map[string]any {
	if d.status == http.StatusNoContent {
		return map[string]any{"description": "Done; no body"}
	}
	if rt.handler == nil {
		return map[string]any{"description": "An event stream: each event has id (its etcd revision), event (its type) and data (JSON of this schema); " +
			"reset (read the state again), overflow and error events end or restart it; a comment every 15 s",
			"content": map[string]any{"text/event-stream": map[string]any{"schema": ref(d.response)}}}
	}
	return map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": ref(d.response)}}}
}

// documentOpenRoutes adds the routes outside /api/v1 to paths: health,
// readiness and (when served) metrics.
func (s *Server) documentOpenRoutes(paths map[string]any) {
	jsonBody := func(desc, schema string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": ref(schema)}}}
	}
	open := []any{} // no security requirement: no token needed
	paths["/healthz"] = map[string]any{"get": map[string]any{
		"summary": "Liveness: 200 while the process serves", "operationId": "get_healthz",
		"description": "Open: needs no token.", "security": open,
		"responses": map[string]any{"200": jsonBody("The process runs", "Status")},
	}}
	paths["/readyz"] = map[string]any{"get": map[string]any{
		"summary": "Readiness: 200 when etcd answers a read", "operationId": "get_readyz",
		"description": "Open: needs no token.", "security": open,
		"responses": map[string]any{
			"200": jsonBody("etcd answers", "Status"),
			"503": jsonBody("etcd is not reachable (code etcd_unavailable)", "Error"),
		},
	}}
	if !s.metrics {
		return
	}
	op := map[string]any{
		"summary": "Prometheus metrics", "operationId": "get_metrics",
		"description": "Open unless the server runs with --metrics-require-token (then a viewer token).", "security": open,
		"responses": map[string]any{"200": map[string]any{"description": "Metrics in the Prometheus text format (OpenMetrics when asked)",
			"content": map[string]any{"text/plain": map[string]any{"schema": str}, "application/openmetrics-text": map[string]any{"schema": str}}}},
	}
	if s.metricsNeedToken {
		op["description"] = "Needs role viewer or higher (--metrics-require-token)."
		op["security"] = []any{map[string]any{"bearer": []string{}}}
		op["responses"].(map[string]any)["401"] = jsonBody("No valid token", "Error")
	}
	paths["/metrics"] = map[string]any{"get": op}
}

func (s *Server) openAPI(*http.Request) (int, any, error) { return http.StatusOK, s.OpenAPI(), nil }

func operationID(rt Route) string {
	parts := []string{strings.ToLower(rt.Method)}
	for _, p := range strings.Split(strings.TrimPrefix(rt.Path, "/api/v1/"), "/") {
		p = strings.Trim(p, "{}")
		p = strings.ReplaceAll(strings.TrimSuffix(p, ".json"), ".", "_")
		parts = append(parts, p)
	}
	return strings.Join(parts, "_")
}

// workerSchemas are the bodies of the HTTP worker protocol.
func workerSchemas() map[string]any {
	return map[string]any{
		"WorkerRegistration": obj(map[string]any{"name": str, "capacity": integer, "targets": map[string]any{"type": "array", "items": str},
			"ttl_seconds": durSeconds}, "targets"),
		"WorkerRegistered": obj(map[string]any{"worker_id": str, "ttl_seconds": durSeconds}),
		"PollInput":        obj(map[string]any{"max": integer, "wait_seconds": durSeconds}),
		"PollAnswer": obj(map[string]any{"runs": map[string]any{"type": "array", "items": obj(map[string]any{
			"snapshot_id": str, "job": str, "group": str, "target": str, "params": object, "attempt": integer, "scheduled_at": answerTime,
			"timeout_seconds": durSeconds, "shard_index": integer, "shard_total": integer, "traceparent": str, "claim": str})}}),
		"ResultInput": obj(map[string]any{"worker_id": str, "claim": str,
			"status": map[string]any{"type": "string", "enum": []string{"succeeded", "failed"}}, "output": str, "error": str}, "worker_id", "claim", "status"),
		"Recorded": obj(map[string]any{"status": str}),
	}
}
