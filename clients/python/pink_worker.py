"""A pink worker in Python: pink's HTTP worker protocol, standard library only.

    from pink_worker import Worker

    worker = Worker("http://127.0.0.1:8080", group="billing", capacity=4)
    # or several scheduler nodes: Worker(["http://pink-a:8080", "http://pink-b:8080"], ...)

    @worker.handle("send-invoices")
    def send(run):
        send_invoices(run.params["batch"])   # raise to fail the run
        return "sent"                        # the run's output

    worker.run()   # until SIGTERM or worker.stop(); then drains

The scheduler node holds the worker's lease while it polls or heartbeats
within its TTL; each run it hands out is already claimed for this worker,
and its result carries the claim. A worker that dies has its running runs
recorded lost and retried elsewhere; its late results are refused (409).
Any scheduler node answers for the worker (a node that does not hold it
forwards to the one that does): given several URLs, the worker moves to
the next when one does not answer, and registers again once the node that
held it is gone.
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
        # server: one base URL, or several (a list, or comma-separated) of
        # the cluster's scheduler nodes.
        servers = server.split(",") if isinstance(server, str) else list(server)
        self.servers = [s.strip().rstrip("/") for s in servers if s.strip()]
        if not self.servers:
            raise ValueError("give the URL of at least one pink scheduler node")
        self._server = 0
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

    @property
    def server(self):
        """The base URL this worker talks to now."""
        return self.servers[self._server]

    def _send(self, method, path, body, timeout):
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

    def _request(self, method, path, body=None, timeout=10, retry_for=0):
        """Sends a request; for retry_for seconds, retries one that found
        no answer (a node down, 502/503/504) on the next server, backing off
        from 0.2 s to 2 s. 410 raises WorkerGone, 409 ClaimLost."""
        deadline = time.monotonic() + retry_for
        delay = 0.2
        while True:
            try:
                return self._send(method, path, body, timeout)
            except urllib.error.HTTPError as e:
                if e.code not in (502, 503, 504):
                    raise
                err = e
            except OSError as e:  # refused, reset, timed out, no route
                err = e
            failed = self.server
            self._server = (self._server + 1) % len(self.servers)
            if time.monotonic() + delay > deadline:
                raise err
            log.warning("%s %s at %s: %s; retrying at %s", method, path, failed, err, self.server)
            time.sleep(delay)
            delay = min(delay * 2, 2)

    def _register(self):
        answer = self._request("POST", "/api/v1/groups/%s/workers" % self.group, {
            "name": self.name, "capacity": self.capacity, "targets": sorted(self._handlers),
            "ttl_seconds": self.ttl_seconds}, retry_for=self.ttl_seconds * 3)
        self.worker_id = answer["worker_id"]
        log.info("registered as %s in group %s", self.worker_id, self.group)

    def _register_until_stopped(self):
        while not self._stop.is_set():
            try:
                self._register()
                return
            except urllib.error.HTTPError as e:
                if e.code < 500:
                    raise  # refused (token, group, targets): not a node down
                log.warning("cannot register at %s: %s", self.server, e)
                self._stop.wait(1)
            except OSError as e:
                log.warning("cannot register at %s: %s", self.server, e)
                self._stop.wait(1)

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
        """Report run's result; raises ClaimLost when pink refused it.

        A result that finds no answer is retried for three TTLs: if the node
        holding this worker died, the result is refused (409) once the
        worker's registration has ended, and the run is retried elsewhere."""
        self._request("POST", "/api/v1/runs/%s/result" % run.snapshot_id, {
            "worker_id": self.worker_id, "claim": run.claim,
            "status": "succeeded" if succeeded else "failed", "output": output, "error": error},
            retry_for=self.ttl_seconds * 3)

    def _execute(self, pool, run):
        future = pool.submit(self._handlers[run.target], run)
        try:
            try:
                output = future.result(timeout=max(run.deadline - time.monotonic(), 0))
            except TimeoutError:
                # pink records the run timed_out at its deadline; the
                # handler's thread cannot be stopped, its result is dropped.
                log.warning("%s passed its deadline", run.snapshot_id)
                return
            except Exception as e:  # the handler raised: the run failed
                self.report(run, False, error="%s: %s" % (type(e).__name__, e))
                return
            self.report(run, True, output="" if output is None else str(output))
        except ClaimLost:
            log.warning("result of %s refused: the run moved", run.snapshot_id)
        except OSError as e:
            log.warning("result of %s not delivered: %s; pink retries the run", run.snapshot_id, e)
        finally:
            with self._slots:
                self._running -= 1
                self._slots.notify()

    def run(self):
        """Register, then poll and run until stop() or SIGTERM; then drain."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self.stop())
        self._register_until_stopped()
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
                    self._register_until_stopped()
                    continue
                except OSError as e:
                    if isinstance(e, urllib.error.HTTPError) and e.code < 500:
                        raise
                    log.warning("poll at %s failed: %s", self.server, e)
                    self._stop.wait(0.5)
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
