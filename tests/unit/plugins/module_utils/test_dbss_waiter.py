# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import (
    DbssApiError, DbssConfigError, DbssError, DbssTransportError,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_waiter import (
    JobWaiter, WaitFailed, WaitOutcome, WaitSpec, followed_job, format_seconds, newest_job,
)

START = 1000.0
EPS = 1e-9


class FakeClock:
    def __init__(self, start=START):
        self.now = start
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0, "negative sleep %r" % seconds
        self.sleeps.append(seconds)
        self.now += seconds


def job(status, job_id="job-1", begin_time=1700000000000, **extra):
    bean = {"job_id": job_id, "status": status, "begin_time": begin_time, "resource_id": "res-a",
            "error_code": None, "fail_reason": None}
    bean.update(extra)
    return bean


class ScriptedFetch:
    """Answers per resource from a script; the last entry repeats.

    An entry is a list of jobs, an exception instance, or a callable(now) returning either.
    """

    def __init__(self, clock, scripts, cost=0.0):
        self.clock = clock
        self.scripts = dict((rid, list(entries)) for rid, entries in scripts.items())
        self.calls = []
        self.polled = {}
        self.cost = cost

    def __call__(self, resource_ids, deadline):
        self.calls.append((list(resource_ids), self.clock(), deadline))
        out = {}
        for rid in resource_ids:
            self.polled.setdefault(rid, []).append(self.clock())
            entries = self.scripts[rid]
            entry = entries.pop(0) if len(entries) > 1 else entries[0]
            if callable(entry):
                entry = entry(self.clock())
            out[rid] = entry
        self.clock.now += self.cost
        return out


def run(scripts, rng=1.0, events=None, cost=0.0, resources=None, **spec_kwargs):
    clock = FakeClock()
    fetch = ScriptedFetch(clock, scripts, cost=cost)
    spec = WaitSpec(**spec_kwargs).validate()
    waiter = JobWaiter(spec, fetch, clock=clock, sleep=clock.sleep, rng=lambda: rng,
                       on_event=None if events is None else events.append)
    ids = resources if resources is not None else list(scripts)
    try:
        result = waiter.wait(ids)
    except WaitFailed as failure:
        result = failure
    if not cost:
        # invariant of every scenario: the waiter never sleeps past its deadline
        assert clock() <= START + spec.timeout + EPS
    return result, clock, fetch


def gaps(times):
    return [round(b - a, 6) for a, b in zip(times, times[1:])]


# --- verdicts --------------------------------------------------------------

def test_success_after_pending():
    result, clock, fetch = run({"res-a": [[job("INIT")], [job("RUNNING")], [job("RUNNING")], [job("SUCCESS")]]})
    assert isinstance(result, WaitOutcome)
    assert result.kind == "success"
    assert result.polls == 4
    assert len(fetch.calls) == 4
    assert result.jobs["res-a"]["status"] == "SUCCESS"
    assert result.states == {"res-a": "SUCCESS"}
    assert result.elapsed == pytest.approx(clock() - START)
    assert result.report()["kind"] == "success"


def test_fail_fast_exactly_one_poll_after_failure_appears():
    fail = job("FAIL", job_id="8abf", error_code="DBSS.10020200", fail_reason="Failed to create the ECS")
    result, clock, fetch = run({"res-a": [[job("RUNNING", job_id="8abf")], [job("RUNNING", job_id="8abf")], [fail],
                                          [job("SUCCESS", job_id="8abf")]]})
    assert isinstance(result, WaitFailed)
    assert result.kind == "failed"
    assert len(fetch.calls) == 3
    assert result.polls == 3
    assert result.resource_id == "res-a"
    assert result.job is fail
    assert result.jobs == {"res-a": fail}
    msg = str(result)
    assert msg.startswith("DBSS job 8abf of resource res-a ended in FAIL after ")
    assert msg.endswith(": DBSS.10020200 Failed to create the ECS")
    assert result.to_result()["job"] is fail


def test_failure_without_reason_still_explains():
    result, clock, fetch = run({"res-a": [[job("FAIL")]]})
    assert result.kind == "failed"
    assert "no error_code or fail_reason" in str(result)


@pytest.mark.parametrize("status", ["PAUSED", "success", "", None, 3])
def test_unexpected_state_fails_at_once(status):
    result, clock, fetch = run({"res-a": [[job("RUNNING")], [job(status)], [job("SUCCESS")]]})
    assert isinstance(result, WaitFailed)
    assert result.kind == "unexpected_state"
    assert len(fetch.calls) == 2
    assert repr(status) in str(result)
    assert "target_states [SUCCESS], pending_states [INIT, READY, RUNNING], failure_states [FAIL]" in str(result)


def test_custom_lists_make_a_state_unexpected():
    result, clock, fetch = run({"res-a": [[job("READY")]]}, pending_states=["INIT", "RUNNING"])
    assert result.kind == "unexpected_state"
    assert "pending_states [INIT, RUNNING]" in str(result)


def test_custom_target_running():
    result, clock, fetch = run({"res-a": [[job("INIT")], [job("RUNNING")]]},
                               target_states=["RUNNING", "SUCCESS"], pending_states=["INIT", "READY"])
    assert result.kind == "success"
    assert result.states == {"res-a": "RUNNING"}


def test_deadline_names_last_state_and_never_oversleeps():
    result, clock, fetch = run({"res-a": [[job("INIT")], [job("RUNNING")]]}, timeout=100)
    assert isinstance(result, WaitFailed)
    assert result.kind == "timeout"
    assert str(result) == "timed out after 100 s waiting for SUCCESS; unfinished: res-a (RUNNING)"
    assert result.elapsed <= 100 + EPS
    assert result.elapsed == pytest.approx(100)
    assert clock() <= START + 100 + EPS
    assert all(t < START + 100 for ids, t, deadline in fetch.calls)
    assert all(deadline == START + 100 for ids, t, deadline in fetch.calls)
    assert result.unfinished == ["res-a"]
    assert result.states == {"res-a": "RUNNING"}


def test_no_fetch_starts_after_the_deadline_even_with_slow_fetches():
    result, clock, fetch = run({"res-a": [[job("RUNNING")]]}, timeout=60, sleep=1, max_sleep=1, cost=7.0)
    assert result.kind == "timeout"
    assert all(t < START + 60 for ids, t, deadline in fetch.calls)
    # the fetch that started before the deadline was allowed to finish
    assert clock() > START + 60


def test_success_seen_by_a_fetch_that_ends_after_the_deadline_counts():
    result, clock, fetch = run({"res-a": [[job("RUNNING")], [job("SUCCESS")]]}, timeout=10, sleep=5, max_sleep=5,
                               cost=4.0)
    # polls at 0 (ends 4), 9 (ends 13 > deadline 10) and sees SUCCESS
    assert result.kind == "success"
    assert len(fetch.calls) == 2


def test_timeout_lists_at_most_twenty_and_describes_each():
    scripts = dict(("res-%02d" % i, [[job("RUNNING")]]) for i in range(25))
    scripts["res-00"] = [[]]
    scripts["res-01"] = [DbssApiError(503, error_code="APIGW.0101", error_msg="busy", request_id="r1")]
    result, clock, fetch = run(scripts, timeout=30, not_found_timeout=60)
    msg = str(result)
    assert msg.startswith("timed out after 30 s waiting for SUCCESS; unfinished: res-00 (no job yet), "
                          "res-01 (no answer yet; last poll failed: HTTP 503 APIGW.0101: busy (request id: r1)), "
                          "res-02 (RUNNING)")
    assert msg.endswith("res-19 (RUNNING) and 5 more")
    assert "res-20" not in msg
    assert len(result.unfinished) == 25
    assert result.errors["res-01"].startswith("HTTP 503")


def test_timeout_with_several_target_states():
    result, clock, fetch = run({"res-a": [[job("RUNNING")]]}, timeout=20,
                               target_states=["FAIL", "SUCCESS"], failure_states=[])
    assert "waiting for SUCCESS or FAIL;" in str(result)


# --- not found ---------------------------------------------------------------

def test_not_found_then_found():
    events = []
    result, clock, fetch = run({"res-a": [[], [], [job("RUNNING")], [job("SUCCESS")]]}, events=events)
    assert result.kind == "success"
    assert len(fetch.calls) == 4
    # no event for "still no job", one per real transition
    assert [(e["previous_status"], e["status"]) for e in events] == [(None, "RUNNING"), ("RUNNING", "SUCCESS")]


def test_not_found_past_tolerance():
    result, clock, fetch = run({"res-a": [[]]}, not_found_timeout=60)
    assert isinstance(result, WaitFailed)
    assert result.kind == "not_found"
    # polled at 0, 5, 15, 35, then exactly when the tolerance ends
    assert gaps(fetch.polled["res-a"]) == [5, 10, 20, 25]
    assert result.elapsed == pytest.approx(60)
    assert str(result) == "resource res-a has no DBSS job after 60 s (wait_not_found_timeout is 60 s)"
    assert result.job is None


def test_not_found_timeout_zero_fails_on_first_empty_poll():
    result, clock, fetch = run({"res-a": [[]]}, not_found_timeout=0)
    assert result.kind == "not_found"
    assert len(fetch.calls) == 1


def test_not_found_tolerance_counts_from_wait_start_including_delay():
    result, clock, fetch = run({"res-a": [[], [job("SUCCESS")]]}, delay=30, not_found_timeout=20)
    assert result.kind == "not_found"
    assert len(fetch.calls) == 1


def test_job_disappears_mid_wait():
    events = []
    result, clock, fetch = run({"res-a": [[job("RUNNING")], [job("RUNNING")], []]}, events=events,
                               not_found_timeout=60)
    assert result.kind == "not_found"
    polls = fetch.polled["res-a"]
    gone_at = polls[2]
    # tolerance restarts when the job disappears
    assert result.elapsed == pytest.approx(gone_at - START + 60)
    assert events[-1]["status"] is None and events[-1]["previous_status"] == "RUNNING"
    assert result.states == {"res-a": None}


def test_disappeared_job_in_timeout_message():
    result, clock, fetch = run({"res-a": [[job("RUNNING")], []]}, timeout=30, not_found_timeout=600)
    assert "res-a (job disappeared)" in str(result)


def test_job_id_not_found_message():
    result, clock, fetch = run({"res-a": [[job("RUNNING", job_id="other")]]}, job_id="wanted", not_found_timeout=0)
    assert result.kind == "not_found"
    assert "job wanted was not found among the jobs of resource res-a" in str(result)


# --- errors ------------------------------------------------------------------

def test_transient_errors_then_success():
    events = []
    result, clock, fetch = run({"res-a": [DbssApiError(503, error_msg="busy"), DbssTransportError("connection reset"),
                                          DbssApiError(500), [job("SUCCESS")]]}, events=events)
    assert result.kind == "success"
    assert len(fetch.calls) == 4
    errors = [e for e in events if "error" in e]
    assert len(errors) == 3
    assert errors[1]["error"] == "connection reset"
    assert set(errors[0]) == {"resource_id", "error", "elapsed"}
    assert result.errors == {}


def test_transient_errors_back_off():
    result, clock, fetch = run({"res-a": [[job("RUNNING")], DbssTransportError("reset")]}, timeout=200)
    assert result.kind == "timeout"
    assert gaps(fetch.polled["res-a"])[:4] == [5, 10, 20, 30]
    assert "res-a (RUNNING; last poll failed: reset)" in str(result)


@pytest.mark.parametrize("error", [
    DbssApiError(403, error_code="DBSS.10000001", error_msg="forbidden"),
    DbssApiError(400), DbssApiError(401), DbssApiError(404),
    DbssTransportError("certificate verify failed", transient=False),
    DbssConfigError("region", "unknown"),
    DbssError("something"),
    ValueError("bug"),
])
def test_permanent_error_ends_at_once(error):
    result, clock, fetch = run({"res-a": [[job("RUNNING")], error, [job("SUCCESS")]]})
    assert isinstance(result, WaitFailed)
    assert result.kind == "api_error"
    assert result.cause is error
    assert len(fetch.calls) == 2
    assert str(result).startswith("polling the jobs of resource res-a failed after 5 s: ")
    assert str(error) in str(result)


def test_api_error_result_carries_cause_fields():
    error = DbssApiError(403, error_code="DBSS.1", error_msg="no", request_id="rid-9")
    result, clock, fetch = run({"res-a": [error]})
    data = result.to_result()
    assert data["kind"] == "api_error"
    assert data["status_code"] == 403
    assert data["request_id"] == "rid-9"


def test_retry_after_honoured():
    error = DbssApiError(429, error_code="APIGW.0308", retry_after=40)
    result, clock, fetch = run({"res-a": [[job("RUNNING")], error, [job("SUCCESS")]]}, sleep=5, max_sleep=30)
    assert result.kind == "success"
    polls = fetch.polled["res-a"]
    assert polls[2] >= polls[1] + 40 - EPS


def test_retry_after_of_one_resource_does_not_pull_it_into_another_round():
    error = DbssApiError(429, retry_after=12)
    result, clock, fetch = run({"res-a": [error, [job("SUCCESS")]], "res-b": [[job("RUNNING")]]},
                               sleep=5, max_sleep=5, timeout=30)
    polls = fetch.polled["res-a"]
    assert polls[1] - polls[0] >= 12 - EPS
    assert result.kind == "timeout"
    assert result.unfinished == ["res-b"]


def test_missing_answer_is_retried_and_bad_answer_fails():
    def no_answer(resource_ids, deadline):
        return {}

    clock = FakeClock()
    waiter = JobWaiter(WaitSpec(timeout=20), no_answer, clock=clock, sleep=clock.sleep, rng=lambda: 1.0)
    with pytest.raises(WaitFailed) as excinfo:
        waiter.wait(["res-a"])
    assert excinfo.value.kind == "timeout"
    assert "no answer for this resource" in str(excinfo.value)

    result, clock, fetch = run({"res-a": [{"jobs": []}]})
    assert result.kind == "api_error"
    assert "instead of a list of jobs" in str(result)


def test_fetch_raising_propagates():
    def broken(resource_ids, deadline):
        raise RuntimeError("boom")

    clock = FakeClock()
    waiter = JobWaiter(WaitSpec(), broken, clock=clock, sleep=clock.sleep, rng=lambda: 0.5)
    with pytest.raises(RuntimeError):
        waiter.wait(["res-a"])


# --- backoff -----------------------------------------------------------------

def test_backoff_grows_caps_and_keeps_growing_across_status_changes():
    script = [[job("INIT")]] * 2 + [[job("READY")]] + [[job("RUNNING")]] * 5 + [[job("SUCCESS")]]
    result, clock, fetch = run({"res-a": script}, sleep=5, max_sleep=30, rng=1.0)
    assert result.kind == "success"
    # INIT -> READY -> RUNNING of the same job does not start the backoff again.
    assert gaps(fetch.polled["res-a"]) == [5, 10, 20, 30, 30, 30, 30, 30]
    assert clock.sleeps == [5, 10, 20, 30, 30, 30, 30, 30]


def test_backoff_reset_on_new_job_with_same_status():
    script = [[job("RUNNING", job_id="a")]] * 3 + [[job("RUNNING", job_id="b", begin_time=1800000000000)]] * 2
    result, clock, fetch = run({"res-a": script}, timeout=60, rng=1.0)
    assert gaps(fetch.polled["res-a"])[:4] == [5, 10, 20, 5]


@pytest.mark.parametrize("rng, expected", [
    (0.0, [4, 8, 16, 24, 24, 24]),
    (0.5, [4.5, 9, 18, 27, 27, 27]),
    (7.0, [5, 10, 20, 30, 30, 30]),      # out-of-range rng values are clamped
    (-3.0, [4, 8, 16, 24, 24, 24]),
])
def test_jitter_keeps_pauses_between_80_percent_and_all_of_interval(rng, expected):
    result, clock, fetch = run({"res-a": [[job("RUNNING")]] * 6 + [[job("SUCCESS")]]}, rng=rng)
    assert gaps(fetch.polled["res-a"]) == expected


def test_delay_before_first_poll():
    result, clock, fetch = run({"res-a": [[job("SUCCESS")]]}, delay=10)
    assert clock.sleeps == [10]
    assert fetch.calls[0][1] == START + 10
    assert result.elapsed == pytest.approx(10)


@pytest.mark.parametrize("delay", [50, 100])
def test_a_delay_as_long_as_the_timeout_is_refused(delay):
    # The whole wait would pass before the first poll.
    with pytest.raises(DbssConfigError) as caught:
        WaitSpec(delay=delay, timeout=50).validate()
    assert str(caught.value) == "wait_delay: must be shorter than wait_timeout (50 s); got %d s" % delay


# --- several resources ---------------------------------------------------------

def test_one_failure_among_many_ends_the_wait():
    fail = job("FAIL", job_id="j-c", error_code="DBSS.1", fail_reason="boom")
    scripts = {
        "res-a": [[job("RUNNING")]],
        "res-b": [[job("RUNNING")], [job("SUCCESS")]],
        "res-c": [[job("RUNNING", job_id="j-c")], [fail]],
        "res-d": [[job("RUNNING")]],
    }
    result, clock, fetch = run(scripts, rng=1.0)
    assert result.kind == "failed"
    assert result.resource_id == "res-c"
    assert len(fetch.calls) == 2
    assert result.states == {"res-a": "RUNNING", "res-b": "SUCCESS", "res-c": "FAIL", "res-d": "RUNNING"}
    assert "DBSS job j-c of resource res-c ended in FAIL" in str(result)


def test_all_success_returns_all_jobs_and_stops_polling_finished_ones():
    scripts = {
        "res-a": [[job("SUCCESS", job_id="ja")]],
        "res-b": [[job("RUNNING", job_id="jb")], [job("SUCCESS", job_id="jb")]],
        "res-c": [[job("INIT", job_id="jc")], [job("RUNNING", job_id="jc")], [job("SUCCESS", job_id="jc")]],
    }
    result, clock, fetch = run(scripts, rng=1.0)
    assert result.kind == "success"
    assert dict((k, v["job_id"]) for k, v in result.jobs.items()) == {"res-a": "ja", "res-b": "jb", "res-c": "jc"}
    assert [ids for ids, t, d in fetch.calls] == [["res-a", "res-b", "res-c"], ["res-b", "res-c"], ["res-c"]]
    assert result.polls == 6


def test_first_failing_resource_in_order_is_reported():
    scripts = {"res-a": [DbssApiError(403)], "res-b": [[job("FAIL")]]}
    result, clock, fetch = run(scripts)
    assert result.resource_id == "res-a"
    assert result.kind == "api_error"
    assert result.states["res-b"] == "FAIL"


def test_duplicate_ids_polled_once_and_string_accepted():
    clock = FakeClock()
    fetch = ScriptedFetch(clock, {"res-a": [[job("SUCCESS")]]})
    waiter = JobWaiter(WaitSpec(), fetch, clock=clock, sleep=clock.sleep, rng=lambda: 1.0)
    assert waiter.wait(["res-a", "res-a"]).polls == 1
    assert waiter.wait("res-a").polls == 1
    with pytest.raises(DbssConfigError):
        waiter.wait([])


def test_nearby_polls_share_a_round():
    clock = FakeClock()
    fetch = ScriptedFetch(clock, {"res-a": [[job("RUNNING")]], "res-b": [[job("RUNNING")]], "res-c": [[job("RUNNING")]]})
    draws = iter([1.0, 0.9, 0.0] * 100)
    waiter = JobWaiter(WaitSpec(timeout=12, sleep=10, max_sleep=10), fetch, clock=clock, sleep=clock.sleep,
                       rng=lambda: next(draws))
    with pytest.raises(WaitFailed):
        waiter.wait(["res-a", "res-b", "res-c"])
    # pauses: res-a 10 s, res-b 9.8 s, res-c 8 s. res-c goes alone; res-a, due 0.2 s after res-b
    # (within min(1 s, sleep/4)), joins res-b's round.
    assert [ids for ids, t, d in fetch.calls[:3]] == [["res-a", "res-b", "res-c"], ["res-c"], ["res-a", "res-b"]]
    assert fetch.calls[2][1] == pytest.approx(START + 9.8)


# --- job selection -----------------------------------------------------------------

def test_job_id_following():
    jobs_v1 = [job("RUNNING", job_id="new", begin_time=2000), job("RUNNING", job_id="old", begin_time=1000)]
    jobs_v2 = [job("RUNNING", job_id="new", begin_time=2000), job("SUCCESS", job_id="old", begin_time=1000)]
    result, clock, fetch = run({"res-a": [jobs_v1, jobs_v2]}, job_id="old")
    assert result.kind == "success"
    assert result.jobs["res-a"]["job_id"] == "old"
    result, clock, fetch = run({"res-a": [jobs_v1, jobs_v2]}, timeout=30)
    assert result.kind == "timeout"
    assert result.jobs["res-a"]["job_id"] == "new"


def test_newest_job_ranking():
    a = {"job_id": "a", "begin_time": None}
    b = {"job_id": "b", "begin_time": 100}
    c = {"job_id": "c", "begin_time": 300}
    d = {"job_id": "d", "begin_time": 300}
    e = {"job_id": "e"}
    f = {"job_id": "f", "begin_time": "200"}
    assert newest_job([a, b, c, d]) is c          # ties keep API order
    assert newest_job([d, c]) is d
    assert newest_job([a, b]) is b                # null ranks oldest
    assert newest_job([b, a]) is b
    assert newest_job([a, e]) is a                # all without begin_time: first
    assert newest_job([b, f]) is f                # numeric strings count
    assert newest_job([{"begin_time": "soon"}, b]) is b
    assert newest_job([{"begin_time": True}, b]) is b
    assert newest_job([]) is None
    assert newest_job(None) is None
    assert newest_job(["junk", None, b]) is b


def test_followed_job():
    jobs = [{"job_id": "x", "begin_time": 1}, {"job_id": "y", "begin_time": 2}, {"job_id": 7, "begin_time": 0}]
    assert followed_job(jobs)["job_id"] == "y"
    assert followed_job(jobs, "x")["job_id"] == "x"
    assert followed_job(jobs, "7")["job_id"] == 7
    assert followed_job(jobs, "zz") is None


# --- events --------------------------------------------------------------------------

def test_on_event_transitions_emitted_once_each():
    events = []
    script = [[job("INIT")], [job("INIT")], [job("RUNNING")], [job("RUNNING")], [job("RUNNING")], [job("SUCCESS")]]
    result, clock, fetch = run({"res-a": script}, events=events)
    assert result.kind == "success"
    assert [(e["previous_status"], e["status"]) for e in events] == [
        (None, "INIT"), ("INIT", "RUNNING"), ("RUNNING", "SUCCESS")]
    assert all(set(e) == {"resource_id", "job_id", "previous_status", "status", "elapsed"} for e in events)
    assert [e["elapsed"] for e in events] == sorted(e["elapsed"] for e in events)
    assert events[0]["elapsed"] == 0


# --- spec validation ------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, option, words", [
    ({"sleep": 0}, "wait_sleep", "greater than zero"),
    ({"sleep": -1}, "wait_sleep", "greater than zero"),
    ({"sleep": 40, "max_sleep": 30}, "wait_sleep", "must not exceed wait_max_sleep"),
    ({"max_sleep": 0}, "wait_max_sleep", "greater than zero"),
    ({"timeout": 0}, "wait_timeout", "greater than zero"),
    ({"timeout": -5}, "wait_timeout", "greater than zero"),
    ({"timeout": "30"}, "wait_timeout", "finite number"),
    ({"timeout": float("inf")}, "wait_timeout", "finite number"),
    ({"timeout": True}, "wait_timeout", "finite number"),
    ({"not_found_timeout": -1}, "wait_not_found_timeout", "negative"),
    ({"delay": -1}, "wait_delay", "negative"),
    ({"delay": float("nan")}, "wait_delay", "finite number"),
    ({"target_states": ["DONE"]}, "target_states", "not a DBSS job state"),
    ({"target_states": "SUCCESS"}, "target_states", "must be a list"),
    ({"target_states": []}, "target_states", "at least one"),
    ({"pending_states": ["success"]}, "pending_states", "not a DBSS job state"),
    ({"failure_states": ["FAILED"]}, "failure_states", "not a DBSS job state"),
    ({"failure_states": None}, "failure_states", "must be a list"),
    ({"pending_states": ["RUNNING", "SUCCESS"]}, "pending_states", "target_states; both name SUCCESS"),
    ({"failure_states": ["FAIL", "SUCCESS"]}, "failure_states", "target_states"),
    ({"failure_states": ["FAIL", "RUNNING"]}, "failure_states", "pending_states; both name RUNNING"),
    ({"job_id": ""}, "job_id", "non-empty"),
    ({"job_id": 5}, "job_id", "non-empty"),
])
def test_spec_validate_rules(kwargs, option, words):
    with pytest.raises(DbssConfigError) as excinfo:
        WaitSpec(**kwargs).validate()
    assert excinfo.value.option == option
    assert words in excinfo.value.rule


@pytest.mark.parametrize("kwargs", [
    {},
    {"sleep": 30, "max_sleep": 30},
    {"delay": 0, "not_found_timeout": 0},
    {"pending_states": [], "failure_states": []},
    {"target_states": ("SUCCESS", "FAIL"), "failure_states": ()},
    {"job_id": "8abf"},
])
def test_spec_validate_accepts(kwargs):
    spec = WaitSpec(**kwargs)
    assert spec.validate() is spec
    assert "WaitSpec(" in repr(spec)


def test_format_seconds():
    assert format_seconds(1800.0) == "1800 s"
    assert format_seconds(42.1) == "42.1 s"
    assert format_seconds(0) == "0 s"


def test_waiter_refuses_an_invalid_spec():
    clock = FakeClock()
    with pytest.raises(DbssConfigError) as excinfo:
        JobWaiter(WaitSpec(sleep=0), lambda ids, deadline: {}, clock=clock, sleep=clock.sleep, rng=lambda: 0.5)
    assert excinfo.value.option == "wait_sleep"
