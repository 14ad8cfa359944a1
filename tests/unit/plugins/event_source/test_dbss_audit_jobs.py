# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests of the Event-Driven Ansible source plugin dbss_audit_jobs.

The plugin is loaded from its file (as ansible-rulebook loads it) and run with
a fake queue against the DBSS emulator, started here as a subprocess on
127.0.0.1. Every wait is bounded by asyncio.wait_for.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import importlib.util
import json
import logging
import os
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_client import JOB_FIELDS
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssApiError, DbssConfigError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
TESTS_DIR = os.path.join(ROOT, "tests")
PLUGIN_PATH = os.path.join(ROOT, "extensions", "eda", "plugins", "event_source", "dbss_audit_jobs.py")
EMULATOR_PRESENT = os.path.isfile(os.path.join(TESTS_DIR, "emulator", "__main__.py"))

PROJECT = "0123456789abcdef0123456789abcdef"
TOKEN = "demo-token"
WAIT = 30.0          # upper bound of any single wait in a test, seconds
INTERVAL = 0.2


def load_plugin():
    spec = importlib.util.spec_from_file_location("hwcloud_dbss_eda_dbss_audit_jobs", PLUGIN_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


plugin = load_plugin()

needs_emulator = pytest.mark.skipif(not EMULATOR_PRESENT, reason="the DBSS emulator package (tests/emulator) is not in this tree")


# ---------------------------------------------------------------------------
# The emulator, as a subprocess
# ---------------------------------------------------------------------------

class Emulator:
    def __init__(self, process, url):
        self.process = process
        self.url = url

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.url + "/_emulator" + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read().decode("utf-8"))

    def add_job(self, resource_id, init, running, outcome="SUCCESS", ready=0):
        return self.control("POST", "/jobs", {"project_id": PROJECT, "resource_id": resource_id, "outcome": outcome,
                                              "timeline": {"INIT": init, "READY": ready, "RUNNING": running}})

    def add_faults(self, faults):
        return self.control("POST", "/faults", {"faults": faults})

    def pending_faults(self):
        return self.control("GET", "/faults")["faults"]

    def answered(self, resource_id, status=200):
        """How many DBSS requests for ``resource_id`` got ``status``."""
        return sum(1 for entry in self.control("GET", "/requests")["requests"]
                   if entry.get("resource_id") == resource_id and entry.get("status") == status)


@pytest.fixture
def emulator(tmp_path):
    if not EMULATOR_PRESENT:
        pytest.skip("the DBSS emulator package (tests/emulator) is not in this tree")
    port_file = str(tmp_path / "emulator.port")
    env = dict(os.environ)
    env["PYTHONPATH"] = TESTS_DIR + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", "0", "--port-file", port_file],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 20
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start: %s" % process.stderr.read().decode("utf-8", "replace")[-2000:])
            time.sleep(0.02)
        url = process.stdout.readline().decode("utf-8").strip()
        emu = Emulator(process, url)
        emu.control("GET", "/health")
        yield emu
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()


# tests/unit/conftest.py: no HW_* variable of the shell reaches these tests.
pytestmark = pytest.mark.usefixtures("clean_env")


# ---------------------------------------------------------------------------
# A fake queue and a bounded runner
# ---------------------------------------------------------------------------

class FakeQueue:
    """Stands in for the asyncio.Queue ansible-rulebook hands to a source."""

    def __init__(self):
        self.events = []

    async def put(self, event):
        self.events.append(event)

    def transitions(self):
        return [(e["dbss_audit_job"]["job_id"], e["dbss_audit_job"]["previous_status"], e["dbss_audit_job"]["status"])
                for e in self.events]


class Source:
    """The plugin's main() running as a task; every wait is bounded."""

    def __init__(self, args):
        self.queue = FakeQueue()
        self.task = asyncio.ensure_future(plugin.main(self.queue, args))

    async def until(self, predicate, what, wait=WAIT):
        async def poll():
            while not predicate():
                if self.task.done():
                    self.task.result()  # raises what killed the source
                    raise AssertionError("the source stopped while waiting for %s" % what)
                await asyncio.sleep(0.02)
        try:
            await asyncio.wait_for(poll(), wait)
        except asyncio.TimeoutError:
            raise AssertionError("timed out after %s s waiting for %s; events: %r" % (wait, what, self.queue.transitions()))

    async def until_polled(self, emulator, resource_id, more):
        """Wait until ``more`` further polls of ``resource_id`` were answered 200."""
        start = await asyncio.to_thread(emulator.answered, resource_id)

        async def polled():
            while await asyncio.to_thread(emulator.answered, resource_id) < start + more:
                if self.task.done():
                    self.task.result()
                    raise AssertionError("the source stopped")
                await asyncio.sleep(0.05)
        await asyncio.wait_for(polled(), WAIT)

    async def stop(self):
        self.task.cancel()
        try:
            await asyncio.wait_for(self.task, 10)
        except asyncio.CancelledError:
            pass
        assert self.task.cancelled()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 3 * WAIT))


def args_for(emulator, resource_ids, **extra):
    args = dict(project_id=PROJECT, endpoint=emulator.url, auth_token=TOKEN, resource_ids=resource_ids, interval=INTERVAL)
    args.update(extra)
    return args


def has_status(queue, status):
    return lambda: any(t[2] == status for t in queue.transitions())


# ---------------------------------------------------------------------------
# Against the emulator
# ---------------------------------------------------------------------------

@needs_emulator
def test_init_running_success_yields_exactly_two_events_in_order(emulator):
    job = emulator.add_job("res-ok", init=2.0, running=1.0)

    async def scenario():
        source = Source(args_for(emulator, ["res-ok"]))
        try:
            await source.until(has_status(source.queue, "SUCCESS"), "the SUCCESS event")
            await source.until_polled(emulator, "res-ok", 3)  # a few more polls of the finished job
        finally:
            await source.stop()
        return source.queue

    queue = run(scenario())
    assert queue.transitions() == [(job["job_id"], "INIT", "RUNNING"), (job["job_id"], "RUNNING", "SUCCESS")]
    last = queue.events[-1]["dbss_audit_job"]
    assert last["resource_id"] == "res-ok"
    assert last["job"]["job_id"] == job["job_id"]
    assert last["job"]["status"] == "SUCCESS"
    assert last["job"]["end_time"] is not None
    assert set(JOB_FIELDS) <= set(last["job"])


@needs_emulator
def test_fail_emits_one_fail_event_with_error_code_and_fail_reason(emulator):
    job = emulator.add_job("res-bad", init=1.5, running=0.5, outcome="FAIL")

    async def scenario():
        source = Source(args_for(emulator, ["res-bad"]))
        try:
            await source.until(has_status(source.queue, "FAIL"), "the FAIL event")
            await source.until_polled(emulator, "res-bad", 3)
        finally:
            await source.stop()
        return source.queue

    queue = run(scenario())
    assert queue.transitions() == [(job["job_id"], "INIT", "RUNNING"), (job["job_id"], "RUNNING", "FAIL")]
    failed = [e["dbss_audit_job"] for e in queue.events if e["dbss_audit_job"]["status"] == "FAIL"]
    assert len(failed) == 1
    assert failed[0]["job"]["error_code"]
    assert failed[0]["job"]["fail_reason"]


@needs_emulator
def test_history_is_not_replayed_and_a_job_seen_first_past_init_emits_from_null(emulator):
    old = emulator.add_job("res-hist", init=0, running=0)  # already SUCCESS before the source starts

    async def scenario():
        source = Source(args_for(emulator, ["res-hist"]))
        try:
            await source.until_polled(emulator, "res-hist", 2)
            assert source.queue.events == []
            quick = await asyncio.to_thread(emulator.add_job, "res-hist", 0, 0, "FAIL")  # FAIL at once
            await source.until(has_status(source.queue, "FAIL"), "the event of the quick job")
            await source.until_polled(emulator, "res-hist", 3)
        finally:
            await source.stop()
        return source.queue, quick

    queue, quick = run(scenario())
    assert quick["job_id"] != old["job_id"]
    assert queue.transitions() == [(quick["job_id"], None, "FAIL")]


@needs_emulator
def test_transient_and_throttling_faults_do_not_stop_the_source(emulator, caplog):
    caplog.set_level(logging.DEBUG)
    job = emulator.add_job("res-flaky", init=1.0, running=6.0)

    async def scenario():
        # max_retries 0: every fault reaches the plugin's own backoff.
        source = Source(args_for(emulator, ["res-flaky"], max_retries=0, timeout=0.5, backoff_max=0.4))
        try:
            await source.until_polled(emulator, "res-flaky", 1)  # the job is known in INIT
            await asyncio.to_thread(emulator.add_faults, [
                {"kind": "status", "status": 503, "resource_id": "res-flaky", "count": 2},
                {"kind": "throttle", "resource_id": "res-flaky", "count": 2, "retry_after": 0.3},
                {"kind": "reset", "resource_id": "res-flaky", "count": 2},
                {"kind": "delay", "seconds": 1.5, "resource_id": "res-flaky", "count": 1},
                {"kind": "json", "body": {"jobs": []}, "resource_id": "res-flaky", "count": 1},
                {"kind": "html", "resource_id": "res-flaky", "count": 1},
            ])
            await source.until(has_status(source.queue, "SUCCESS"), "the SUCCESS event")
            await source.until_polled(emulator, "res-flaky", 3)
            pending = await asyncio.to_thread(emulator.pending_faults)
        finally:
            await source.stop()
        return source.queue, pending

    queue, pending = run(scenario())
    assert pending == []  # every fault was hit
    assert queue.transitions() == [(job["job_id"], "INIT", "RUNNING"), (job["job_id"], "RUNNING", "SUCCESS")]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("HTTP 503" in m for m in warnings)
    assert any("HTTP 429" in m for m in warnings)
    assert any("timeout" in m for m in warnings)
    assert any("reset" in m for m in warnings)
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def survive_faults(emulator, resource_id, faults):
    """Run a source on one resource, inject ``faults`` once it has polled, and
    return its queue when the job's SUCCESS event has arrived."""
    async def scenario():
        source = Source(args_for(emulator, [resource_id], max_retries=0, backoff_max=0.4))
        try:
            await source.until_polled(emulator, resource_id, 1)
            await asyncio.to_thread(emulator.add_faults, faults)
            await source.until(has_status(source.queue, "SUCCESS"), "the SUCCESS event")
        finally:
            await source.stop()
        return source.queue

    return run(scenario())


@needs_emulator
def test_permanent_faults_are_logged_and_survived(emulator, caplog):
    caplog.set_level(logging.WARNING)
    job = emulator.add_job("res-perm", init=1.0, running=4.0)

    queue = survive_faults(emulator, "res-perm", [
        {"kind": "forbidden", "resource_id": "res-perm", "count": 2},
        {"kind": "token_expired", "resource_id": "res-perm", "count": 1},
        {"kind": "status", "status": 400, "resource_id": "res-perm", "count": 1},
    ])
    assert queue.transitions() == [(job["job_id"], "INIT", "RUNNING"), (job["job_id"], "RUNNING", "SUCCESS")]
    messages = [r.getMessage() for r in caplog.records]
    assert any("permanent" in m and "HTTP 403" in m for m in messages)
    assert any("HTTP 401" in m for m in messages)
    assert all(TOKEN not in m for m in messages)


@needs_emulator
def test_a_new_job_on_the_same_resource_is_followed(emulator):
    first = emulator.add_job("res-again", init=1.0, running=0.5)

    async def scenario():
        source = Source(args_for(emulator, ["res-again", "res-other"]))
        try:
            await source.until(has_status(source.queue, "SUCCESS"), "the first job's SUCCESS")
            second = await asyncio.to_thread(emulator.add_job, "res-again", 1.5, 0.5, "FAIL")
            await source.until(has_status(source.queue, "FAIL"), "the second job's FAIL")
            await source.until_polled(emulator, "res-again", 3)
        finally:
            await source.stop()
        return source.queue, second

    queue, second = run(scenario())
    assert queue.transitions() == [
        (first["job_id"], "INIT", "RUNNING"), (first["job_id"], "RUNNING", "SUCCESS"),
        (second["job_id"], "INIT", "RUNNING"), (second["job_id"], "RUNNING", "FAIL"),
    ]
    assert all(e["dbss_audit_job"]["resource_id"] == "res-again" for e in queue.events)


@needs_emulator
def test_job_id_follows_only_that_job(emulator):
    other = emulator.add_job("res-pick", init=1.0, running=0.3)
    wanted = emulator.add_job("res-pick", init=1.5, running=0.3, outcome="FAIL")

    async def scenario():
        source = Source(args_for(emulator, ["res-pick"], job_id=wanted["job_id"]))
        try:
            await source.until(has_status(source.queue, "FAIL"), "the wanted job's FAIL")
        finally:
            await source.stop()
        return source.queue

    queue = run(scenario())
    assert other["job_id"] not in [t[0] for t in queue.transitions()]
    assert queue.transitions() == [(wanted["job_id"], "INIT", "RUNNING"), (wanted["job_id"], "RUNNING", "FAIL")]


@needs_emulator
def test_options_come_from_the_environment_like_the_modules(emulator, monkeypatch):
    monkeypatch.setenv("HW_PROJECT_ID", PROJECT)
    monkeypatch.setenv("HW_DBSS_ENDPOINT", emulator.url)
    monkeypatch.setenv("HW_AUTH_TOKEN", TOKEN)
    job = emulator.add_job("res-env", init=1.0, running=0.3)

    async def scenario():
        source = Source({"resource_ids": ["res-env"], "interval": INTERVAL, "eda_feedback_queue": object()})
        try:
            await source.until(has_status(source.queue, "SUCCESS"), "the SUCCESS event")
        finally:
            await source.stop()
        return source.queue

    assert run(scenario()).transitions() == [(job["job_id"], "INIT", "RUNNING"), (job["job_id"], "RUNNING", "SUCCESS")]


@needs_emulator
def test_cancellation_stops_the_source_during_a_slow_request(emulator):
    emulator.add_faults([{"kind": "delay", "seconds": 3, "resource_id": "res-slow", "count": 1}])

    async def scenario():
        source = Source(args_for(emulator, ["res-slow"]))
        await asyncio.sleep(0.3)  # the first request is now hanging in its worker thread
        assert not source.task.done()
        await source.stop()

    run(scenario())


@needs_emulator
def test_a_server_echoing_the_token_is_logged_masked(emulator, caplog):
    caplog.set_level(logging.DEBUG)
    job = emulator.add_job("res-echo", init=1.0, running=0.5)
    echo = "backend unavailable for request with X-Auth-Token %s" % TOKEN

    queue = survive_faults(emulator, "res-echo", [
        {"kind": "status", "status": 503, "error_code": "APIGW.0201", "error_msg": echo,
         "resource_id": "res-echo", "count": 1}])
    assert queue.transitions() == [(job["job_id"], "INIT", "RUNNING"), (job["job_id"], "RUNNING", "SUCCESS")]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("X-Auth-Token ********" in m for m in warnings), warnings
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


@needs_emulator
def test_a_token_from_the_environment_is_masked_too(emulator, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("HW_PROJECT_ID", PROJECT)
    monkeypatch.setenv("HW_DBSS_ENDPOINT", emulator.url)
    monkeypatch.setenv("HW_AUTH_TOKEN", TOKEN)  # not in the source's arguments
    emulator.add_faults([{"kind": "status", "status": 503, "error_msg": "token %s is unknown here" % TOKEN,
                          "resource_id": "res-envecho", "count": 1}])

    async def scenario():
        source = Source({"resource_ids": ["res-envecho"], "interval": INTERVAL, "max_retries": 0, "backoff_max": 0.4})
        try:
            await source.until_polled(emulator, "res-envecho", 1)  # the failed poll came first
        finally:
            await source.stop()

    run(scenario())
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("token ******** is unknown" in m for m in warnings), warnings
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------------------
# With a scripted client instead of HTTP
# ---------------------------------------------------------------------------

class ScriptedClient:
    """Stands in for DbssClient. ``list_jobs`` answers each resource from its
    script (one entry per poll, the last one repeated; an exception entry is
    raised). A resource with a gate blocks in its worker thread until the test
    opens the gate, like a server that does not answer."""

    timeout = 1.0
    base_url = "https://dbss.example.invalid"

    def __init__(self, scripts, gates=None):
        self.scripts = dict((rid, list(script)) for rid, script in scripts.items())
        self.gates = gates or {}
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0

    def list_jobs(self, resource_id, deadline=None):
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            gate = self.gates.get(resource_id)
            if gate is not None:
                gate.wait(WAIT)
            with self.lock:
                script = self.scripts[resource_id]
                answer = script.pop(0) if len(script) > 1 else script[0]
        finally:
            with self.lock:
                self.in_flight -= 1
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self):
        pass


@pytest.fixture
def scripted(monkeypatch):
    """Makes main() use the ScriptedClient the test hands over."""
    def use(client):
        monkeypatch.setattr(plugin, "build_client", lambda params, **kwargs: client)
        return client
    return use


def scripted_args(resource_ids, **extra):
    args = dict(GOOD, resource_ids=resource_ids, interval=0.05, backoff_max=0.05, max_retries=0)
    args.update(extra)
    return args


def test_a_hanging_resource_does_not_hold_back_the_events_of_another(scripted):
    gate = threading.Event()
    client = scripted(ScriptedClient({
        "fast": [[job("f1", "INIT")], [job("f1", "READY")], [job("f1", "RUNNING")], [job("f1", "SUCCESS")]],
        "slow": [[job("s1", "RUNNING")], [job("s1", "SUCCESS")]],
    }, gates={"slow": gate}))

    async def scenario():
        source = Source(scripted_args(["slow", "fast"]))
        try:
            # "slow" is stuck in its first poll all along; "fast" must go through every status meanwhile.
            await source.until(has_status(source.queue, "SUCCESS"), "the events of the fast resource", wait=10)
            fast_events = source.queue.transitions()
            gate.set()
            await source.until(lambda: len(source.queue.events) == 4, "the event of the slow resource")
        finally:
            gate.set()
            await source.stop()
        return source.queue, fast_events

    queue, fast_events = run(scenario())
    assert fast_events == [("f1", "INIT", "READY"), ("f1", "READY", "RUNNING"), ("f1", "RUNNING", "SUCCESS")]
    assert queue.transitions() == fast_events + [("s1", "RUNNING", "SUCCESS")]
    assert [e["dbss_audit_job"]["resource_id"] for e in queue.events] == ["fast"] * 3 + ["slow"]
    assert client.most_in_flight == 2


def test_a_failing_resource_does_not_hold_back_another(scripted, caplog):
    caplog.set_level(logging.WARNING)
    gate = threading.Event()
    down = DbssApiError(503, "APIGW.0201", "backend unavailable", request_id="req-1", retry_after=0.05)
    scripted(ScriptedClient({
        "fast": [[job("f1", "INIT")], [job("f1", "RUNNING")], [job("f1", "FAIL")]],
        "flaky": [down],
    }, gates={"flaky": gate}))

    async def scenario():
        source = Source(scripted_args(["flaky", "fast"]))
        try:
            await source.until(has_status(source.queue, "FAIL"), "the events of the fast resource", wait=10)
            gate.set()  # now "flaky" fails at once, again and again
            await source.until(lambda: sum("flaky" in r.getMessage() for r in caplog.records) >= 3, "three failures")
        finally:
            gate.set()
            await source.stop()
        return source.queue

    queue = run(scenario())
    assert queue.transitions() == [("f1", "INIT", "RUNNING"), ("f1", "RUNNING", "FAIL")]


def test_polls_in_flight_stay_bounded(scripted):
    gate = threading.Event()
    names = ["r%d" % n for n in range(plugin.MAX_PARALLEL_POLLS + 3)]
    client = scripted(ScriptedClient(dict((n, [[]]) for n in names), gates=dict((n, gate) for n in names)))

    async def scenario():
        source = Source(scripted_args(names))
        try:
            await source.until(lambda: client.in_flight == plugin.MAX_PARALLEL_POLLS, "the polls to start")
            await asyncio.sleep(0.3)  # room for a poll beyond the bound to start, if one could
            most = client.most_in_flight
        finally:
            gate.set()
            await source.stop()
        return most

    assert run(scenario()) == plugin.MAX_PARALLEL_POLLS


def test_cancellation_leaves_no_task_behind(scripted):
    gate = threading.Event()
    scripted(ScriptedClient({"a": [[job("a1", "INIT")]], "b": [[]], "c": [[]]}, gates={"c": gate}))

    async def scenario():
        before = asyncio.all_tasks()
        source = Source(scripted_args(["a", "b", "c"]))
        try:
            await asyncio.sleep(0.3)  # "a" and "b" poll and sleep in turn, "c" hangs in its first poll
            assert not source.task.done()
        finally:
            gate.set()
            await source.stop()
        return asyncio.all_tasks() - before

    assert run(scenario()) == set()


def test_secrets_are_masked_in_events_and_every_log_line(scripted, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = {"password": "pw-SECRET-1", "security_token": "sts-SECRET-2", "secret_key": "sk-SECRET-3",
               "auth_url": "url-SECRET-4", "auth_token": "tok-SECRET-eda-1"}
    monkeypatch.setenv("HW_SECRET_KEY", secrets["secret_key"])  # an environment fallback
    echoed = " ".join(secrets.values())
    scripted(ScriptedClient({"res-s": [
        [job("j1", "INIT")],
        DbssApiError(503, "APIGW.0201", "echo: " + echoed, request_id="req-1"),
        RuntimeError("boom " + echoed),
        [dict(job("j1", "FAIL"), fail_reason="login as %s failed" % secrets["password"], error_code=echoed)],
    ]}))

    async def scenario():
        source = Source(scripted_args(["res-s"], password=secrets["password"], security_token=secrets["security_token"],
                                      auth_url="https://admin:%s@iam.example.invalid/v3" % secrets["auth_url"]))
        try:
            await source.until(has_status(source.queue, "FAIL"), "the FAIL event")
        finally:
            await source.stop()
        return source.queue

    queue = run(scenario())
    assert queue.transitions() == [("j1", "INIT", "FAIL")]
    failed = queue.events[0]["dbss_audit_job"]["job"]
    assert failed["fail_reason"] == "login as ******** failed"
    assert failed["error_code"] == " ".join(["********"] * len(secrets))
    lines = [r.getMessage() for r in caplog.records]
    assert sum("********" in line for line in lines if "res-s" in line) >= 2, lines
    for secret in secrets.values():
        assert all(secret not in line for line in lines), secret
        assert secret not in repr(queue.events)


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

GOOD = dict(project_id=PROJECT, endpoint="http://127.0.0.1:9", auth_token="tok-SECRET-eda-1", resource_ids=["res-a"])


@pytest.mark.parametrize("change, option", [
    (dict(project_id=None), "project_id"),
    (dict(project_id="short"), "project_id"),
    (dict(resource_ids=None), "resource_ids"),
    (dict(resource_ids=[]), "resource_ids"),
    (dict(resource_ids=["ok", "bad/id"]), "resource_ids[1]"),
    (dict(interval=0), "interval"),
    (dict(interval="often"), "interval"),
    (dict(backoff_max=-1), "backoff_max"),
    (dict(timeout=0), "timeout"),
    (dict(max_retries=99), "max_retries"),
    (dict(validate_certs="maybe"), "validate_certs"),
    (dict(endpoint=None, region="cn-nort-4"), "region"),
    (dict(endpoint="ftp://x"), "endpoint"),
    (dict(auth_token=None), "auth_token"),
    (dict(access_key="AK"), "secret_key"),
    (dict(resource_id="res-a"), "resource_id"),
    (dict(job_id="a/b"), "job_id"),
    (dict(max_rps=0), "max_rps"),
    (dict(max_rps=-2), "max_rps"),
])
def test_bad_args_raise_naming_the_option(change, option):
    args = dict(GOOD)
    for key, value in change.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value

    with pytest.raises(DbssConfigError) as caught:
        run(plugin.main(FakeQueue(), args))
    assert caught.value.option == option
    assert str(caught.value).startswith(option)
    assert "tok-SECRET-eda-1" not in str(caught.value)


def test_every_poll_shares_one_rate_limit(monkeypatch):
    # The client main() builds gets the source's limiter: a 429 then slows every resource.
    built = {}

    def fake_build_client(params, **kwargs):
        built.update(kwargs)
        raise DbssConfigError("endpoint", "stop here")  # enough: the test is about what was passed

    monkeypatch.setattr(plugin, "build_client", fake_build_client)
    with pytest.raises(DbssConfigError):
        run(plugin.main(FakeQueue(), dict(GOOD, max_rps=2.5)))
    assert built["rate_limiter"].configured_rate == 2.5


def test_args_are_checked_before_any_request():
    # Port 9 on 127.0.0.1 would refuse; a bad option must fail first, at once.
    with pytest.raises(DbssConfigError):
        run(plugin.main(FakeQueue(), dict(GOOD, interval=-5)))


def test_parse_args_defaults_and_dedup():
    config = plugin.parse_args(dict(GOOD, resource_ids=["a", "b", "a"]))
    assert config.resource_ids == ["a", "b"]
    assert config.interval == 10.0
    assert config.backoff_max == 300.0
    assert config.job_id is None
    assert config.rate_limiter.configured_rate == 10.0
    assert "tok-SECRET" not in repr(config)
    assert plugin.parse_args(dict(GOOD, interval=500)).backoff_max == 500  # never below interval


# ---------------------------------------------------------------------------
# The pure parts
# ---------------------------------------------------------------------------

def job(job_id, status, begin=1):
    return {"job_id": job_id, "status": status, "begin_time": begin}


def test_tracker_first_listing_is_silent_then_transitions_once():
    tracker = plugin.JobTracker()
    assert tracker.observe("r", [job("j1", "INIT"), job("j0", "SUCCESS", 0)]) == []
    assert tracker.observe("r", [job("j1", "INIT")]) == []
    events = tracker.observe("r", [job("j1", "RUNNING")])
    assert [(e["dbss_audit_job"]["previous_status"], e["dbss_audit_job"]["status"]) for e in events] == [("INIT", "RUNNING")]
    assert tracker.observe("r", [job("j1", "RUNNING")]) == []
    # A stale answer flapping back does not repeat any transition.
    assert tracker.observe("r", [job("j1", "INIT")]) == []
    assert len(tracker.observe("r", [job("j1", "SUCCESS")])) == 1
    assert tracker.observe("r", [job("j1", "RUNNING")]) == []
    assert tracker.observe("r", [job("j1", "SUCCESS")]) == []
    # An empty listing in between does not make known jobs new again.
    assert tracker.observe("r", []) == []
    assert tracker.observe("r", [job("j1", "SUCCESS")]) == []


def test_tracker_new_jobs_after_the_first_listing():
    tracker = plugin.JobTracker()
    assert tracker.observe("r", []) == []
    assert tracker.observe("r", [job("a", "INIT", 5)]) == []
    events = tracker.observe("r", [job("a", "INIT", 5), job("b", "SUCCESS", 3), job("c", "READY", 9)])
    assert [(e["dbss_audit_job"]["job_id"], e["dbss_audit_job"]["previous_status"]) for e in events] == [("b", None), ("c", None)]
    # Resources are independent: the first listing of another resource is silent.
    assert tracker.observe("s", [job("z", "RUNNING")]) == []


def test_tracker_ignores_entries_without_id_or_status_and_forgets_oldest():
    tracker = plugin.JobTracker(max_jobs=2)
    assert tracker.observe("r", [{"status": "INIT"}, {"job_id": "x", "status": None}, "junk"]) == []
    tracker.observe("r", [job("a", "INIT"), job("b", "INIT")])
    tracker.observe("r", [job("c", "INIT")])
    assert len(tracker._jobs["r"]) == 2


def test_backoff_doubles_caps_and_honours_retry_after():
    def no_jitter():
        return 1.0

    assert plugin.backoff_delay(1, 2.0, 60.0, rng=no_jitter) == 4.0
    assert plugin.backoff_delay(3, 2.0, 60.0, rng=no_jitter) == 16.0
    assert plugin.backoff_delay(10, 2.0, 60.0, rng=no_jitter) == 60.0
    assert plugin.backoff_delay(1000, 2.0, 60.0, rng=no_jitter) == 60.0
    assert plugin.backoff_delay(1, 2.0, 60.0, retry_after=45, rng=no_jitter) == 45.0
    assert plugin.backoff_delay(1, 2.0, 60.0, retry_after=10 ** 9, rng=no_jitter) == plugin.RETRY_AFTER_LIMIT
    assert 3.6 <= plugin.backoff_delay(1, 2.0, 60.0, rng=lambda: 0.0) <= 4.0
