# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssApiError, DbssError
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs import AmbiguousJob
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_waiter import (
    HEARTBEAT,
    NO_ANSWER,
    NO_JOB,
    JobWaiter,
    WaitFailed,
    WaitOutcome,
    WaitSpec,
)
from ansible_collections.hwcloud.dbss.tests.unit.fakes import START

EPS = 1e-9
ENDPOINT = "https://dbss.cn-north-4.myhuaweicloud.com"


class Err(DbssError):
    """A poll error as the client raises them: transient or not, from the API or not."""

    def __init__(self, text, transient=True, from_api=False, retry_after=None):
        super(Err, self).__init__(text)
        self.transient, self.from_api, self.retry_after = transient, from_api, retry_after


def job(status, job_id="job-1", begin_time=1700000000000, **extra):
    bean = {"job_id": job_id, "status": status, "begin_time": begin_time, "error_code": None, "fail_reason": None}
    bean.update(extra)
    return bean


class ScriptedFetch:
    """Answers each resource from its script (a job list or an exception); the last entry repeats."""

    def __init__(self, clock, scripts, cost=0.0):
        self.clock, self.cost, self.origin = clock, cost, clock()
        self.scripts = dict((rid, list(entries)) for rid, entries in scripts.items())
        self.calls, self.polled = [], {}

    def __call__(self, resource_ids, deadline):
        self.calls.append((list(resource_ids), self.clock(), deadline))
        out = {}
        for rid in resource_ids:
            self.polled.setdefault(rid, []).append(self.clock() - self.origin)
            entries = self.scripts[rid]
            out[rid] = entries.pop(0) if len(entries) > 1 else entries[0]
        self.clock.advance(self.cost)
        return out


def run(clock, scripts, rng=0.0, events=None, cost=0.0, **spec):
    fetch = ScriptedFetch(clock, scripts, cost=cost)
    spec = WaitSpec(**spec)
    waiter = JobWaiter(spec, fetch, clock=clock, sleep=clock.sleep, rng=lambda: rng,
                       on_event=None if events is None else events.append, endpoint=ENDPOINT)
    try:
        result = waiter.wait(list(scripts))
    except WaitFailed as failure:
        result = failure
    if not cost:  # in every scenario: the waiter never sleeps past its deadline
        assert clock() <= fetch.origin + spec.timeout + EPS
    return result, fetch


def gaps(times):
    return [round(b - a, 6) for a, b in zip(times, times[1:])]


def changes(events):
    return [(e["job_id"], e["previous_status"], e["status"]) for e in events if "status" in e]


def test_success_after_pending(clock):
    listing = [job("SUCCESS")]
    result, fetch = run(clock, {"res-a": [[job("INIT")], [job("RUNNING")], [job("RUNNING")], listing]})
    assert isinstance(result, WaitOutcome) and result.kind == "success"
    assert result.polls == 4 == len(fetch.calls)
    assert result.states == {"res-a": "SUCCESS"}
    assert result.followed == {"res-a": listing[0]} and result.jobs == {"res-a": listing}
    assert result.elapsed == pytest.approx(35) and result.errors == {} and result.unfinished == []
    assert changes(result.events) == [("job-1", None, "INIT"), ("job-1", "INIT", "RUNNING"), ("job-1", "RUNNING", "SUCCESS")]


def test_a_failed_job_ends_the_wait_at_once_and_says_why(clock):
    fail = job("FAIL", job_id="8abf", error_code="DBSS.10020200", fail_reason="Failed to create the ECS")
    result, fetch = run(clock, {"res-a": [[job("RUNNING", job_id="8abf")], [fail], [job("SUCCESS", job_id="8abf")]]})
    assert isinstance(result, WaitFailed) and isinstance(result, DbssError)
    assert (result.kind, result.resource_id, result.job, len(fetch.calls)) == ("failed", "res-a", fail, 2)
    assert str(result) == result.message == ("DBSS job 8abf of resource res-a ended in FAIL after 5 s; "
                                             "error_code: DBSS.10020200; fail_reason: Failed to create the ECS")
    assert result.to_result()["job"] is fail


def test_server_text_in_messages_is_quoted_on_one_line_and_shortened(clock):
    result, fetch = run(clock, {"res-a": [[job("FAIL")]]})
    assert str(result).endswith("after 0 s; error_code: none; fail_reason: none")
    reason = "line one\nline two " + "x" * 3000
    result, fetch = run(clock, {"res-a": [[job("FAIL", fail_reason=reason)]]})
    assert "fail_reason: line one line two xxxx" in str(result)
    assert str(result).endswith("...") and "\n" not in str(result) and len(str(result)) < 700


@pytest.mark.parametrize("status", ["PAUSED", "success", "", None, 3])
def test_unexpected_state_fails_at_once_naming_the_lists(clock, status):
    result, fetch = run(clock, {"res-a": [[job("RUNNING")], [job(status)], [job("SUCCESS")]]})
    assert result.kind == "unexpected_state" and len(fetch.calls) == 2
    assert "DBSS job job-1 of resource res-a is in state %r after 5 s" % status in str(result)
    assert str(result).endswith("target_states [SUCCESS], pending_states [INIT, READY, RUNNING], failure_states [FAIL, ERROR]")


def test_custom_lists(clock):
    result, fetch = run(clock, {"res-a": [[job("READY")]]}, pending_states=["INIT", "RUNNING"])
    assert result.kind == "unexpected_state" and "pending_states [INIT, RUNNING]" in str(result)
    result, fetch = run(clock, {"res-a": [[job("INIT")], [job("RUNNING")]]},
                        target_states=["RUNNING", "SUCCESS"], pending_states=["INIT", "READY"])
    assert result.kind == "success" and result.states == {"res-a": "RUNNING"}
    result, fetch = run(clock, {"res-a": [[job("RUNNING")]]}, timeout=20, target_states=["FAIL", "SUCCESS"],
                        failure_states=[])
    assert "waiting for SUCCESS or FAIL;" in str(result)


def test_timeout_names_the_job_its_state_and_for_how_long(clock):
    running = job("RUNNING")
    result, fetch = run(clock, {"res-a": [[job("INIT")], [running]]}, timeout=100)
    assert result.kind == "timeout" and result.elapsed == pytest.approx(100)
    assert str(result) == "timed out after 100 s waiting for SUCCESS; unfinished: res-a (job job-1 RUNNING for 95 s)"
    assert fetch.polled["res-a"] == [0, 5, 15, 35, 65, 95]
    assert all(deadline == START + 100 for ids, t, deadline in fetch.calls)
    # the only unfinished resource is the one the timeout is about
    assert (result.unfinished, result.resource_id, result.job) == (["res-a"], "res-a", running)


def test_no_fetch_starts_after_the_deadline_but_a_late_answer_counts(clock):
    result, fetch = run(clock, {"res-a": [[job("RUNNING")]]}, timeout=60, sleep=1, max_sleep=1, cost=7.0)
    assert result.kind == "timeout" and clock() > START + 60
    assert all(t < START + 60 for ids, t, deadline in fetch.calls)
    result, fetch = run(clock, {"res-a": [[job("RUNNING")], [job("SUCCESS")]]}, timeout=10, sleep=5, max_sleep=5,
                        cost=4.0)
    assert result.kind == "success" and len(fetch.calls) == 2  # polls at 0 and 9, the second ends at 13


def test_timeout_lists_twenty_resources_and_describes_each(clock):
    scripts = dict(("res-%02d" % i, [[job("RUNNING")]]) for i in range(25))
    scripts["res-00"] = [[]]
    scripts["res-01"] = [Err("HTTP 503 APIGW.0101: busy (request id: r1)", from_api=True)]
    scripts["res-02"] = [[job("RUNNING")], []]
    scripts["res-03"] = [[job("RUNNING")], Err("connection reset")]
    result, fetch = run(clock, scripts, timeout=30, not_found_timeout=60)
    assert str(result).startswith(
        "timed out after 30 s waiting for SUCCESS; unfinished: res-00 (no job for 30 s), "
        "res-01 (no answer for 30 s; last poll failed: HTTP 503 APIGW.0101: busy (request id: r1)), "
        "res-02 (job gone for 25 s), res-03 (job job-1 RUNNING for 30 s; last poll failed: connection reset), "
        "res-04 (job job-1 RUNNING for 30 s)")
    assert str(result).endswith("res-19 (job job-1 RUNNING for 30 s) and 5 more") and "res-20" not in str(result)
    assert len(result.unfinished) == 25 and (result.resource_id, result.job) == (None, None)
    assert result.errors == {"res-01": "HTTP 503 APIGW.0101: busy (request id: r1)", "res-03": "connection reset"}


def test_no_job_then_a_job(clock):
    result, fetch = run(clock, {"res-a": [[], [], [job("RUNNING")], [job("SUCCESS")]]})
    assert result.kind == "success" and fetch.polled["res-a"] == [0, 5, 15, 20]  # the new job: 5 s again
    assert changes(result.events) == [("job-1", None, "RUNNING"), ("job-1", "RUNNING", "SUCCESS")]


def test_not_found_after_the_tolerance_polled_when_it_ends(clock):
    result, fetch = run(clock, {"res-a": [[]]}, not_found_timeout=60)
    assert result.kind == "not_found" and result.elapsed == pytest.approx(60)
    assert gaps(fetch.polled["res-a"]) == [5, 10, 20, 25]
    assert str(result) == "resource res-a has no DBSS job after 60 s (wait_not_found_timeout is 60 s)"
    assert (result.resource_id, result.job, result.jobs) == ("res-a", None, {"res-a": []})


def test_not_found_timeout_zero_and_the_delay_counts(clock):
    result, fetch = run(clock, {"res-a": [[job("RUNNING", job_id="other")]]}, job_id="wanted", not_found_timeout=0)
    assert result.kind == "not_found" and len(fetch.calls) == 1
    assert str(result) == ("job wanted was not found among the jobs of resource res-a after 0 s "
                           "(wait_not_found_timeout is 0 s)")
    result, fetch = run(clock, {"res-a": [[], [job("SUCCESS")]]}, delay=30, not_found_timeout=20)
    assert result.kind == "not_found" and len(fetch.calls) == 1
    assert clock.sleeps == [30] and fetch.polled["res-a"] == [30] and result.elapsed == pytest.approx(30)


def test_a_job_that_disappears_restarts_the_tolerance(clock):
    result, fetch = run(clock, {"res-a": [[job("RUNNING")], [job("RUNNING")], []]}, not_found_timeout=60)
    assert result.kind == "not_found" and fetch.polled["res-a"][2] == 15
    assert result.elapsed == pytest.approx(15 + 60)
    assert result.events[-1] == {"resource_id": "res-a", "job_id": "job-1", "previous_status": "RUNNING",
                                 "status": None, "elapsed": 15}
    assert result.states == {"res-a": None}


def test_a_job_that_comes_back_is_followed_with_a_fresh_backoff(clock):
    script = [[job("RUNNING")], [job("RUNNING")], [], [job("RUNNING")], [job("SUCCESS")]]
    result, fetch = run(clock, {"res-a": script}, not_found_timeout=600)
    assert result.kind == "success" and gaps(fetch.polled["res-a"]) == [5, 10, 5, 5]
    assert changes(result.events) == [("job-1", None, "RUNNING"), ("job-1", "RUNNING", None),
                                      ("job-1", None, "RUNNING"), ("job-1", "RUNNING", "SUCCESS")]


def test_transient_errors_are_retried_and_reported_as_events(clock):
    events = []
    result, fetch = run(clock, {"res-a": [Err("busy"), Err("connection reset"), [job("SUCCESS")]]}, events=events)
    assert result.kind == "success" and result.errors == {}
    assert [e for e in events if "error" in e] == [{"resource_id": "res-a", "error": "busy", "elapsed": 0},
                                                   {"resource_id": "res-a", "error": "connection reset", "elapsed": 5}]
    emitted = [e for e in events if "status" in e]
    assert emitted == [dict(result.events[0], first=True)] and len(result.events) == 1


def test_transient_errors_back_off_and_keep_the_last_state(clock):
    listing = [job("RUNNING")]
    result, fetch = run(clock, {"res-a": [listing, Err("reset", from_api=True)]}, timeout=200)
    assert result.kind == "timeout" and gaps(fetch.polled["res-a"])[:4] == [5, 10, 20, 30]
    assert (result.states, result.jobs, result.errors) == ({"res-a": "RUNNING"}, {"res-a": listing}, {"res-a": "reset"})


@pytest.mark.parametrize("error", [Err("HTTP 403 DBSS.10000001: forbidden", transient=False, from_api=True),
                                   Err("certificate verify failed", transient=False), DbssError("no transient"),
                                   ValueError("bug")])
def test_a_permanent_error_ends_the_wait_at_once(clock, error):
    result, fetch = run(clock, {"res-a": [[job("RUNNING")], error, [job("SUCCESS")]]})
    assert (result.kind, result.cause, len(fetch.calls)) == ("api_error", error, 2)
    assert str(result) == "polling the jobs of resource res-a failed after 5 s: %s" % error
    assert result.errors == {"res-a": str(error)}


def test_the_result_carries_the_fields_of_the_cause(clock):
    error = DbssApiError(403, error_code="DBSS.1", error_msg="no", request_id="rid-9")
    result, fetch = run(clock, {"res-a": [error]})
    data = result.to_result()
    assert (data["failure_kind"], data["status_code"], data["error_code"], data["request_id"]) == (
        "api_error", 403, "DBSS.1", "rid-9")


def test_retry_after_holds_back_only_its_resource(clock):
    result, fetch = run(clock, {"res-a": [Err("throttled", retry_after=12), [job("SUCCESS")]],
                                "res-b": [[job("RUNNING")]]}, sleep=5, max_sleep=5, timeout=30)
    assert fetch.polled["res-a"] == [0, 12]
    assert gaps(fetch.polled["res-b"]) == [5] * 5
    assert result.kind == "timeout" and result.unfinished == ["res-b"]


@pytest.mark.parametrize("retry_after", [95, 1000])
def test_a_retry_after_reaching_the_deadline_ends_the_wait_at_once(clock, retry_after):
    running = job("RUNNING")
    result, fetch = run(clock, {"res-a": [[running], Err("throttled", retry_after=retry_after, from_api=True)]},
                        timeout=100)
    assert (result.kind, result.resource_id, result.job, result.elapsed) == ("timeout", "res-a", running, 5)
    assert str(result) == ("the API asked to retry resource res-a after %d s, past the deadline (wait_timeout "
                           "100 s, 95 s left); last error: throttled" % retry_after)
    assert clock.sleeps == [5]


def test_an_endpoint_that_never_answers_fails_after_the_unreachable_window(clock):
    result, fetch = run(clock, {"res-a": [Err("connection refused")], "res-b": [Err("connection refused")]})
    assert result.kind == "unreachable" and result.elapsed == pytest.approx(60)
    assert gaps(fetch.polled["res-a"]) == [5, 10, 20, 25] and result.polls == 10
    assert str(result) == (
        "no answer from the DBSS API at %s after 60 s: no poll got a job list or a JSON error (the wait gives an "
        "endpoint that never answers 60 s); last error, polling resource res-a: connection refused" % ENDPOINT)
    assert result.resource_id == "res-a" and result.job is None and result.jobs == {"res-a": None, "res-b": None}


@pytest.mark.parametrize("scripts", [
    {"res-a": [[job("RUNNING")], Err("connection refused")]},
    {"res-a": [Err("HTTP 503 APIGW.0101", from_api=True), Err("connection refused")]},
    {"res-a": [Err("connection reset")], "res-b": [[job("RUNNING")]]},  # another resource's answer counts
])
def test_once_the_api_has_answered_errors_are_retried_until_the_deadline(clock, scripts):
    result, fetch = run(clock, scripts, timeout=300)
    assert result.kind == "timeout" and fetch.polled["res-a"][-1] > 250


def test_the_unreachable_window_and_the_deadline(clock):
    result, fetch = run(clock, {"res-a": [Err("connection refused")]}, timeout=30)
    assert result.kind == "timeout"
    result, fetch = run(clock, {"res-a": [Err("connection refused")]}, unreachable_timeout=0)
    assert result.kind == "unreachable" and result.polls == 1
    result, fetch = run(clock, {"res-a": [Err("connection refused", transient=False)]})
    assert result.kind == "api_error" and result.polls == 1


def test_backoff_grows_to_the_cap_across_status_changes_of_one_job(clock):
    script = [[job("INIT")]] * 2 + [[job("READY")]] + [[job("RUNNING")]] * 5 + [[job("SUCCESS")]]
    result, fetch = run(clock, {"res-a": script}, sleep=5, max_sleep=30)
    assert result.kind == "success" and clock.sleeps == [5, 10, 20, 30, 30, 30, 30, 30]


def test_a_new_job_starts_the_backoff_again(clock):
    script = [[job("RUNNING", job_id="a")]] * 3 + [[job("RUNNING", job_id="b", begin_time=1800000000000)]] * 2
    result, fetch = run(clock, {"res-a": script}, timeout=60)
    assert gaps(fetch.polled["res-a"])[:4] == [5, 10, 20, 5]
    assert changes(result.events) == [("a", None, "RUNNING"), ("b", None, "RUNNING")]


@pytest.mark.parametrize("rng, expected", [(0.0, [5, 10, 20, 30, 30]), (0.5, [4.5, 9, 18, 27, 27]),
                                           (0.999, [4.001, 8.002, 16.004, 24.006, 24.006])])
def test_each_pause_is_jittered_into_the_top_fifth_of_the_interval(clock, rng, expected):
    result, fetch = run(clock, {"res-a": [[job("RUNNING")]] * 5 + [[job("SUCCESS")]]}, rng=rng)
    assert gaps(fetch.polled["res-a"]) == expected


def test_one_failure_among_many_ends_the_wait(clock):
    fail = job("FAIL", job_id="j-c", error_code="DBSS.1", fail_reason="boom")
    scripts = {"res-a": [[job("RUNNING")]], "res-b": [[job("RUNNING")], [job("SUCCESS")]],
               "res-c": [[job("RUNNING", job_id="j-c")], [fail]], "res-d": [[job("RUNNING")]]}
    result, fetch = run(clock, scripts)
    assert (result.kind, result.resource_id, result.job, len(fetch.calls)) == ("failed", "res-c", fail, 2)
    assert result.states == {"res-a": "RUNNING", "res-b": "SUCCESS", "res-c": "FAIL", "res-d": "RUNNING"}
    assert result.unfinished == ["res-a", "res-c", "res-d"]


def test_finished_resources_are_no_longer_polled(clock):
    scripts = {"res-a": [[job("SUCCESS", job_id="ja")]],
               "res-b": [[job("RUNNING", job_id="jb")], [job("SUCCESS", job_id="jb")]],
               "res-c": [[job("INIT", job_id="jc")], [job("RUNNING", job_id="jc")], [job("SUCCESS", job_id="jc")]]}
    result, fetch = run(clock, scripts)
    assert result.kind == "success" and result.polls == 6
    assert dict((k, v["job_id"]) for k, v in result.followed.items()) == {"res-a": "ja", "res-b": "jb", "res-c": "jc"}
    assert [ids for ids, t, d in fetch.calls] == [["res-a", "res-b", "res-c"], ["res-b", "res-c"], ["res-c"]]


def test_the_first_failing_resource_in_order_is_reported_never_a_job_of_another(clock):
    error = Err("HTTP 403", transient=False, from_api=True)
    result, fetch = run(clock, {"res-a": [[job("RUNNING")]], "res-b": [error], "res-c": [[job("FAIL")]]})
    assert (result.kind, result.resource_id, result.cause) == ("api_error", "res-b", error)
    assert result.to_result()["job"] is None and result.followed["res-a"]["status"] == "RUNNING"
    assert result.states == {"res-a": "RUNNING", "res-b": None, "res-c": "FAIL"}


def test_nearby_polls_share_a_round(clock):
    scripts = dict((rid, [[job("RUNNING")]]) for rid in ("res-a", "res-b", "res-c"))
    fetch = ScriptedFetch(clock, scripts)
    draws = iter([0.0, 0.1, 1.0] * 10)  # pauses: res-a 10 s, res-b 9.8 s, res-c 8 s
    waiter = JobWaiter(WaitSpec(timeout=12, sleep=10, max_sleep=10), fetch, clock, clock.sleep, lambda: next(draws))
    with pytest.raises(WaitFailed):
        waiter.wait(["res-a", "res-b", "res-c"])
    # res-c goes alone; res-a, due 0.2 s after res-b (within min(1 s, wait_sleep / 4)), joins res-b's round
    assert [(ids, round(t - START, 6)) for ids, t, d in fetch.calls] == [
        (["res-a", "res-b", "res-c"], 0), (["res-c"], 8), (["res-a", "res-b"], 9.8)]


def test_duplicate_ids_are_polled_once_and_a_raising_fetch_propagates(clock):
    fetch = ScriptedFetch(clock, {"res-a": [[job("SUCCESS")]]})
    assert JobWaiter(WaitSpec(), fetch, clock, clock.sleep, lambda: 0.0).wait(["res-a", "res-a"]).polls == 1

    def broken(resource_ids, deadline):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        JobWaiter(WaitSpec(), broken, clock, clock.sleep, lambda: 0.0).wait(["res-a"])


def test_job_id_selects_the_job_followed(clock):
    first = [job("RUNNING", job_id="new", begin_time=2000), job("RUNNING", job_id="old", begin_time=1000)]
    then = [job("RUNNING", job_id="new", begin_time=2000), job("SUCCESS", job_id="old", begin_time=1000)]
    result, fetch = run(clock, {"res-a": [first, then]}, job_id="old")
    assert result.kind == "success" and result.followed["res-a"]["job_id"] == "old"
    result, fetch = run(clock, {"res-a": [first, then]}, timeout=30)
    assert result.kind == "timeout" and result.followed["res-a"]["job_id"] == "new"
    # a job without begin_time has not begun: it counts as the newest (fail closed)
    listing = [job("SUCCESS", job_id="old", begin_time=1000), job("INIT", job_id="not-begun", begin_time=None)]
    result, fetch = run(clock, {"res-a": [listing]}, timeout=20)
    assert result.kind == "timeout" and result.followed["res-a"]["job_id"] == "not-begun"


def test_a_job_id_matching_several_jobs_fails_naming_the_ambiguity(clock):
    twins = [job("SUCCESS", job_id="j1"), job("FAIL", job_id="j1")]
    result, fetch = run(clock, {"res-a": [[job("RUNNING", job_id="j1")], twins]}, job_id="j1")
    assert (result.kind, result.resource_id, result.states) == ("api_error", "res-a", {"res-a": "RUNNING"})
    assert isinstance(result.cause, AmbiguousJob)
    assert str(result) == "job_id j1 matches 2 jobs of resource res-a after 5 s, so which one to follow is ambiguous"


def test_to_result_of_a_success(clock):
    events = []
    result, fetch = run(clock, {"res-a": [Err("busy"), [job("RUNNING")], [job("SUCCESS")]]}, events=events)
    assert result.to_result() == {
        "elapsed": 10.0, "polls": 3, "states": {"res-a": "SUCCESS"},
        "events": [{"resource_id": "res-a", "job_id": "job-1", "previous_status": None, "status": "RUNNING",
                    "elapsed": 5}, {"resource_id": "res-a", "job_id": "job-1", "previous_status": "RUNNING",
                                    "status": "SUCCESS", "elapsed": 10}]}
    changes_and_errors = [e for e in events if "event" not in e]
    assert changes_and_errors[0] == {"resource_id": "res-a", "error": "busy", "elapsed": 0}
    assert changes_and_errors[1:] == [dict(result.events[0], first=True), result.events[1]]


# -- progress for a log: start, a first summary, heartbeats --------------------------

def progress(events):
    return [(e["event"], e["elapsed"], e.get("counts")) for e in events if "event" in e]


def test_progress_starts_sums_up_the_first_round_and_beats_while_nothing_changes(clock):
    events = []
    running = [[job("RUNNING")]] * 40
    result, fetch = run(clock, {"a": [[job("INIT", job_id="ja")]] + running + [[job("SUCCESS", job_id="ja")]],
                                "b": [Err("busy")] + [[]] * 60 + [[job("SUCCESS", job_id="jb")]]},
                        events=events, max_sleep=20.0, sleep=5.0, not_found_timeout=1000.0)
    seen = progress(events)
    assert seen[0] == ("start", 0.0, None) and events[0]["resources"] == 2 and events[0]["timeout"] == 1800.0
    assert seen[1] == ("progress", 0, {"INIT": 1, NO_ANSWER: 1})
    beats = [elapsed for kind, elapsed, _counts in seen[2:]]
    # Never more than HEARTBEAT seconds without a line: a state change or a heartbeat.
    lines = sorted(beats + [e["elapsed"] for e in events if "status" in e and not e.get("first")])
    assert all(later - earlier <= HEARTBEAT for earlier, later in zip([0] + lines, lines + [result.elapsed]))
    assert any(counts == {"RUNNING": 1, NO_JOB: 1} for _kind, _elapsed, counts in seen[2:])
    assert "event" not in str(result.events)


def test_a_state_change_is_news_the_heartbeat_waits_after_it(clock):
    events = []
    run(clock, {"a": [[job("INIT")], [job("RUNNING")]] + [[job("RUNNING")]] * 20 + [[job("SUCCESS")]]},
        events=events, sleep=10.0, max_sleep=10.0)
    changed = [e["elapsed"] for e in events if e.get("previous_status") == "INIT"][0]
    beats = [e["elapsed"] for e in events if e.get("event") == "progress"][1:]
    assert beats and beats[0] >= changed + HEARTBEAT


def test_to_result_of_a_failure(clock):
    fail = job("FAIL", fail_reason="disk full")
    result, fetch = run(clock, {"res-a": [[fail]], "res-b": [Err("reset", from_api=True)]})
    assert result.to_result() == {
        "elapsed": 0.0, "polls": 2, "states": {"res-a": "FAIL", "res-b": None},
        "events": [{"resource_id": "res-a", "job_id": "job-1", "previous_status": None, "status": "FAIL",
                    "elapsed": 0}],
        "failure_kind": "failed", "unfinished": ["res-a", "res-b"], "errors": {"res-b": "reset"},
        "resource_id": "res-a", "job": fail}


def test_a_poll_cut_by_the_deadline_keeps_the_cause_seen_before(clock):
    cause = Err("HTTP 503 APIGW.0201: busy", from_api=True)
    cut = Err("no complete answer within 0.003 s (timeout)")

    def poll_at_the_deadline():
        clock.advance(10.0)  # this poll runs past the deadline, and is cut by it
        return cut

    fetch = ScriptedFetch(clock, {"res-a": [cause]})
    answers = iter([cause, cause])

    def script(resource_ids, deadline):
        result = fetch(resource_ids, deadline)
        try:
            return dict(result, **{"res-a": next(answers)})
        except StopIteration:
            return {"res-a": poll_at_the_deadline()}

    waiter = JobWaiter(WaitSpec(timeout=8.0, sleep=2.0, max_sleep=2.0), script, clock=clock, sleep=clock.sleep,
                       rng=lambda: 0.0)
    with pytest.raises(WaitFailed) as caught:
        waiter.wait(["res-a"])
    assert caught.value.kind == "timeout"
    assert "APIGW.0201" in caught.value.errors["res-a"] and "0.003 s" not in str(caught.value)


def test_a_long_round_still_beats_within_the_heartbeat(clock):
    """200 resources at one request a second (the rate limit): a round takes 200 s, yet no
    silence lasts much over the heartbeat (a part of 40 in flight finishes first)."""
    events, polls = [], {}

    def fetch(resource_ids, deadline):
        answers = {}
        for rid in resource_ids:
            clock.advance(1.0)
            polls[rid] = polls.get(rid, 0) + 1
            answers[rid] = [job("SUCCESS" if polls[rid] > 2 else "RUNNING", job_id="j-" + rid)]
        return answers

    waiter = JobWaiter(WaitSpec(), fetch, clock=clock, sleep=clock.sleep, rng=lambda: 0.0, on_event=events.append)
    waiter.wait(["r%03d" % n for n in range(200)])
    lines = [e["elapsed"] for e in events if "event" in e or ("status" in e and not e.get("first"))]
    assert max(b - a for a, b in zip(lines, lines[1:])) <= 30.0 + 40.0
    assert len([e for e in events if e.get("event") == "progress"]) >= 10
