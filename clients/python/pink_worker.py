"""A pink worker in Python: pink's HTTP worker protocol, standard library only.

    from pink_worker import Worker

    worker = Worker("http://127.0.0.1:8080", group="billing", capacity=4)

    @worker.handle("send-invoices")
    def send(run):
        send_invoices(run.params["batch"])   # raise to fail the run
        return "sent"                        # the run's output

    worker.run()   # until SIGTERM or worker.stop(); then drains

The scheduler node holds the worker's lease while it polls or heartbeats
within its TTL; each run it hands out is already claimed for this worker,
and its result carries the claim. A worker that dies has its running runs
recorded lost and retried elsewhere; its late results are refused (409).
"""

import json
import logging
import signal
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

__all__ = ["Worker", "Run", "WorkerGone", "ClaimLost"]

log = logging.getLogger("pink_worker")


class WorkerGone(Exception):
    """The registration ended (410 worker_gone): its runs moved."""


class ClaimLost(Exception):
    """A result was refused (409 claim_lost): the run is not ours any more."""


class Run:
    """One run handed to this worker, already claimed for it."""

    def __init__(self, d):
        self.snapshot_id = d["snapshot_id"]
        self.job = d["job"]
        self.group = d["group"]
        self.target = d["target"]
        self.params = d.get("params") or {}
        self.attempt = d["attempt"]
        self.scheduled_at = d["scheduled_at"]
        self.timeout_seconds = d["timeout_seconds"]
        self.shard_index = d.get("shard_index", 0)
        self.shard_total = d.get("shard_total", 0)
        self.traceparent = d.get("traceparent", "")
        self.claim = d["claim"]
        # The handler's deadline on this process's monotonic clock.
        self.deadline = time.monotonic() + self.timeout_seconds


class Worker:
    """A worker of one group; register handlers with handle, then run."""

    def __init__(self, server, group, token=None, capacity=4, name=None, ttl_seconds=10, wait_seconds=5):
        self.server = server.rstrip("/")
        self.group = group
        self.token = token
        self.capacity = capacity
        self.name = name or "python"
        self.ttl_seconds = ttl_seconds
        self.wait_seconds = wait_seconds
        self.worker_id = None
        self._handlers = {}
        self._stop = threading.Event()
        self._slots = threading.Condition()
        self._running = 0

    def handle(self, target):
        """Register the decorated function fn(run) -> output for target."""
        def register(fn):
            self._handlers[target] = fn
            return fn
        return register

    def stop(self):
        """Stop polling; run() then waits for running handlers and drains."""
        self._stop.set()

    def _request(self, method, path, body=None, timeout=10):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            if e.code == 410:
                raise WorkerGone(self.worker_id) from None
            if e.code == 409:
                raise ClaimLost(path) from None
            raise

    def _register(self):
        answer = self._request("POST", "/api/v1/groups/%s/workers" % self.group, {
            "name": self.name, "capacity": self.capacity, "targets": sorted(self._handlers),
            "ttl_seconds": self.ttl_seconds})
        self.worker_id = answer["worker_id"]
        log.info("registered as %s in group %s", self.worker_id, self.group)

    def _path(self, suffix=""):
        return "/api/v1/groups/%s/workers/%s%s" % (self.group, self.worker_id, suffix)

    def _heartbeats(self):
        while not self._stop.wait(self.ttl_seconds / 3):
            try:
                self._request("POST", self._path("/heartbeat"))
            except WorkerGone:
                pass  # the poll loop registers again
            except OSError as e:
                log.warning("heartbeat failed: %s", e)

    def report(self, run, succeeded, output="", error=""):
        """Report run's result; raises ClaimLost when pink refused it."""
        self._request("POST", "/api/v1/runs/%s/result" % run.snapshot_id, {
            "worker_id": self.worker_id, "claim": run.claim,
            "status": "succeeded" if succeeded else "failed", "output": output, "error": error})

    def _execute(self, pool, run):
        future = pool.submit(self._handlers[run.target], run)
        try:
            output = future.result(timeout=max(run.deadline - time.monotonic(), 0))
            self.report(run, True, output="" if output is None else str(output))
        except TimeoutError:
            # pink records the run timed_out at its deadline; the handler's
            # thread cannot be stopped, its result will be dropped.
            log.warning("%s passed its deadline", run.snapshot_id)
        except ClaimLost:
            log.warning("result of %s refused: the run moved", run.snapshot_id)
        except Exception as e:  # the handler raised: the run failed
            try:
                self.report(run, False, error="%s: %s" % (type(e).__name__, e))
            except ClaimLost:
                log.warning("result of %s refused: the run moved", run.snapshot_id)
        finally:
            with self._slots:
                self._running -= 1
                self._slots.notify()

    def run(self):
        """Register, then poll and run until stop() or SIGTERM; then drain."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self.stop())
        self._register()
        beats = threading.Thread(target=self._heartbeats, daemon=True)
        beats.start()
        handlers = ThreadPoolExecutor(max_workers=self.capacity)
        runners = ThreadPoolExecutor(max_workers=self.capacity)
        try:
            while not self._stop.is_set():
                with self._slots:
                    while self._running >= self.capacity and not self._stop.is_set():
                        self._slots.wait(0.5)
                    free = self.capacity - self._running
                if self._stop.is_set():
                    break
                if free <= 0:
                    continue
                try:
                    answer = self._request("POST", self._path("/poll"), {"max": free, "wait_seconds": self.wait_seconds},
                                           timeout=self.wait_seconds + 10)
                except WorkerGone:
                    log.warning("registration %s ended; registering again", self.worker_id)
                    self._register()
                    continue
                for d in answer["runs"]:
                    with self._slots:
                        self._running += 1
                    runners.submit(self._execute, handlers, Run(d))
        finally:
            # Drain first: pink hands this worker nothing more and gives the
            # runs assigned to it but not handed out to other workers at
            # once; then finish and report what runs here (pink takes the
            # results for a TTL).
            self._stop.set()
            try:
                self._request("DELETE", self._path())
            except (WorkerGone, OSError):
                pass
            runners.shutdown(wait=True)
            handlers.shutdown(wait=False)
            log.info("drained %s", self.worker_id)
