package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/pink-scheduler/pink/internal/auth"
	"github.com/pink-scheduler/pink/internal/remote"
)

// The HTTP worker protocol (docs/worker-protocol.md): a worker in any
// language registers in a group through a scheduler node, long-polls for
// runs already claimed for it, heartbeats, reports each result with its
// claim, and drains. internal/remote holds each one's lease and claims.

// pollPath is the long poll's route: its requests may last remote.MaxWait.
const pollPath = "/api/v1/groups/{group}/workers/{id}/poll"

type workerRegistration struct {
	Name       string   `json:"name"`
	Capacity   int      `json:"capacity"`
	Targets    []string `json:"targets"`
	TTLSeconds float64  `json:"ttl_seconds"`
}

type workerRegistered struct {
	WorkerID   string  `json:"worker_id"`
	TTLSeconds float64 `json:"ttl_seconds"`
}

type pollRequest struct {
	Max         int     `json:"max"`
	WaitSeconds float64 `json:"wait_seconds"`
}

// polledRun is a run as the protocol hands it: claimed for the worker.
type polledRun struct {
	SnapshotID     string          `json:"snapshot_id"`
	Job            string          `json:"job"`
	Group          string          `json:"group"`
	Target         string          `json:"target"`
	Params         json.RawMessage `json:"params"`
	Attempt        int             `json:"attempt"`
	ScheduledAt    time.Time       `json:"scheduled_at"`
	TimeoutSeconds float64         `json:"timeout_seconds"`
	ShardIndex     int             `json:"shard_index"`
	ShardTotal     int             `json:"shard_total"`
	TraceParent    string          `json:"traceparent,omitempty"`
	Claim          string          `json:"claim"`
}

type resultRequest struct {
	WorkerID string `json:"worker_id"`
	Claim    string `json:"claim"`
	Status   string `json:"status"`
	Output   string `json:"output"`
	Error    string `json:"error"`
}

func (s *Server) registerWorker(r *http.Request) (int, any, error) {
	var body workerRegistration
	if err := decodeBody(r, &body); err != nil {
		return 0, nil, err
	}
	id, ttl, err := s.remote.Register(r.Context(), mux.Vars(r)["group"], remote.Registration{Name: body.Name, Capacity: body.Capacity,
		Targets: body.Targets, TTL: time.Duration(body.TTLSeconds * float64(time.Second))})
	if err != nil {
		return 0, nil, workerError(err)
	}
	return http.StatusCreated, workerRegistered{WorkerID: id, TTLSeconds: ttl.Seconds()}, nil
}

func (s *Server) pollWorker(r *http.Request) (int, any, error) {
	body := pollRequest{Max: 1, WaitSeconds: 20}
	if err := decodeBody(r, &body); err != nil {
		return 0, nil, err
	}
	v := mux.Vars(r)
	runs, err := s.remote.Poll(r.Context(), v["group"], v["id"], body.Max, time.Duration(body.WaitSeconds*float64(time.Second)))
	if err != nil {
		return 0, nil, workerError(err)
	}
	out := make([]polledRun, len(runs))
	now := s.now()
	for i, run := range runs {
		out[i] = polledRun{SnapshotID: run.SnapshotID, Job: run.Job, Group: run.Group, Target: run.Target, Params: run.Params,
			Attempt: run.Attempt, ScheduledAt: run.ScheduledAt.UTC(), TimeoutSeconds: max(run.Deadline.Sub(now).Seconds(), 0),
			ShardIndex: run.ShardIndex, ShardTotal: run.ShardTotal, TraceParent: run.TraceParent, Claim: run.Claim}
		if len(out[i].Params) == 0 {
			out[i].Params = json.RawMessage("{}")
		}
	}
	return http.StatusOK, map[string]any{"runs": out}, nil
}

func (s *Server) heartbeatWorker(r *http.Request) (int, any, error) {
	v := mux.Vars(r)
	if err := s.remote.Heartbeat(v["group"], v["id"]); err != nil {
		return 0, nil, workerError(err)
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) drainWorker(r *http.Request) (int, any, error) {
	v := mux.Vars(r)
	if err := s.remote.Drain(v["group"], v["id"]); err != nil {
		return 0, nil, workerError(err)
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) reportResult(r *http.Request) (int, any, error) {
	var body resultRequest
	if err := decodeBody(r, &body); err != nil {
		return 0, nil, err
	}
	var res remote.Result
	switch body.Status {
	case "succeeded":
		res.Succeeded = true
	case "failed":
	default:
		return 0, nil, &Error{Status: http.StatusBadRequest, Code: "invalid_field", Field: "status",
			Message: `status must be "succeeded" or "failed" (a run past its timeout is recorded timed_out by pink)`}
	}
	res.Output, res.Error = body.Output, body.Error
	if group, ok := s.remote.GroupOf(body.WorkerID); ok {
		if err := mayServe(r, group); err != nil {
			return 0, nil, err
		}
	}
	if err := s.remote.Report(r.Context(), body.WorkerID, mux.Vars(r)["id"], body.Claim, res); err != nil {
		return 0, nil, workerError(err)
	}
	return http.StatusOK, map[string]string{"status": "recorded"}, nil
}

// workerRoute lets a request through for a worker token of the route's
// group or an admin (a viewer or operator may not act as a worker: it
// would be handed runs, with their params), and answers 404 where the node
// serves no worker protocol.
func (s *Server) workerRoute(h handler) handler {
	return func(r *http.Request) (int, any, error) {
		id := auth.IdentityFrom(r.Context())
		if g, ok := mux.Vars(r)["group"]; ok {
			if err := mayServe(r, g); err != nil {
				return 0, nil, err
			}
		} else if id.Role != auth.RoleWorker && id.Role != auth.RoleAdmin {
			// The result route: its worker's group is checked once known.
			return 0, nil, errorf(http.StatusForbidden, "forbidden",
				fmt.Sprintf("token %q has role %s; the worker protocol needs a worker token, or admin", id.Name, id.Role))
		}
		if s.remote == nil {
			return 0, nil, errorf(http.StatusNotFound, "worker_protocol_off", "this node does not serve the HTTP worker protocol")
		}
		rt, body, ok, err := s.forward.route(r)
		if err != nil || !ok {
			if err != nil {
				return 0, nil, err
			}
			return h(r)
		}
		if err := mayServe(r, rt.Group); err != nil {
			return 0, nil, err
		}
		answer, err := s.forward.send(r, rt, body)
		if err != nil {
			return 0, nil, err
		}
		return answer.status, answer, nil
	}
}

// mayServe is 403 unless the request's token may act as a worker of group.
func mayServe(r *http.Request, group string) error {
	id := auth.IdentityFrom(r.Context())
	if id.MayServe(group) {
		return nil
	}
	msg := fmt.Sprintf("token %q has role %s; the worker protocol needs a worker token of group %s, or admin", id.Name, id.Role, group)
	if id.Role == auth.RoleWorker {
		msg = fmt.Sprintf("worker token %q may serve %s, not group %s", id.Name, strings.Join(id.Groups, ", "), group)
	}
	return errorf(http.StatusForbidden, "forbidden", msg)
}

// workerError is the protocol's answer to a registry error.
func workerError(err error) error {
	switch {
	case errors.Is(err, remote.ErrGone):
		return errorf(http.StatusGone, "worker_gone", "this worker is not registered (its lease ended, or it drained): its runs moved; register again")
	case errors.Is(err, remote.ErrClaimLost):
		return errorf(http.StatusConflict, "claim_lost",
			"the run is not this worker's to report: it was moved, retried elsewhere, timed out, or reported already; drop the result")
	case errors.Is(err, remote.ErrInvalid):
		return errorf(http.StatusBadRequest, "invalid_field", err.Error())
	}
	return err
}
