"""Tests of pink_worker against a real pink (PINK_SERVER, e.g. a pink dev):
run by e2e.TestPythonWorker in the README's test command."""

import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid

from pink_worker import ClaimLost, Run, Worker

SERVER = os.environ.get("PINK_SERVER", "http://127.0.0.1:8080")


def api(method, path, body=None):
    req = urllib.request.Request(SERVER + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=15) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


def until(what, fn, timeout=30):
    """Waits until fn() returns a true value, and returns it."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def runs_of(job):
    return api("GET", "/api/v1/runs?limit=100&job=" + job)["runs"]


def create_job(group, target, **extra):
    name = "py-" + uuid.uuid4().hex[:8]
    spec = {"name": name, "group": group, "schedule": "@daily", "target": target, "paused": True, "timeout": "1m"}
    spec.update(extra)
    api("POST", "/api/v1/jobs", spec)
    return name


def trigger(job):
    api("POST", "/api/v1/jobs/%s/trigger" % job)


def nominal(text):
    """An API time (RFC 3339, UTC) as seconds since the epoch."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    return datetime.datetime.fromisoformat(text).timestamp()


def start(worker):
    t = threading.Thread(target=worker.run, daemon=True)
    t.start()
    until("registration", lambda: worker.worker_id)
    return t


class WorkerTest(unittest.TestCase):
    def setUp(self):
        self.group = "py-" + uuid.uuid4().hex[:6]
        api("POST", "/api/v1/groups", {"name": self.group})

    def test_results_are_recorded_with_output(self):
        w = Worker(SERVER, self.group, capacity=2, ttl_seconds=3)

        @w.handle("send")
        def send(run):
            if run.params.get("fail"):
                raise ValueError("nope")
            return "sent batch %d, attempt %d" % (run.params["batch"], run.attempt)

        t = start(w)
        ok = create_job(self.group, "send", params={"batch": 7})
        bad = create_job(self.group, "send", params={"fail": True})
        trigger(ok)
        trigger(bad)
        good = until("the good run", lambda: runs_of(ok))[0]
        self.assertEqual((good["status"], good["output"], good["client"]), ("succeeded", "sent batch 7, attempt 1", w.worker_id))
        failed = until("the failed run", lambda: runs_of(bad))[0]
        self.assertEqual(failed["status"], "failed")
        self.assertIn("ValueError: nope", failed["error"])
        w.stop()
        t.join(30)
        until("the stopped worker's registration to end",
              lambda: api("GET", "/api/v1/groups/%s/clients" % self.group)["clients"] == [])

    def test_killed_worker_run_is_lost_retried_and_its_late_result_refused(self):
        job = create_job(self.group, "send", retries=1, retry_backoff="10ms")
        victim = subprocess.Popen([sys.executable, "-c", VICTIM, SERVER, self.group], stdout=subprocess.PIPE, text=True)
        self.addCleanup(victim.stdout.close)
        self.addCleanup(victim.kill)
        until("the victim's registration", lambda: api("GET", "/api/v1/groups/%s/clients" % self.group)["clients"])
        trigger(job)
        line = victim.stdout.readline().split()  # "started <snapshot_id> <claim> <worker_id>" once it runs
        self.assertEqual(line[0], "started")
        victim.kill()  # kill -9 mid-run
        victim.wait()

        w = Worker(SERVER, self.group, capacity=1, ttl_seconds=3)
        w.handle("send")(lambda run: "retried as attempt %d" % run.attempt)
        t = start(w)
        history = until("the retry", lambda: [r for r in runs_of(job) if r["status"] == "succeeded"] and runs_of(job))
        by_attempt = {r["attempt"]: r for r in history}
        self.assertEqual(by_attempt[1]["status"], "lost")
        self.assertEqual((by_attempt[2]["status"], by_attempt[2]["output"], by_attempt[2]["client"]),
                         ("succeeded", "retried as attempt 2", w.worker_id))

        zombie = Worker(SERVER, self.group)
        zombie.worker_id = line[3]
        late = Run({"snapshot_id": line[1], "job": job, "group": self.group, "target": "send", "attempt": 1,
                    "scheduled_at": "", "timeout_seconds": 60, "claim": line[2]})
        with self.assertRaises(ClaimLost):
            zombie.report(late, True, output="late")
        w.stop()
        t.join(30)

    def test_long_poll_answers_within_100ms_of_assignment(self):
        # A waiting long poll answers once a run is claimed for it: the
        # handler starts within 100 ms of the run's nominal time (a
        # trigger's is the moment it was written), median of five.
        job = create_job(self.group, "send")
        started = []
        w = Worker(SERVER, self.group, capacity=1, ttl_seconds=10, wait_seconds=20)

        @w.handle("send")
        def note(run):
            started.append((time.time(), run.scheduled_at))
            return "ok"

        t = start(w)
        for i in range(5):
            trigger(job)
            until("run %d" % (i + 1), lambda: len([r for r in runs_of(job) if r["status"] == "succeeded"]) == i + 1)
        lags = [at - nominal(scheduled) for at, scheduled in started]
        self.assertEqual(len(lags), 5)
        print("start lags after a trigger (s): %s" % ", ".join("%.3f" % l for l in lags), file=sys.stderr)
        self.assertLessEqual(statistics.median(lags), 0.1, "start lags %s" % lags)
        w.stop()
        t.join(30)

    def test_drain_moves_unstarted_runs_at_once(self):
        job = create_job(self.group, "send", concurrency="allow")
        release, started = threading.Event(), threading.Event()
        a = Worker(SERVER, self.group, capacity=1, ttl_seconds=60, name="a")

        @a.handle("send")
        def hold(run):
            started.set()
            release.wait(30)
            return "a"

        ta = start(a)
        trigger(job)
        until("a's run", started.is_set)
        trigger(job)
        until("the second run assigned to a",
              lambda: len([s for s in api("GET", "/api/v1/snapshots?job=" + job)["snapshots"] if s.get("client") == a.worker_id]) == 2)
        # a stops polling (pink claims for a worker only what its polls ask
        # for), drains (its unstarted run goes back), finishes and reports.
        a.stop()
        release.set()
        ta.join(30)
        b = Worker(SERVER, self.group, capacity=1, ttl_seconds=60, name="b")
        b.handle("send")(lambda run: "b")
        tb = start(b)
        history = until("both runs", lambda: len(runs_of(job)) == 2 and runs_of(job))
        # The unstarted run moved to b as its first attempt, not lost after
        # a's TTL of 60 s.
        self.assertEqual(sorted((r["attempt"], r["status"], r["output"]) for r in history),
                         [(1, "succeeded", "a"), (1, "succeeded", "b")])
        b.stop()
        tb.join(30)


# A worker process that registers, prints the run it was handed, and hangs.
VICTIM = """
import sys, threading
from pink_worker import Worker
w = Worker(sys.argv[1], sys.argv[2], capacity=1, ttl_seconds=2)
@w.handle("send")
def hang(run):
    print("started", run.snapshot_id, run.claim, w.worker_id, flush=True)
    threading.Event().wait()
w.run()
"""

if __name__ == "__main__":
    unittest.main()
