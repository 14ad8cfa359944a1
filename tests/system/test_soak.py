# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A seeded, reproducible soak of the wait (issue 6).

Each of ``DBSS_SOAK_WAITS`` (default 200) waits gets its own resource ID, a job
scenario and a random schedule of faults drawn from the fault matrix, all from
``random.Random(seed, wait index)`` (``DBSS_SOAK_SEED``, default below), so a
schedule does not depend on thread timing. The verdict each wait must reach
is computed from its schedule before it runs:

* a permanent fault (401 with a token or AK/SK, 403, 404) in the schedule: the
  faults before it are transient, so the wait reaches it and fails (api_error);
* otherwise the scenario decides: SUCCESS -> success, FAIL -> failed, an
  unknown status word -> unexpected_state, no job / a job that disappears ->
  not_found, a job that never finishes -> timeout.

Every deadline leaves room for the worst case of the schedule's faults, so the
verdict never depends on scheduling luck. Waits run in a few threads against
one emulator. The figures go to ``build/reliability/soak.json``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from support import run_task, save_figures

PID = "0123456789abcdef0123456789abcdef"
DEFAULT_SEED = 20240606
DEFAULT_WAITS = 200
THREADS = 10
REQUEST_TIMEOUT = 0.5
WAIT_MAX_SLEEP = 0.3

# name -> (fault spec, worst-case seconds one answer of it can cost the wait)
TRANSIENT = {
    "503": ({"kind": "status", "status": 503}, 0.0),
    "502_html": ({"kind": "html", "status": 502}, 0.0),
    "504": ({"kind": "status", "status": 504}, 0.0),
    "500_internal": ({"kind": "status", "status": 500}, 0.0),
    "429_retry_after": ({"kind": "throttle", "retry_after": 1}, 1.2),
    "429_no_retry_after": ({"kind": "throttle"}, 0.6),
    "reset": ({"kind": "reset"}, 0.0),
    "stall": ({"kind": "delay", "seconds": REQUEST_TIMEOUT + 0.3}, REQUEST_TIMEOUT),
    "truncated_json": ({"kind": "truncated"}, 0.0),
    "json_not_object": ({"kind": "json", "body": []}, 0.0),
    "jobs_not_list": ({"kind": "json", "body": {"jobs": {"a": 1}}}, 0.0),
    "missing_and_extra_fields": ({"kind": "json", "body": {"jobs": [{"status": "RUNNING", "odd_field": [1]}]}}, 0.0),
}
PERMANENT = {
    "401_token_expired": {"kind": "token_expired"},
    "403_details": {"kind": "forbidden"},
    # Not APIGW.0101 (an unpublished path, which falls back to the provider's): a permanent 404.
    "404": {"kind": "status", "status": 404, "error_code": "DBSS.10020404", "error_msg": "The audit instance does not exist."},
}
SCENARIOS = ("success", "success", "success", "fail", "unknown_state", "never", "no_job", "late_job", "vanish")
# per answer: the next poll (<= WAIT_MAX_SLEEP) plus the client's worst backoff
PER_ANSWER_SLACK = WAIT_MAX_SLEEP + 1.0


def seed():
    return int(os.environ.get("DBSS_SOAK_SEED") or DEFAULT_SEED)


def waits():
    return int(os.environ.get("DBSS_SOAK_WAITS") or DEFAULT_WAITS)


class Plan:
    """One wait: scenario, faults, options and the verdict they imply."""

    def __init__(self, base_seed, index):
        rng = random.Random("%d:%d" % (base_seed, index))
        self.index = index
        self.resource_id = "soak-%d-%d" % (base_seed % 100000, index)
        self.scenario = rng.choice(SCENARIOS)
        self.auth = rng.choice(("token", "aksk"))
        self.max_retries = rng.randint(0, 2)
        self.faults = []
        cost = 0.0
        for dummy in range(rng.randint(0, 4)):
            name = rng.choice(sorted(TRANSIENT))
            spec, worst = TRANSIENT[name]
            self.faults.append((name, dict(spec)))
            cost += worst + PER_ANSWER_SLACK
        self.permanent = None
        if rng.random() < 0.2:
            self.permanent = rng.choice(sorted(PERMANENT))
            self.faults.append((self.permanent, dict(PERMANENT[self.permanent])))
            cost += PER_ANSWER_SLACK
        self.running = round(rng.uniform(0.1, 0.6), 2)
        if self.permanent:
            self.expected = "api_error"
        else:
            self.expected = {"success": "success", "late_job": "success", "fail": "failed", "unknown_state": "unexpected_state",
                             "never": "timeout", "no_job": "not_found", "vanish": "not_found"}[self.scenario]
        self.not_found_timeout = 0.6
        if self.scenario == "late_job":
            self.not_found_timeout = 3.0 + cost
        if self.expected == "timeout":
            self.wait_timeout = round(rng.uniform(0.8, 1.5), 2)
        else:
            # room for the worst case of every fault, then a wide margin
            self.wait_timeout = round(self.running + self.not_found_timeout + cost + 4.0, 2)

    def args(self, url):
        args = dict(endpoint=url, project_id=PID, resource_id=self.resource_id, wait=True, timeout=REQUEST_TIMEOUT,
                    max_retries=self.max_retries, wait_sleep=0.1, wait_max_sleep=WAIT_MAX_SLEEP,
                    wait_timeout=self.wait_timeout, wait_not_found_timeout=self.not_found_timeout, wait_max_rps=50)
        if self.auth == "token":
            args["auth_token"] = "demo-token"
        else:
            args.update(access_key="DEMOACCESSKEY", secret_key="demo-secret-key")
        return args


def control(emu, method, path, body=None):
    status, answer = emu.control(method, path, body)
    assert status in (200, 201), answer
    return answer


def add_job(emu, plan, **extra):
    spec = dict(resource_id=plan.resource_id, project_id=PID, timeline={"INIT": 0.05, "RUNNING": plan.running})
    spec.update(extra)
    return control(emu, "POST", "/jobs", spec)


def prepare(emu, plan):
    """Jobs and faults of one plan; returns timers to cancel at the end."""
    if plan.faults:
        control(emu, "POST", "/faults", {"faults": [dict(spec, resource_id=plan.resource_id) for _n, spec in plan.faults]})
    timers = []
    if plan.scenario == "success":
        add_job(emu, plan)
    elif plan.scenario == "fail":
        add_job(emu, plan, outcome="FAIL")
    elif plan.scenario == "unknown_state":
        add_job(emu, plan, fields={"status": "SUSPENDED"})
    elif plan.scenario == "never":
        add_job(emu, plan, timeline={"RUNNING": None})
    elif plan.scenario == "late_job":
        timers.append(threading.Timer(0.5, add_job, (emu, plan)))
    elif plan.scenario == "vanish":
        job = add_job(emu, plan, timeline={"RUNNING": None})
        timers.append(threading.Timer(0.3, control, (emu, "DELETE", "/jobs/" + job["job_id"])))
    for timer in timers:
        timer.daemon = True
    return timers


def run_plan(emu, plan):
    timers = prepare(emu, plan)
    started = time.monotonic()
    for timer in timers:
        timer.start()
    outcome = {"index": plan.index, "expected": plan.expected, "faults": [n for n, _s in plan.faults]}
    result = run_task(plan.args(emu.url))
    if result["failed"]:
        outcome.update(kind=result.get("failure_kind", "error"), elapsed=result.get("elapsed", 0.0), msg=result["msg"])
    else:
        outcome.update(kind="success", elapsed=result["elapsed"], msg="")
    outcome["wall"] = time.monotonic() - started
    for timer in timers:
        timer.cancel()
    bound = plan.wait_timeout + REQUEST_TIMEOUT
    outcome["right"] = (outcome["kind"] == plan.expected and outcome["elapsed"] <= bound + 0.5
                        and outcome["wall"] <= bound + 2.0 and "Traceback" not in outcome["msg"])
    return outcome


def test_soak(start_emulator, capsys):
    base_seed, count = seed(), waits()
    plans = [Plan(base_seed, index) for index in range(count)]
    emu = start_emulator()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(lambda plan: run_plan(emu, plan), plans))
    seconds = time.monotonic() - started
    faults = sum(len(plan.faults) for plan in plans)
    right = sum(1 for outcome in outcomes if outcome["right"])
    by_verdict = {}
    for plan in plans:
        by_verdict[plan.expected] = by_verdict.get(plan.expected, 0) + 1
    save_figures("soak", {"seed": base_seed, "waits_run": count, "faults_tried": faults, "verdicts_right": right,
                          "expected_verdicts": by_verdict})
    with capsys.disabled():
        print("\nsoak: seed=%d waits=%d faults=%d verdicts_right=%d/%d expected=%s threads=%d (%.0f s)" % (
            base_seed, count, faults, right, count, json.dumps(by_verdict, sort_keys=True), THREADS, seconds))
    wrong = [outcome for outcome in outcomes if not outcome["right"]]
    assert not wrong, "seed %d: %d wrong verdicts, first ones: %s" % (base_seed, len(wrong), json.dumps(wrong[:5], indent=1))
    assert count >= 1


@pytest.mark.parametrize("index", range(50))
def test_plans_are_reproducible(index):
    first, second = Plan(seed(), index), Plan(seed(), index)
    assert (first.scenario, first.faults, first.expected, first.wait_timeout) == (
        second.scenario, second.faults, second.expected, second.wait_timeout)
