# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs import (
    JOB_FIELDS, AmbiguousJob, ChangeTracker, MalformedJobs, begin_time, followed_job, jobs_from_body, newest_job,
    normalise_job,
)


def test_normalise_job_fills_every_documented_field_and_keeps_extra_ones():
    job = normalise_job({"job_id": "j1", "status": "RUNNING", "vendor_extension": {"a": 1}})
    assert list(job)[:len(JOB_FIELDS)] == list(JOB_FIELDS) and len(JOB_FIELDS) == 13
    assert job["job_id"] == "j1" and job["fail_reason"] is None and job["vendor_extension"] == {"a": 1}


@pytest.mark.parametrize("body", [{}, {"jobs": None}, {"jobs": []}, {"jobs": None, "total": 0}])
def test_an_answer_without_jobs_lists_none(body):
    assert jobs_from_body(body, "res-a") == []


def test_jobs_of_the_resource_asked_about_are_kept_normalised():
    jobs = jobs_from_body({"jobs": [{"job_id": "j1", "resource_id": "res-a"}, {"job_id": "j2"},
                                    {"job_id": "j3", "resource_id": None}]}, "res-a")
    assert [job["job_id"] for job in jobs] == ["j1", "j2", "j3"] and all(len(job) == 13 for job in jobs)


@pytest.mark.parametrize("body, words", [
    ([], "not a JSON object"),
    ("jobs", "not a JSON object"),
    ({"jobs": {"job_id": "j1"}}, "'jobs' is not a list"),
    ({"jobs": "j1"}, "'jobs' is not a list"),
    ({"jobs": [{"job_id": "j1"}, None]}, "entry that is not an object"),
    ({"jobs": [["j1"]]}, "entry that is not an object"),
    ({"jobs": [{"job_id": "j1", "resource_id": "res-a"}, {"job_id": "j9", "resource_id": "res-b"}]},
     "job j9 of another resource (res-b), not of res-a"),
])
def test_a_malformed_answer_is_refused_saying_why(body, words):
    with pytest.raises(MalformedJobs) as caught:
        jobs_from_body(body, "res-a")
    assert words in str(caught.value)


@pytest.mark.parametrize("value, expected", [
    (1671519371000, 1671519371000), (1.5, 1.5), (" 200 ", 200.0), ("1e3", 1000.0), (0, 0),
    (None, None), (True, None), (False, None), ("soon", None), ("", None), (float("nan"), None),
    (float("inf"), None), ("nan", None), ([1], None), ({"t": 1}, None),
])
def test_begin_time_is_a_number_or_none(value, expected):
    assert begin_time({"begin_time": value}) == expected
    assert begin_time({}) is None


def test_the_newest_job_is_the_latest_begun_and_a_job_not_begun_is_newer_still():
    a, b, c, d = ({"job_id": "a", "begin_time": 100}, {"job_id": "b", "begin_time": 300},
                  {"job_id": "c", "begin_time": 300}, {"job_id": "d", "begin_time": "200"})
    not_begun, unusable, missing = {"job_id": "n", "begin_time": None}, {"job_id": "u", "begin_time": "soon"}, {"job_id": "m"}
    assert newest_job([a, b, c]) is b and newest_job([c, b]) is c      # ties keep the API's order
    assert newest_job([a, d]) is d                                       # numeric strings count
    assert newest_job([a, not_begun, b]) is not_begun                    # fail closed
    assert newest_job([b, unusable]) is unusable and newest_job([missing, b]) is missing
    assert newest_job([not_begun, missing]) is not_begun                 # all not begun: the first
    assert newest_job([]) is None and newest_job(None) is None


def test_followed_job_by_id_or_the_newest():
    jobs = [{"job_id": "x", "begin_time": 1}, {"job_id": "y", "begin_time": 2}, {"job_id": 7, "begin_time": 0},
            {"job_id": None, "begin_time": 0}]
    assert followed_job(jobs)["job_id"] == "y"
    assert followed_job(jobs, "x")["job_id"] == "x" and followed_job(jobs, "7")["job_id"] == 7
    assert followed_job(jobs, "zz") is None and followed_job(jobs, "None") is None and followed_job([], "x") is None


def test_a_job_id_carried_by_several_jobs_is_ambiguous():
    with pytest.raises(AmbiguousJob) as caught:
        followed_job([{"job_id": "x", "status": "SUCCESS"}, {"job_id": "y"}, {"job_id": "x", "status": "FAIL"}], "x")
    assert (caught.value.job_id, caught.value.count) == ("x", 2)
    assert str(caught.value) == "job_id x matches 2 jobs, so which one to follow is ambiguous"


# --- ChangeTracker -------------------------------------------------------------------------------

def job(status, job_id="j1"):
    return {"job_id": job_id, "status": status}


def event(job_id, previous, status, elapsed=None, resource_id="res-a"):
    return {"resource_id": resource_id, "job_id": job_id, "previous_status": previous, "status": status,
            "elapsed": elapsed}


def test_change_tracker_says_each_change_of_the_followed_job_once():
    tracker = ChangeTracker()
    seen = [tracker.observe("res-a", observed, elapsed) for elapsed, observed in enumerate(
        [None, job("INIT"), job("INIT"), job("RUNNING"), job("RUNNING", "j2"), None, None, job("SUCCESS", "j2")])]
    assert seen == [None, event("j1", None, "INIT", 1), None, event("j1", "INIT", "RUNNING", 3),
                    event("j2", None, "RUNNING", 4),          # another job: no previous status of its own
                    event("j2", "RUNNING", None, 5),          # it disappeared
                    None, event("j2", None, "SUCCESS", 7)]    # it is back


def test_change_tracker_keeps_resources_apart():
    tracker = ChangeTracker()
    assert tracker.observe("res-a", job("RUNNING")) == event("j1", None, "RUNNING")
    assert tracker.observe("res-b", job("RUNNING")) == event("j1", None, "RUNNING", resource_id="res-b")
    assert tracker.observe("res-a", job("SUCCESS")) == event("j1", "RUNNING", "SUCCESS")
    assert tracker.observe("res-b", job("RUNNING")) is None


def test_change_tracker_baseline_makes_the_first_observation_silent():
    tracker = ChangeTracker(baseline=True)
    assert tracker.observe("res-a", job("RUNNING")) is None and tracker.observe("res-b", None) is None
    assert tracker.observe("res-a", job("SUCCESS")) == event("j1", "RUNNING", "SUCCESS")
    assert tracker.observe("res-b", job("INIT", "j5")) == event("j5", None, "INIT", resource_id="res-b")


def test_change_tracker_forget_makes_the_next_observation_a_first_one():
    tracker = ChangeTracker(baseline=True)
    assert tracker.observe(("res-a", "j1"), job("RUNNING")) is None
    tracker.forget(("res-a", "j1"))
    tracker.forget("never-seen")
    assert tracker.observe(("res-a", "j1"), job("SUCCESS")) is None                    # silent again: baseline
    tracker = ChangeTracker()
    tracker.observe("res-a", job("RUNNING"))
    tracker.forget("res-a")
    assert tracker.observe("res-a", job("SUCCESS")) == event("j1", None, "SUCCESS")   # no previous status


def test_a_tie_never_opens_the_gate():
    done = {"job_id": "a", "status": "SUCCESS", "begin_time": 5}
    failed = {"job_id": "b", "status": "FAIL", "begin_time": 5}
    assert newest_job([done, failed])["job_id"] == "b" and newest_job([failed, done])["job_id"] == "b"
    unbegun = [dict(done, begin_time=None), dict(failed, begin_time=None)]
    assert newest_job(unbegun)["job_id"] == "b"
