# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests of the Event-Driven Ansible source plugin dbss_audit_jobs.

The plugin is loaded from its file (as ansible-rulebook loads it) and its
``main()`` runs with a fake queue, either with a scripted client on the shared
fake clock (pauses are recorded per resource, never slept), or with the real
client against tests/unit/scripted_server.py. Every wait is bounded.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import collections
import importlib.util
import json
import logging
import os
import random
import string
import subprocess
import sys
import textwrap
import threading
import time
import types
from urllib.parse import quote

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import (
    DbssApiError, DbssConfigError, DbssTransportError)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs import JOB_FIELDS
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_policy import RETRY_AFTER_CAP
from ansible_collections.hwcloud.dbss.tests.unit.scripted_server import Answer, ScriptedServer, jobs

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
PLUGIN_PATH = os.path.join(ROOT, "extensions", "eda", "plugins", "event_source", "dbss_audit_jobs.py")

PROJECT = "0123456789abcdef0123456789abcdef"
AKSK = "AK/SK signing (access_key, secret_key)"
TOKEN = "tok-SECRET-eda-1"
WAIT = 10.0          # upper bound of any single wait in a test, seconds
INTERVAL = 5.0       # on the fake clock


def load_plugin():
    spec = importlib.util.spec_from_file_location("hwcloud_dbss_eda_dbss_audit_jobs", PLUGIN_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


plugin = load_plugin()

# tests/unit/conftest.py: no HW_* variable of the shell reaches these tests.
pytestmark = pytest.mark.usefixtures("clean_env")


# ---------------------------------------------------------------------------
# A fake queue, the source as a task, a scripted client
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
    """The plugin's main() running as a task. With ``clock`` (a FakeClock), every
    pause advances it instead of sleeping and is recorded in ``pauses[resource_id]``;
    ``rng`` 0 means no jitter."""

    def __init__(self, args, clock=None, rng=lambda: 0.0):
        self.queue = FakeQueue()
        self.pauses = collections.defaultdict(list)
        sleep = asyncio.sleep
        if clock is not None:
            async def sleep(seconds):
                self.pauses[asyncio.current_task().get_name()].append(seconds)
                clock.sleep(seconds)
                await asyncio.sleep(0)
        self.task = asyncio.ensure_future(plugin.main(self.queue, args, sleep=sleep, rng=rng))

    async def until(self, predicate, what, wait=WAIT):
        async def poll():
            while not predicate():
                if self.task.done():
                    self.task.result()  # raises what killed the source
                    raise AssertionError("the source stopped while waiting for %s" % what)
                await asyncio.sleep(0.005)
        try:
            await asyncio.wait_for(poll(), wait)
        except asyncio.TimeoutError:
            raise AssertionError("timed out after %s s waiting for %s; events: %r" % (wait, what, self.queue.transitions()))

    async def stop(self):
        self.task.cancel()
        try:
            await asyncio.wait_for(self.task, 2)
        except asyncio.CancelledError:
            pass
        assert self.task.cancelled()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 3 * WAIT))


def job(job_id, status, begin=1, **fields):
    return dict({"job_id": job_id, "status": status, "begin_time": begin}, **fields)


class ScriptedClient:
    """Stands in for DbssClient. ``list_jobs`` answers each resource from its
    script (one entry per poll, the last one repeated; an exception entry is
    raised). A resource with a gate blocks in its thread until the test opens
    the gate, like a server that does not answer; every answer takes ``delay``
    seconds. Like the real client, it is ``authenticated`` once it returned a
    listing."""

    timeout = 1.0
    base_url = "https://dbss.example.invalid"

    def __init__(self, scripts, gates=None, label="token (auth_token)"):
        self.scripts = dict((rid, list(script)) for rid, script in scripts.items())
        self.gates = gates or {}
        self.auth = types.SimpleNamespace(label=label)
        self.authenticated = False
        self.calls = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.delay = 0

    def list_jobs(self, resource_id, deadline=None, retries=None):
        with self.lock:
            self.calls.append(resource_id)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            gate = self.gates.get(resource_id)
            if gate is not None:
                gate.wait(WAIT)
            time.sleep(self.delay)
            with self.lock:
                script = self.scripts[resource_id]
                answer = script.pop(0) if len(script) > 1 else script[0]
        finally:
            with self.lock:
                self.in_flight -= 1
        if isinstance(answer, Exception):
            raise answer
        self.authenticated = True
        return [dict(j) for j in answer]

    def polls(self, resource_id):
        with self.lock:
            return self.calls.count(resource_id)

    def close(self):
        pass


@pytest.fixture
def scripted(monkeypatch):
    """Makes main() use the ScriptedClient the test hands over."""
    def use(client):
        monkeypatch.setattr(plugin, "build_client", lambda params, masker, **kwargs: client)
        return client
    return use


GOOD = dict(project_id=PROJECT, endpoint="http://127.0.0.1:9", auth_token=TOKEN, resource_ids=["res-a"])


def scripted_args(resource_ids, **extra):
    args = dict(GOOD, resource_ids=resource_ids, interval=INTERVAL, backoff_max=60, max_retries=0)
    args.update(extra)
    return args


def watch(client, resource_ids, clock, done, what, **extra):
    """Run the source on ``client`` until ``done(source)``; returns the source."""
    async def scenario():
        source = Source(scripted_args(resource_ids, **extra), clock=clock)
        try:
            await source.until(lambda: done(source), what)
        finally:
            await source.stop()
        return source
    return run(scenario())


def warnings_in(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# ---------------------------------------------------------------------------
# When events are sent (scripted client, fake clock)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("outcome", ["SUCCESS", "FAIL"])
def test_a_job_watched_from_its_start_sends_one_event_per_change_in_order(scripted, clock, outcome):
    end = job("j1", outcome, error_code="DBSS.1" if outcome == "FAIL" else None,
              fail_reason="disk full" if outcome == "FAIL" else None)
    client = scripted(ScriptedClient({"r": [[], [job("j1", "INIT")], [job("j1", "INIT")], [job("j1", "RUNNING")], [end]]}))
    source = watch(client, ["r"], clock, lambda s: client.polls("r") >= 8, "a few polls of the finished job")
    assert source.queue.transitions() == [("j1", "INIT", "RUNNING"), ("j1", "RUNNING", outcome)]
    last = source.queue.events[-1]["dbss_audit_job"]
    assert last["resource_id"] == "r" and last["job"]["status"] == outcome
    assert last["job"]["fail_reason"] == end["fail_reason"]
    assert set(source.pauses["r"]) == {INTERVAL}


def test_history_is_not_replayed_and_a_job_first_seen_past_init_sends_from_null(scripted, clock):
    old = job("old", "SUCCESS", begin=1)
    client = scripted(ScriptedClient({"r": [[old], [old], [old, job("quick", "FAIL", begin=2)]]}))
    source = watch(client, ["r"], clock, lambda s: client.polls("r") >= 5, "polls after the quick job")
    assert source.queue.transitions() == [("quick", None, "FAIL")]


def test_a_new_job_on_the_same_resource_is_followed(scripted, clock):
    first, second = job("a", "SUCCESS", begin=1), job("b", "INIT", begin=2)
    client = scripted(ScriptedClient({"r": [[job("a", "RUNNING")], [first], [first, second],
                                            [first, dict(second, status="RUNNING")], [first, dict(second, status="FAIL")]]}))
    source = watch(client, ["r"], clock, lambda s: client.polls("r") >= 7, "the second job's end")
    assert source.queue.transitions() == [("a", "RUNNING", "SUCCESS"), ("b", "INIT", "RUNNING"), ("b", "RUNNING", "FAIL")]


def test_job_id_follows_only_that_job_and_an_ambiguous_one_is_a_failed_poll(scripted, clock, caplog):
    other, wanted = job("other", "INIT", begin=2), job("wanted", "INIT", begin=1)
    client = scripted(ScriptedClient({"r": [
        [other, wanted], [dict(other, status="SUCCESS"), dict(wanted, status="RUNNING")],
        [wanted, dict(wanted, status="FAIL")],          # two jobs carry the ID: which one is meant?
        [dict(wanted, status="FAIL")]]}))
    source = watch(client, ["r"], clock, lambda s: client.polls("r") >= 6, "polls after the FAIL", job_id="wanted")
    assert source.queue.transitions() == [("wanted", "INIT", "RUNNING"), ("wanted", "RUNNING", "FAIL")]
    assert any("job_id wanted matches 2 jobs" in m for m in warnings_in(caplog))


def test_tracker_sends_each_status_once_per_job():
    tracker = plugin.JobEvents()
    assert tracker.observe("r", [job("j1", "INIT"), job("j0", "SUCCESS", 0)]) == []
    assert tracker.observe("r", [job("j1", "INIT")]) == []
    events = tracker.observe("r", [job("j1", "RUNNING")])
    assert [(e["dbss_audit_job"]["previous_status"], e["dbss_audit_job"]["status"]) for e in events] == [("INIT", "RUNNING")]
    # A stale answer flapping back repeats nothing; the next change starts from the last status sent.
    assert tracker.observe("r", [job("j1", "INIT")]) == []
    events = tracker.observe("r", [job("j1", "SUCCESS")])
    assert [(e["dbss_audit_job"]["previous_status"], e["dbss_audit_job"]["status"]) for e in events] == [("RUNNING", "SUCCESS")]
    assert tracker.observe("r", [job("j1", "RUNNING")]) == []
    # An empty listing in between does not make known jobs new again.
    assert tracker.observe("r", []) == []
    assert tracker.observe("r", [job("j1", "SUCCESS")]) == []


def test_tracker_new_jobs_come_oldest_first_a_job_without_begin_time_last():
    tracker = plugin.JobEvents()
    assert tracker.observe("r", []) == []
    events = tracker.observe("r", [job("unbegun", "READY", begin=None), job("b", "SUCCESS", 3), job("c", "FAIL", 9),
                                   job("a", "INIT", 5), {"status": "RUNNING"}, job("x", None)])
    assert [(e["dbss_audit_job"]["job_id"], e["dbss_audit_job"]["previous_status"]) for e in events] == [
        ("b", None), ("c", None), ("unbegun", None)]
    # Resources are independent: the first listing of another resource is silent.
    assert tracker.observe("s", [job("z", "RUNNING")]) == []


def test_tracker_forgets_the_least_recently_listed_jobs():
    tracker = plugin.JobEvents(max_jobs=2)
    tracker.observe("r", [job("a", "INIT"), job("b", "INIT")])
    tracker.observe("r", [job("c", "INIT")])                  # "a" is forgotten
    assert len(tracker.observe("r", [job("a", "RUNNING"), job("b", "RUNNING")])) == 2
    assert [e["dbss_audit_job"]["previous_status"] for e in tracker.observe("r", [job("a", "SUCCESS")])] == ["RUNNING"]


# ---------------------------------------------------------------------------
# Failures, backoff and Retry-After (scripted client, fake clock)
# ---------------------------------------------------------------------------

def test_failed_polls_back_off_and_a_good_answer_brings_the_interval_back(scripted, clock, caplog):
    caplog.set_level(logging.INFO)
    down = DbssApiError(503, "APIGW.0201", "backend unavailable", request_id="req-1")
    client = scripted(ScriptedClient({"r": [
        [job("j", "INIT")], down, DbssTransportError("no answer from dbss within 1 s (timeout)"),
        DbssApiError(200, error_msg="response body is not valid JSON", malformed=True),
        DbssApiError(400, "DBSS.10000001", "invalid request"), DbssApiError(404, "DBSS.10020021", "no such instance"),
        RuntimeError("boom"), down, [job("j", "SUCCESS")]]}))
    source = watch(client, ["r"], clock, lambda s: client.polls("r") >= 11, "polls after the recovery", backoff_max=60)
    assert source.queue.transitions() == [("j", "INIT", "SUCCESS")]
    # interval doubled per failure in a row, at most backoff_max; then back to interval
    assert source.pauses["r"][:9] == [INTERVAL, 10, 20, 40, 60, 60, 60, 60, INTERVAL]
    warnings = warnings_in(caplog)
    assert len(warnings) == 7
    for expected in ("transient, 1 in a row", "HTTP 503 APIGW.0201", "timeout", "not valid JSON", "permanent, 5 in a row",
                     "HTTP 404", "unexpected, 6 in a row", "RuntimeError: boom", "next poll in 60.0 s"):
        assert any(expected in m for m in warnings), (expected, warnings)
    assert any("works again after 7 failed polls" in r.getMessage() for r in caplog.records)


def test_jitter_only_shortens_a_backoff_by_at_most_a_fifth(scripted, clock):
    client = scripted(ScriptedClient({"r": [DbssApiError(503)]}))

    async def scenario():
        source = Source(scripted_args(["r"], backoff_max=60), clock=clock, rng=lambda: 0.999)
        try:
            await source.until(lambda: client.polls("r") >= 4, "a few failures")
        finally:
            await source.stop()
        return source

    pauses = run(scenario()).pauses["r"][:3]
    assert pauses == pytest.approx([10 * 0.8002, 20 * 0.8002, 40 * 0.8002])


def test_a_retry_after_pauses_only_its_own_resource_and_is_capped(scripted, clock, caplog):
    throttled = DbssApiError(429, "APIGW.0308", "The throttling threshold has been reached", retry_after=10 ** 9)
    client = scripted(ScriptedClient({"slow": [[], throttled, DbssApiError(429, retry_after=3), []], "other": [[]]}))
    source = watch(client, ["slow", "other"], clock, lambda s: client.polls("slow") >= 5, "the throttled resource back")
    # Retry-After capped, never shorter than the backoff; a short one does not shorten the backoff.
    assert source.pauses["slow"][:4] == [INTERVAL, RETRY_AFTER_CAP, 20, INTERVAL]
    assert set(source.pauses["other"]) == {INTERVAL}
    assert any("HTTP 429" in m and "next poll in %.1f s" % RETRY_AFTER_CAP in m for m in warnings_in(caplog))


# ---------------------------------------------------------------------------
# Credentials: refused ones reach the API once and stop the source
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("refusal", [
    DbssApiError(401, "APIGW.0301", "Incorrect IAM authentication information: verify aksk signature fail"),
    DbssApiError(403, "DBSS.10020100", "token authentication failed"),
    DbssApiError(401, "IAM.0004", "The username or password is wrong", login_refused=True),
], ids=["401", "403", "login-refused"])
def test_refused_credentials_reach_the_api_once_and_stop_every_resource(scripted, caplog, refusal):
    names = ["r%d" % n for n in range(10)]
    client = scripted(ScriptedClient(dict((n, [refusal]) for n in names), label=AKSK))
    with pytest.raises(plugin.SourceStopped) as caught:
        run(plugin.main(FakeQueue(), scripted_args(names)))
    assert client.calls == ["r0"]
    message = str(caught.value)
    assert "(mode: %s)" % AKSK in message and "HTTP %d" % refusal.status in message
    assert warnings_in(caplog) == [message]  # said once, and no resource logs a failed poll


def test_credentials_refused_later_stop_the_source_too(scripted, clock):
    client = scripted(ScriptedClient({"a": [[], [], DbssApiError(401, error_msg="The token must be updated")],
                                      "b": [[]]}))

    async def scenario():
        source = Source(scripted_args(["a", "b"]), clock=clock)
        with pytest.raises(plugin.SourceStopped, match=r"\(mode: token \(auth_token\)\)"):
            await asyncio.wait_for(source.task, WAIT)
        return source

    source = run(scenario())
    assert client.polls("a") == 3 and source.queue.events == []


def test_polls_go_one_at_a_time_until_the_credentials_are_proven(scripted, clock):
    gate = threading.Event()
    down = DbssApiError(503, "APIGW.0201", "backend unavailable")
    names = ["a", "b", "c", "d", "e", "f"]
    scripts = dict((n, [down, []]) for n in names)
    client = scripted(ScriptedClient(scripts, gates={"f": gate}))

    async def scenario():
        source = Source(scripted_args(names), clock=clock)
        try:
            # Each first poll fails before any answer proved the token: one at a time.
            await source.until(lambda: len(client.calls) >= 6, "every resource's first poll")
            unproven = client.most_in_flight
            assert client.calls[:6] == names
            client.delay = 0.02  # from now on polls take time: parallel ones overlap
            gate.set()
            await source.until(lambda: all(client.polls(n) >= 4 for n in names), "polls after the proof")
        finally:
            gate.set()
            await source.stop()
        return unproven

    assert run(scenario()) == 1
    assert client.most_in_flight > 1


# ---------------------------------------------------------------------------
# Resources do not hold each other back; cancelling ends everything
# ---------------------------------------------------------------------------

def test_a_hanging_resource_does_not_hold_back_the_events_of_another(scripted, clock):
    gate = threading.Event()
    client = scripted(ScriptedClient({
        "fast": [[job("f1", "INIT")], [job("f1", "READY")], [job("f1", "RUNNING")], [job("f1", "SUCCESS")]],
        "slow": [[job("s1", "RUNNING")], [job("s1", "SUCCESS")]],
    }, gates={"slow": gate}))

    async def scenario():
        source = Source(scripted_args(["fast", "slow"]), clock=clock)
        try:
            # "slow" is stuck in its first poll all along; "fast" goes through every status meanwhile.
            await source.until(lambda: len(source.queue.events) == 3, "the events of the fast resource")
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


def test_polls_in_flight_stay_bounded(scripted, clock):
    gate = threading.Event()
    names = ["r%d" % n for n in range(plugin.MAX_PARALLEL_POLLS + 3)]
    client = scripted(ScriptedClient(dict((n, [[]]) for n in names), gates=dict((n, gate) for n in names[1:])))

    async def scenario():
        source = Source(scripted_args(names), clock=clock)
        try:
            await source.until(lambda: client.in_flight == plugin.MAX_PARALLEL_POLLS, "the polls to start")
            await asyncio.sleep(0.2)  # room for a poll beyond the bound to start, if one could
            most = client.most_in_flight
        finally:
            gate.set()
            await source.stop()
        return most

    assert run(scenario()) == plugin.MAX_PARALLEL_POLLS


def test_cancellation_leaves_no_task_behind_even_with_a_poll_hanging(scripted, clock):
    gate = threading.Event()  # never opened: "c" hangs in its thread until the test ends
    scripted(ScriptedClient({"a": [[job("a1", "INIT")]], "b": [[]], "c": [[]]}, gates={"c": gate}))

    async def scenario():
        before = asyncio.all_tasks()
        source = Source(scripted_args(["a", "b", "c"]), clock=clock)
        await source.until(lambda: sum(source.pauses["a"]) > 10 * INTERVAL, "a few polls of a")
        started = time.monotonic()
        await source.stop()
        return asyncio.all_tasks() - before, time.monotonic() - started

    left, took = run(scenario())
    assert left == set() and took < 1.0


# ---------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------

def test_secrets_are_masked_in_events_and_every_log_line(scripted, clock, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = {"password": "pw-SECRET-1", "security_token": "sts-SECRET-2", "secret_key": "sk-SECRET-3",
               "auth_url": "url-SECRET-4", "auth_token": TOKEN}
    monkeypatch.setenv("HW_SECRET_KEY", secrets["secret_key"])  # an environment fallback
    echoed = " ".join(secrets.values())
    client = scripted(ScriptedClient({"res-s": [
        [job("j1", "INIT")],
        DbssApiError(503, "APIGW.0201", "echo: " + echoed, request_id="req-1"),
        RuntimeError("boom " + echoed),
        [dict(job("j1", "FAIL"), fail_reason="login as %s failed" % secrets["password"], error_code=echoed)],
    ]}))
    source = watch(client, ["res-s"], clock, lambda s: s.queue.events, "the FAIL event",
                   password=secrets["password"], security_token=secrets["security_token"],
                   auth_url="https://admin:%s@iam.example.invalid/v3" % secrets["auth_url"])
    assert source.queue.transitions() == [("j1", "INIT", "FAIL")]
    failed = source.queue.events[0]["dbss_audit_job"]["job"]
    assert failed["fail_reason"] == "login as ******** failed"
    assert failed["error_code"] == " ".join(["********"] * len(secrets))
    lines = [r.getMessage() for r in caplog.records]
    assert sum("********" in line for line in lines if "res-s" in line) >= 2, lines
    for secret in secrets.values():
        assert all(secret not in line for line in lines), secret
        assert secret not in repr(source.queue.events)


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("change, option", [
    (dict(project_id=None), "project_id"),
    (dict(project_id="short"), "project_id"),
    (dict(resource_ids=None), "resource_ids"),
    (dict(resource_ids=[]), "resource_ids"),
    (dict(resource_ids=["ok", "bad/id"]), "resource_ids[1]"),
    (dict(resource_ids=["ok", ".."]), "resource_ids[1]"),
    (dict(interval=0), "interval"),
    (dict(interval=3601), "interval"),
    (dict(interval="often"), "interval"),
    (dict(backoff_max=-1), "backoff_max"),
    (dict(backoff_max=10 ** 9), "backoff_max"),
    (dict(timeout=0), "timeout"),
    (dict(max_retries=99), "max_retries"),
    (dict(validate_certs="maybe"), "validate_certs"),
    (dict(endpoint=None, region="CN-North-4"), "region"),
    (dict(endpoint="ftp://x"), "endpoint"),
    (dict(auth_token=None), "auth_token"),
    (dict(auth_token=None, access_key="AK"), "secret_key"),
    (dict(resource_id="res-a"), "resource_id"),
    (dict(job_id="a/b"), "job_id"),
    (dict(max_rps=0), "max_rps"),
    (dict(max_rps=-2), "max_rps"),
    (dict(max_rps=10 ** 6), "max_rps"),
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
    assert str(caught.value).startswith(option + ": ")
    assert TOKEN not in str(caught.value)


def test_parse_args_defaults_and_dedup():
    config = plugin.parse_args(dict(GOOD, resource_ids=["a", "b", "a"], eda_feedback_queue=object()))
    assert config.resource_ids == ["a", "b"]
    assert (config.interval, config.backoff_max, config.job_id, config.max_rps) == (10.0, 300.0, None, 10.0)
    assert plugin.parse_args(dict(GOOD, interval=500)).backoff_max == 500  # never below interval


# ---------------------------------------------------------------------------
# With the real client, against a scripted HTTP server
# ---------------------------------------------------------------------------

@pytest.fixture
def server():
    srv = ScriptedServer()
    yield srv
    srv.close()


def http_args(server, resource_ids, **extra):
    args = dict(project_id=PROJECT, endpoint=server.url, auth_token=TOKEN, resource_ids=resource_ids,
                interval=0.05, backoff_max=0.05, max_retries=0, timeout=5, max_rps=1000)
    args.update(extra)
    return args


def requests_for(server, resource_id):
    with server.lock:
        return sum(1 for r in server.requests if r["path"].endswith("/audit/%s/jobs" % resource_id))


def bean(resource_id, status, **fields):
    return dict({name: None for name in JOB_FIELDS}, job_id="job-1", status=status, begin_time=1, resource_id=resource_id,
                **fields)


def test_over_http_options_come_from_the_environment_and_events_carry_the_jobbean(server, clock, monkeypatch):
    monkeypatch.setenv("HW_PROJECT_ID", PROJECT)
    monkeypatch.setenv("HW_DBSS_ENDPOINT", server.url)
    monkeypatch.setenv("HW_AUTH_TOKEN", TOKEN)
    server.queue(jobs(bean("r", "INIT")), Answer(reset=True), Answer(503, "<html>busy</html>"), Answer(200, "{\"jobs\": ["),
                 jobs(bean("r", "RUNNING")))
    server.default = jobs(bean("r", "SUCCESS", end_time=2, server_name="dbss-1"))

    async def scenario():
        source = Source({"resource_ids": ["r"], "interval": 1, "max_retries": 0, "max_rps": 1000}, clock=clock)
        try:
            await source.until(lambda: len(source.queue.events) == 2, "the SUCCESS event")
        finally:
            await source.stop()
        return source

    source = run(scenario())
    assert source.queue.transitions() == [("job-1", "INIT", "RUNNING"), ("job-1", "RUNNING", "SUCCESS")]
    assert source.queue.events[-1]["dbss_audit_job"]["job"] == bean("r", "SUCCESS", end_time=2, server_name="dbss-1")
    first = server.requests[0]
    assert first["path"] == "/v1/%s/audit/r/jobs" % PROJECT and first["headers"]["X-Auth-Token"] == TOKEN


@pytest.mark.parametrize("status, retry_after", [(429, "1000000000"), (503, "Fri, 31 Dec 9999 23:59:59 GMT")])
def test_over_http_a_huge_retry_after_pauses_only_its_resource(server, caplog, status, retry_after):
    server.queue(Answer(status, {"error_code": "APIGW.0308", "error_msg": "throttled"}, {"Retry-After": retry_after}))

    async def scenario():
        # Real time. A limiter blocking everyone would hold the other resource for RETRY_AFTER_CAP.
        source = Source(http_args(server, ["a", "b"]))
        try:
            await source.until(lambda: max(requests_for(server, "a"), requests_for(server, "b")) >= 6,
                               "polls of the resource that was not throttled")
        finally:
            await source.stop()

    run(scenario())
    assert sorted([requests_for(server, "a"), requests_for(server, "b")])[0] == 1  # the one the answer paused
    assert any("HTTP %d" % status in m and "next poll in %.1f s" % RETRY_AFTER_CAP in m for m in warnings_in(caplog))


@pytest.mark.parametrize("auth, mode, answer", [
    (dict(auth_token="bad-token"), "token (auth_token)",
     Answer(401, {"error_code": "APIGW.0301", "error_msg": "token bad-token is not valid"})),
    (dict(access_key="AK", secret_key="bad-sk"), AKSK, Answer(401, {"error_code": "APIGW.0301", "error_msg": "bad-sk"})),
    (dict(access_key="AK", secret_key="sk"), AKSK,
     Answer(403, {"error_code": "APIGW.0301", "error_msg": "AK access failed to reach the limit,forbidden"})),
    (dict(user_name="u", password="bad-pw", domain_name="d"), "IAM password (user_name, password, domain_name)",
     Answer(401, {"error": {"code": "IAM.0004", "message": "The username or password is wrong"}})),
], ids=["token", "aksk", "aksk-locked", "password"])
def test_over_http_a_bad_credential_costs_one_request_for_ten_resources(server, caplog, auth, mode, answer):
    server.default = answer
    args = dict(http_args(server, ["r%d" % n for n in range(10)], auth_url=server.url + "/v3"), **auth)
    if "auth_token" not in auth:
        del args["auth_token"]
    with pytest.raises(plugin.SourceStopped) as caught:
        run(plugin.main(FakeQueue(), args))
    time.sleep(0.2)  # a poll started in another thread would have arrived by now
    assert [r["path"].rsplit("/", 1)[-1] for r in server.requests] == ["tokens" if "password" in auth else "jobs"]
    assert "(mode: %s)" % mode in str(caught.value)
    assert "HTTP %d" % answer.status in str(caught.value) and "bad-" not in str(caught.value)
    assert warnings_in(caplog) == [str(caught.value)]


def test_over_http_cancelling_ends_at_once_while_a_request_hangs(server):
    server.default = Answer(stall=30)

    async def scenario():
        source = Source(http_args(server, ["r"], timeout=60))
        await source.until(lambda: server.requests, "the request to hang")
        started = time.monotonic()
        await source.stop()
        return time.monotonic() - started

    assert run(scenario()) < 1.0


def test_over_http_the_interpreter_exits_after_a_cancel_while_a_request_hangs(server):
    server.default = Answer(stall=30)
    script = textwrap.dedent("""
        import asyncio, runpy, sys

        class Queue:
            async def put(self, event):
                pass

        async def go():
            main = runpy.run_path(sys.argv[1])["main"]
            task = asyncio.ensure_future(main(Queue(), {"resource_ids": ["r"], "project_id": sys.argv[2],
                                                       "endpoint": sys.argv[3], "auth_token": "t", "timeout": 60}))
            await asyncio.sleep(0.5)  # the request now hangs in its thread
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                print("cancelled", flush=True)

        asyncio.run(go())
    """)
    started = time.monotonic()
    process = subprocess.run([sys.executable, "-c", script, PLUGIN_PATH, PROJECT, server.url],
                             capture_output=True, text=True, timeout=20, check=False)
    took = time.monotonic() - started
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == "cancelled"
    assert len(server.requests) == 1
    assert took < 10  # not the 30 s the server stalls, nor the 60 s timeout


ALPHABET = string.ascii_letters + string.digits + "\"\\/+%&=?-_.~!*"


def secret_of(length):
    return "".join(random.Random(length).choice(ALPHABET) for dummy in range(length))


def leaks(text, secret):
    """Whether ``text`` holds 8 characters in a row of ``secret``."""
    runs = set(secret[i:i + 8] for i in range(len(secret) - 7))
    return any(text[i:i + 8] in runs for i in range(len(text) - 7))


def strings_in(value):
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings_in(k) + strings_in(v)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in strings_in(item)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("length", [8, 9, 33, 1204, 16000])
def test_over_http_no_part_of_a_secret_echoed_by_the_server_is_logged_or_sent(server, clock, caplog, length):
    caplog.set_level(logging.DEBUG)
    secret = secret_of(length)
    part = secret[length // 3:]
    server.queue(jobs(bean("r", "INIT")),
                 Answer(503, {"error_code": "APIGW.0201", "details": [{"error_code": "X", "error_msg": part}],
                              "error_msg": "token %s refused (%s) %s %s" % (secret, part, json.dumps(secret), quote(secret, safe=""))},
                        {"X-Request-Id": part[:100]}),
                 Answer(500, "<html>%s</html>" % secret))
    server.default = jobs(bean("r", "FAIL", error_code=part, fail_reason="bad token " + secret, **{secret: part}))

    async def scenario():
        source = Source(http_args(server, ["r"], auth_token=secret), clock=clock)
        try:
            await source.until(lambda: source.queue.events, "the FAIL event")
        finally:
            await source.stop()
        return source

    source = run(scenario())
    assert source.queue.transitions() == [("job-1", "INIT", "FAIL")]
    assert server.requests[0]["headers"]["X-Auth-Token"] == secret
    lines = [r.getMessage() for r in caplog.records]
    assert any("HTTP 503" in line and "********" in line for line in lines), lines
    for text in lines + strings_in(source.queue.events):
        assert not leaks(text, secret), text[:200]


@pytest.mark.parametrize("option,value", [("interval", float("inf")), ("interval", 10 ** 400), ("backoff_max", "1e999"),
                                          ("max_rps", 10 ** 400)])
def test_numbers_that_would_overflow_are_refused_naming_the_option(option, value):
    args = dict(resource_ids=["r"], endpoint="http://127.0.0.1:9", project_id="0" * 32, auth_token="t")
    args[option] = value
    with pytest.raises(plugin.DbssConfigError) as caught:
        plugin.parse_args(args)
    assert caught.value.option == option
