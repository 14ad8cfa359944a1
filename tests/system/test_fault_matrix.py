# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault matrix of issue 6: every fault the emulator can inject, against the
info module (one listing, no wait) and against the wait.

Expected everywhere: converge when the fault is transient and the deadline
allows; otherwise a clear failure that names the cause; never a Python
traceback; never past the deadline by more than one request timeout.

Most cases run in-process (``run_jobs_info`` with ``build_client``, exactly what
the action plugin does on the controller) with short timelines; a few run
through real ``ansible-playbook`` to prove "no traceback" end to end. The
figures (cases and waits) go to ``build/reliability/fault_matrix.json``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

import pytest

from support import clear_hw_environment, run_task, save_figures


PID = "0123456789abcdef0123456789abcdef"
TOKEN = "demo-token"
REQUEST_TIMEOUT = 1.0
REQUEST_ID_TEXT = re.compile(r"request id: [0-9a-f]{32}")

FIGURES = {"faults_tried": 0, "waits_run": 0, "verdicts_right": 0, "cases": 0}


# ---------------------------------------------------------------------------
# helpers (kept local: each reliability suite is self-contained)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def write_figures():
    yield
    save_figures("fault_matrix", FIGURES)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    clear_hw_environment(monkeypatch)


def module_args(url, resource_id, **extra):
    args = dict(endpoint=url, project_id=PID, auth_token=TOKEN, resource_id=resource_id, timeout=REQUEST_TIMEOUT,
                max_retries=2, wait_sleep=0.1, wait_max_sleep=0.4, wait_timeout=6, wait_not_found_timeout=5)
    args.update(extra)
    return args


def run_inprocess(args):
    """dbss_audit_jobs_info as the action plugin runs it; returns (result, wall seconds)."""
    started = time.monotonic()
    result = run_task(args)
    return result, time.monotonic() - started


def control(emu, method, path, body=None):
    status, answer = emu.control(method, path, body)
    assert status in (200, 201), answer
    return answer


def add_job(emu, resource_id, **spec):
    spec.setdefault("timeline", {"INIT": 0.1, "RUNNING": 0.3})
    spec["resource_id"] = resource_id
    spec.setdefault("project_id", PID)
    return control(emu, "POST", "/jobs", spec)


def add_faults(emu, resource_id, faults):
    for spec in faults:
        spec = dict(spec, resource_id=resource_id)
        control(emu, "POST", "/faults", spec)


def requests_for(emu, resource_id):
    """DBSS requests logged for one resource (a stalled request of an earlier
    test is logged when its stall ends, so totals are not used)."""
    return control(emu, "GET", "/counters")["resources"].get(resource_id, 0)


def settle(emu, resource_id, expected, limit=5.0):
    """A stalled request is logged when its stall ends: wait (bounded) for it."""
    end = time.monotonic() + limit
    while requests_for(emu, resource_id) < expected and time.monotonic() < end:
        time.sleep(0.1)


def later(seconds, action):
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    timer.start()
    return timer


def assert_no_traceback(result):
    assert "Traceback" not in json.dumps(result, default=str)


def assert_within_deadline(result, wall, wait_timeout, timeout=REQUEST_TIMEOUT):
    bound = wait_timeout + timeout
    assert result.get("elapsed", 0.0) <= bound + 0.5, result.get("elapsed")
    assert wall <= bound + 2.0, wall


# ---------------------------------------------------------------------------
# the faults
# ---------------------------------------------------------------------------

# name -> (fault spec, words the failure message must contain)
TRANSIENT = {
    "503": ({"kind": "status", "status": 503}, ["HTTP 503", "APIGW.0201"]),
    "502_html": ({"kind": "html", "status": 502}, ["HTTP 502", "HTML"]),
    "504": ({"kind": "status", "status": 504}, ["HTTP 504"]),
    "500_internal": ({"kind": "status", "status": 500}, ["HTTP 500", "DBSS.11000000"]),
    "429_retry_after": ({"kind": "throttle", "retry_after": 1}, ["HTTP 429", "APIGW.0308"]),
    "429_no_retry_after": ({"kind": "throttle"}, ["HTTP 429", "APIGW.0308"]),
    "reset": ({"kind": "reset"}, ["reset"]),
    "stall": ({"kind": "delay", "seconds": REQUEST_TIMEOUT + 0.6}, ["timeout"]),
    "truncated_json": ({"kind": "truncated"}, ["not valid JSON"]),
    "json_not_object": ({"kind": "json", "body": ["jobs"]}, ["not a JSON object"]),
    "jobs_not_list": ({"kind": "json", "body": {"jobs": "x"}}, ["'jobs' is not a list"]),
}

PERMANENT = {
    "401_token_expired": ({"kind": "token_expired"}, ["HTTP 401", "APIGW.0307", "The token must be updated"], 401),
    "403_details": ({"kind": "forbidden"}, ["HTTP 403", "APIGW.0302", "Policy doesn't allow"], 403),
    "404": ({"kind": "status", "status": 404}, ["HTTP 404", "APIGW.0101"], 404),
}


def count(kind_faults=1, waits=0):
    FIGURES["cases"] += 1
    FIGURES["faults_tried"] += kind_faults
    FIGURES["waits_run"] += waits


def right(result_ok):
    if result_ok:
        FIGURES["verdicts_right"] += 1


# -- info module (no wait) -------------------------------------------------

@pytest.mark.parametrize("name", sorted(TRANSIENT))
def test_info_converges_after_transient_fault(emulator, name):
    spec, _words = TRANSIENT[name]
    rid = "info-ok-" + name.replace("_", "-")
    add_job(emulator, rid, timeline={})
    add_faults(emulator, rid, [dict(spec, count=2)])      # max_retries 2: the third attempt answers
    count()
    result, _wall = run_inprocess(module_args(emulator.url, rid))
    assert_no_traceback(result)
    assert result["failed"] is False, result.get("msg")
    assert result["job"]["status"] == "SUCCESS"
    assert len(result["jobs"]) == 1
    right(True)


@pytest.mark.parametrize("name", sorted(TRANSIENT))
def test_info_fails_clearly_when_retries_are_exhausted(emulator, name):
    spec, words = TRANSIENT[name]
    rid = "info-bad-" + name.replace("_", "-")
    add_job(emulator, rid, timeline={})
    add_faults(emulator, rid, [dict(spec, count=-1)])
    count()
    # Throttling is retried through a one-minute quota window whatever max_retries (the unit
    # tests run that window on a fake clock); only max_retries 0 ends it at the first answer.
    throttled = spec["kind"] == "throttle"
    result, wall = run_inprocess(module_args(emulator.url, rid, max_retries=0 if throttled else 1))
    assert_no_traceback(result)
    assert result["failed"] is True
    for word in words:
        assert word in result["msg"], (word, result["msg"])
    if spec["kind"] not in ("reset", "delay"):
        assert REQUEST_ID_TEXT.search(result["msg"]), result["msg"]
    # two attempts, each bounded by the request timeout, plus backoff / Retry-After
    assert wall <= 2 * REQUEST_TIMEOUT + 1.0 + 2.0
    if spec["kind"] == "delay":
        settle(emulator, rid, 2)
    assert requests_for(emulator, rid) == (1 if throttled else 2)  # first try + max_retries, never more
    right(True)


@pytest.mark.parametrize("name", sorted(PERMANENT))
def test_info_fails_at_once_on_permanent_error(emulator, name):
    spec, words, status = PERMANENT[name]
    rid = "info-perm-" + name.replace("_", "-")
    add_job(emulator, rid, timeline={})
    add_faults(emulator, rid, [dict(spec, count=-1)])
    count()
    result, _wall = run_inprocess(module_args(emulator.url, rid))
    assert_no_traceback(result)
    assert result["failed"] is True
    assert result["status_code"] == status
    for word in words:
        assert word in result["msg"], (word, result["msg"])
    assert REQUEST_ID_TEXT.search(result["msg"])
    assert result["request_id"] and re.match(r"^[0-9a-f]{32}$", result["request_id"])
    if status == 403:
        assert result["details"] and result["encoded_authorization_message"]
    # No retry of a permanent error; a 404 APIGW.0101 (not published) is asked once more on the
    # Terraform provider's path, which the fault answers alike.
    assert requests_for(emulator, rid) == (2 if status == 404 else 1)
    right(True)


def test_info_jobs_with_missing_fields_are_completed_with_nulls(emulator):
    rid = "info-missing"
    add_faults(emulator, rid, [{"kind": "json", "body": {"jobs": [{"job_id": "j1", "status": "RUNNING"}, {"status": "FAIL"}]}}])
    count()
    result, _wall = run_inprocess(module_args(emulator.url, rid))
    assert result["failed"] is False, result.get("msg")
    assert len(result["jobs"]) == 2
    for job in result["jobs"]:
        for field in ("job_id", "status", "begin_time", "end_time", "resource_id", "charge_mode", "fail_reason"):
            assert field in job
    assert result["jobs"][0]["begin_time"] is None
    right(True)


def test_info_jobs_with_extra_fields_keep_them(emulator):
    rid = "info-extra"
    add_job(emulator, rid, timeline={}, fields={"vendor_extension": {"a": 1}, "charge_mode": "Period"})
    count()
    result, _wall = run_inprocess(module_args(emulator.url, rid))
    assert result["failed"] is False, result.get("msg")
    assert result["job"]["vendor_extension"] == {"a": 1}
    assert result["job"]["charge_mode"] == "Period"
    right(True)


def test_info_no_jobs_is_an_empty_list(emulator):
    count(kind_faults=0)
    result, _wall = run_inprocess(module_args(emulator.url, "info-none"))
    assert result["failed"] is False
    assert result["jobs"] == [] and result["job"] is None
    right(True)


def test_info_unknown_status_word_is_reported_as_is(emulator):
    rid = "info-unknown"
    add_job(emulator, rid, timeline={}, fields={"status": "HIBERNATING"})
    count()
    result, _wall = run_inprocess(module_args(emulator.url, rid))
    assert result["failed"] is False
    assert result["job"]["status"] == "HIBERNATING"
    right(True)


def test_info_entries_that_are_not_objects_fail_clearly(emulator):
    rid = "info-entries"
    add_faults(emulator, rid, [{"kind": "json", "body": {"jobs": ["x", 1]}, "count": -1}])
    count()
    result, _wall = run_inprocess(module_args(emulator.url, rid, max_retries=0))
    assert_no_traceback(result)
    assert result["failed"] is True
    assert "not an object" in result["msg"]
    right(True)


# -- the wait ---------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(TRANSIENT))
def test_wait_converges_through_a_burst(emulator, name):
    spec, _words = TRANSIENT[name]
    rid = "wait-ok-" + name.replace("_", "-")
    add_job(emulator, rid)
    # a burst longer than one request's retries: the wait itself must ride it out
    add_faults(emulator, rid, [dict(spec, count=4)])
    count(waits=1)
    result, wall = run_inprocess(module_args(emulator.url, rid, wait=True, wait_timeout=12, max_retries=1))
    assert_no_traceback(result)
    assert result["failed"] is False, result.get("msg")
    assert result["states"] == {rid: "SUCCESS"}
    assert result["requests"] >= 5
    assert_within_deadline(result, wall, 12)
    right(True)


@pytest.mark.parametrize("name", sorted(TRANSIENT))
def test_wait_times_out_naming_the_persistent_fault(emulator, name):
    spec, words = TRANSIENT[name]
    rid = "wait-to-" + name.replace("_", "-")
    add_job(emulator, rid)
    add_faults(emulator, rid, [dict(spec, count=-1)])
    count(waits=1)
    wait_timeout = 2.0
    result, wall = run_inprocess(module_args(emulator.url, rid, wait=True, wait_timeout=wait_timeout, max_retries=1))
    assert_no_traceback(result)
    assert result["failed"] is True
    assert result["failure_kind"] == "timeout"
    if "past the deadline" in result["msg"]:
        # a Retry-After that reaches past the deadline ends the wait at once, saying so
        assert spec.get("retry_after") and "Retry-After" not in words and "last error" in result["msg"]
    else:
        assert "timed out after 2 s" in result["msg"] and "last poll failed" in result["msg"]
    assert rid in result["msg"]
    if spec["kind"] == "throttle" and "request-rate limit" in result["msg"]:
        # the throttled client slowed down so much that its last poll could not
        # be sent before the deadline: the message then names the rate limit
        words = ["wait deadline passed while waiting for the request-rate limit"]
    for word in words:
        assert word in result["msg"], (word, result["msg"])
    assert_within_deadline(result, wall, wait_timeout)
    right(True)


@pytest.mark.parametrize("name", sorted(PERMANENT))
def test_wait_fails_at_once_on_permanent_error(emulator, name):
    spec, words, status = PERMANENT[name]
    rid = "wait-perm-" + name.replace("_", "-")
    add_job(emulator, rid, timeline={"RUNNING": 0.5})
    add_faults(emulator, rid, [{"kind": "status", "status": 503}, dict(spec, count=-1)])
    count(kind_faults=2, waits=1)
    result, wall = run_inprocess(module_args(emulator.url, rid, wait=True, wait_timeout=10, max_retries=0))
    assert_no_traceback(result)
    assert result["failed"] is True
    assert result["failure_kind"] == "api_error"
    assert result["status_code"] == status
    for word in words:
        assert word in result["msg"], (word, result["msg"])
    assert wall < 5.0  # fails at once, not at the 10 s deadline (generous bound, not a race)
    right(True)


def test_wait_401_with_password_login_logs_in_again_and_converges(emulator):
    rid = "wait-relogin"
    add_job(emulator, rid)
    add_faults(emulator, rid, [{"kind": "token_expired"}])
    count(waits=1)
    result, _wall = run_inprocess(module_args(emulator.url, rid, wait=True, auth_token=None, user_name="demo-user",
                                              password="demo-password", domain_name="demo-domain",
                                              auth_url=emulator.url + "/v3"))
    assert result["failed"] is False, result.get("msg")
    assert control(emulator, "GET", "/counters")["iam_logins"] == 2
    right(True)


def test_wait_no_jobs_for_a_while_then_a_job_converges(emulator):
    rid = "wait-late"
    later(0.8, lambda: add_job(emulator, rid))
    count(kind_faults=1, waits=1)
    result, wall = run_inprocess(module_args(emulator.url, rid, wait=True, wait_timeout=8, wait_not_found_timeout=4))
    assert result["failed"] is False, result.get("msg")
    assert result["states"] == {rid: "SUCCESS"}
    assert_within_deadline(result, wall, 8)
    right(True)


def test_wait_no_jobs_at_all_fails_not_found(emulator):
    rid = "wait-never"
    count(kind_faults=1, waits=1)
    result, wall = run_inprocess(module_args(emulator.url, rid, wait=True, wait_timeout=8, wait_not_found_timeout=0.8))
    assert_no_traceback(result)
    assert result["failed"] is True
    assert result["failure_kind"] == "not_found"
    assert "resource %s has no DBSS job" % rid in result["msg"] and "wait_not_found_timeout" in result["msg"]
    assert wall < 5.0
    right(True)


def test_wait_job_disappearing_mid_wait_fails_not_found(emulator):
    rid = "wait-vanish"
    job = add_job(emulator, rid, timeline={"RUNNING": None})
    later(0.6, lambda: control(emulator, "DELETE", "/jobs/" + job["job_id"]))
    count(kind_faults=1, waits=1)
    result, wall = run_inprocess(module_args(emulator.url, rid, wait=True, wait_timeout=8, wait_not_found_timeout=0.8))
    assert_no_traceback(result)
    assert result["failed"] is True
    assert result["failure_kind"] == "not_found", result["msg"]
    assert rid in result["msg"]
    # The compact failure: the resource follows no job any more (its job vanished mid-wait).
    assert result["states"] == {rid: None} and result["job"] is None and "has no DBSS job" in result["msg"]
    assert wall < 6.0
    right(True)


def test_wait_job_disappearing_and_coming_back_converges(emulator):
    rid = "wait-blink"
    job = add_job(emulator, rid, timeline={"RUNNING": None})

    def swap():
        control(emulator, "DELETE", "/jobs/" + job["job_id"])
        later(0.5, lambda: add_job(emulator, rid))
    later(0.5, swap)
    count(kind_faults=1, waits=1)
    result, _wall = run_inprocess(module_args(emulator.url, rid, wait=True, wait_timeout=8, wait_not_found_timeout=3))
    assert result["failed"] is False, result.get("msg")
    right(True)


def test_wait_unknown_status_word_fails_at_once(emulator):
    rid = "wait-unknown"
    add_job(emulator, rid, timeline={}, fields={"status": "HIBERNATING"})
    count(waits=1)
    result, wall = run_inprocess(module_args(emulator.url, rid, wait=True, wait_timeout=8))
    assert_no_traceback(result)
    assert result["failed"] is True
    assert result["failure_kind"] == "unexpected_state"
    assert "'HIBERNATING'" in result["msg"] and "target_states" in result["msg"]
    assert wall < 5.0
    right(True)


def test_wait_missing_and_extra_fields_converge(emulator):
    rid = "wait-fields"
    add_job(emulator, rid, fields={"vendor_extension": 42, "job_type": "CREATE"})
    add_faults(emulator, rid, [{"kind": "json", "body": {"jobs": [{"status": "RUNNING"}]}},
                               {"kind": "json", "body": {"jobs": [{"status": "RUNNING", "begin_time": "x", "odd": []}]}}])
    count(kind_faults=3, waits=1)
    result, _wall = run_inprocess(module_args(emulator.url, rid, wait=True, wait_timeout=8))
    assert result["failed"] is False, result.get("msg")
    assert result["job"]["vendor_extension"] == 42
    right(True)


def test_wait_failed_job_fails_with_its_reason(emulator):
    rid = "wait-fail"
    add_job(emulator, rid, outcome="FAIL", fail_reason="No ECS quota")
    add_faults(emulator, rid, [{"kind": "status", "status": 503}])
    count(waits=1)
    result, wall = run_inprocess(module_args(emulator.url, rid, wait=True, wait_timeout=8))
    assert result["failed"] is True
    assert result["failure_kind"] == "failed"
    assert "No ECS quota" in result["msg"] and "DBSS.10020200" in result["msg"]
    assert wall < 5.0
    right(True)


def test_wait_stall_never_passes_deadline_by_more_than_one_timeout(emulator):
    """Every answer stalls 3 s with a 1.5 s request timeout and a 2 s wait: the
    task must end by 2 + 1.5 s (plus scheduling slack)."""
    rid = "wait-stall-edge"
    add_job(emulator, rid, timeline={"RUNNING": None})
    add_faults(emulator, rid, [{"kind": "delay", "seconds": 3, "count": -1}])
    count(waits=1)
    result, wall = run_inprocess(module_args(emulator.url, rid, wait=True, wait_timeout=2, timeout=1.5, max_retries=5))
    assert result["failed"] is True and result["failure_kind"] == "timeout"
    assert "timeout" in result["msg"]
    assert_within_deadline(result, wall, 2, timeout=1.5)
    right(True)


def test_wait_retry_after_longer_than_deadline_ends_on_time(emulator):
    rid = "wait-long-ra"
    add_job(emulator, rid)
    add_faults(emulator, rid, [{"kind": "throttle", "retry_after": 30, "count": -1}])
    count(waits=1)
    result, wall = run_inprocess(module_args(emulator.url, rid, wait=True, wait_timeout=2))
    assert result["failed"] is True and result["failure_kind"] == "timeout"
    assert "APIGW.0308" in result["msg"]
    assert_within_deadline(result, wall, 2)
    right(True)


def test_wait_many_resources_with_mixed_faults(emulator):
    rids = ["multi-%d" % i for i in range(6)]
    for rid in rids:
        add_job(emulator, rid)
    kinds = ["503", "502_html", "reset", "truncated_json", "429_no_retry_after", "stall"]
    for rid, kind in zip(rids, kinds):
        add_faults(emulator, rid, [dict(TRANSIENT[kind][0], count=2)])
    count(kind_faults=len(kinds), waits=1)
    args = module_args(emulator.url, None, wait=True, wait_timeout=15, resource_ids=rids, max_retries=0)
    del args["resource_id"]
    result, wall = run_inprocess(args)
    assert result["failed"] is False, result.get("msg")
    assert set(result["states"].values()) == {"SUCCESS"}
    assert_within_deadline(result, wall, 15)
    right(True)


# ---------------------------------------------------------------------------
# through ansible-playbook: no traceback end to end
# ---------------------------------------------------------------------------

def ansible_playbook():
    candidate = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return candidate if os.path.exists(candidate) else shutil.which("ansible-playbook")


def playbook_env():
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("HW_") and k != "OS_AUTH_TOKEN")
    env["ANSIBLE_COLLECTIONS_PATH"] = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or "/tmp/coll"
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_RETRY_FILES_ENABLED"] = "0"
    env["ANSIBLE_LOCALHOST_WARNING"] = "0"
    env["ANSIBLE_INVENTORY_UNPARSED_WARNING"] = "0"
    env["ANSIBLE_PYTHON_INTERPRETER"] = sys.executable
    return env


PLAYBOOK_CASES = [
    # (name, faults, job spec, module options, expected: "ok" or failure words)
    ("info_503_once", [{"kind": "status", "status": 503}], {"timeline": {}}, {}, "ok"),
    ("info_html_always", [{"kind": "html", "count": -1}], {"timeline": {}}, {"max_retries": 1}, ["HTTP 502", "HTML"]),
    ("info_reset_always", [{"kind": "reset", "count": -1}], {"timeline": {}}, {"max_retries": 0}, ["reset"]),
    ("info_truncated_always", [{"kind": "truncated", "count": -1}], {"timeline": {}}, {"max_retries": 0}, ["not valid JSON"]),
    ("info_403", [{"kind": "forbidden"}], {"timeline": {}}, {}, ["HTTP 403", "APIGW.0302"]),
    ("wait_burst", [{"kind": "status", "status": 503, "count": 3}, {"kind": "reset"}, {"kind": "json", "body": []}],
     {"timeline": {"RUNNING": 0.3}}, {"wait": True, "max_retries": 0}, "ok"),
    ("wait_stall_timeout", [{"kind": "delay", "seconds": 2, "count": -1}], {"timeline": {"RUNNING": None}},
     {"wait": True, "wait_timeout": 2}, ["timed out", "timeout"]),
    ("wait_401", [{"kind": "token_expired"}], {"timeline": {"RUNNING": 0.3}}, {"wait": True}, ["HTTP 401", "APIGW.0307"]),
    ("wait_unknown_state", [], {"timeline": {}, "fields": {"status": "HIBERNATING"}}, {"wait": True}, ["HIBERNATING"]),
    ("wait_fail", [], {"timeline": {"RUNNING": 0.2}, "outcome": "FAIL"}, {"wait": True}, ["FAIL", "DBSS.10020200"]),
    ("wait_not_found", [], None, {"wait": True, "wait_not_found_timeout": 0.5}, ["has no DBSS job"]),
]


def test_playbook_faults_end_without_traceback(emulator, tmp_path):
    binary = ansible_playbook()
    if binary is None:
        pytest.skip("ansible-playbook not found")
    tasks = []
    for name, faults, job, options, _expected in PLAYBOOK_CASES:
        rid = "pb-" + name.replace("_", "-")
        if job is not None:
            add_job(emulator, rid, **job)
        add_faults(emulator, rid, faults)
        count(kind_faults=max(1, len(faults)), waits=1 if options.get("wait") else 0)
        args = dict(endpoint=emulator.url, project_id=PID, auth_token=TOKEN, resource_id=rid, timeout=REQUEST_TIMEOUT,
                    wait_sleep=0.1, wait_max_sleep=0.4, wait_timeout=8)
        args.update(options)
        tasks.append({"name": name, "hwcloud.dbss.dbss_audit_jobs_info": args, "register": "r_" + name, "ignore_errors": True})
    results = dict((name, "{{ r_%s }}" % name) for name, _f, _j, _o, _e in PLAYBOOK_CASES)
    out_file = str(tmp_path / "results.json")
    tasks.append({"name": "save", "ansible.builtin.copy": {"content": "{{ results_all | to_json }}", "dest": out_file},
                  "vars": {"results_all": results}})
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}]
    book = tmp_path / "faults.yml"
    book.write_text(json.dumps(play))
    proc = subprocess.run([binary, "-i", "localhost,", str(book), "-v"], env=playbook_env(), cwd=str(tmp_path), check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180)
    output = proc.stdout.decode("utf-8", "replace")
    assert "Traceback" not in output
    assert "unexpected error" not in output
    with open(out_file) as handle:
        registered = json.load(handle)
    for name, _faults, _job, options, expected in PLAYBOOK_CASES:
        result = registered[name]
        # ansible-core 2.19 adds "exception": "(traceback unavailable)" to failures
        assert "Traceback" not in str(result.get("exception", "")), (name, result)
        if expected == "ok":
            assert not result.get("failed"), (name, result.get("msg"))
        else:
            assert result.get("failed") is True, (name, result)
            for word in expected:
                assert word in result["msg"], (name, word, result["msg"])
        if options.get("wait"):
            wait_timeout = options.get("wait_timeout", 8)
            assert result.get("elapsed", 0) <= wait_timeout + REQUEST_TIMEOUT + 0.5, (name, result.get("elapsed"))
        right(True)
