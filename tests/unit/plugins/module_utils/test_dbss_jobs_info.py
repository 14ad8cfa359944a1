# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""run_jobs_info end to end over a scripted HTTP server, with a fake clock:
the waiter, the concurrent fetcher, the rate limiter and the client together."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_auth import TokenAuth
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_client import DbssClient
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssConfigError, DbssFailure
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs_info import (
    JOBS_INFO_ARGUMENT_SPEC,
    JOBS_INFO_MODULE_KWARGS,
    JobsInfoRequest,
    jobs_info_task,
    run_jobs_info,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_options import run_as_task
from ansible_collections.hwcloud.dbss.tests.unit.scripted_server import EXAMPLE_JOB, Answer, ScriptedServer, jobs

PROJECT = "0123456789abcdef0123456789abcdef"
RID = EXAMPLE_JOB["resource_id"]


@pytest.fixture
def server():
    srv = ScriptedServer()
    yield srv
    srv.close()


def job(status, job_id="j1", begin=1, **extra):
    data = dict(EXAMPLE_JOB, status=status, job_id=job_id, begin_time=begin, resource_id="res-a")
    data.update(extra)
    return data


def params(**extra):
    base = dict(resource_id="res-a", resource_ids=None, job_id=None, status=None, query=None, wait=True,
                wait_timeout=60, wait_delay=0, wait_sleep=1, wait_max_sleep=4, wait_not_found_timeout=10,
                wait_max_rps=10.0, target_states=["SUCCESS"], pending_states=["INIT", "READY", "RUNNING"],
                failure_states=["FAIL"])
    base.update(extra)
    return base


def run(server, clock, token="tok-unit-1", **extra):
    def factory(limiter):
        return DbssClient(server.url, PROJECT, TokenAuth(token), timeout=5, max_retries=2, rate_limiter=limiter,
                          clock=clock, sleep=clock.sleep, rng=lambda: 0.5)
    return run_jobs_info(params(**extra), factory, clock=clock, sleep=clock.sleep, rng=lambda: 0.5)


def test_wait_returns_when_the_job_succeeds(server, clock):
    server.queue(jobs(job("INIT")), jobs(job("RUNNING")), jobs(job("RUNNING")), jobs(job("SUCCESS", end_time=5)))
    result = run(server, clock)
    assert result["job"]["status"] == "SUCCESS"
    assert result["polls"] == 4 and result["requests"] == 4 and len(server.requests) == 4
    assert [(e["previous_status"], e["status"]) for e in result["events"]] == [(None, "INIT"), ("INIT", "RUNNING"), ("RUNNING", "SUCCESS")]
    assert result["states"] == {"res-a": "SUCCESS"}
    assert 0 < result["elapsed"] <= 60


def test_wait_fails_at_the_first_poll_that_sees_fail(server, clock):
    failed = job("FAIL", error_code="DBSS.10020200", fail_reason="ECS creation failed")
    server.queue(jobs(job("RUNNING")), jobs(failed), jobs(job("SUCCESS")))
    with pytest.raises(DbssFailure) as caught:
        run(server, clock)
    fields = caught.value.to_result()
    assert fields["failure_kind"] == "failed"
    assert fields["job"]["error_code"] == "DBSS.10020200"
    for part in ("res-a", "j1", "DBSS.10020200", "ECS creation failed"):
        assert part in str(caught.value)
    assert len(server.requests) == 2


def test_wait_times_out_naming_the_last_state(server, clock):
    server.default = jobs(job("RUNNING"))
    with pytest.raises(DbssFailure) as caught:
        run(server, clock, wait_timeout="30s")
    fields = caught.value.to_result()
    assert fields["failure_kind"] == "timeout"
    assert "RUNNING" in str(caught.value) and "res-a" in str(caught.value)
    assert clock.now - 1000.0 <= 30.0


def test_transient_errors_do_not_end_the_wait(server, clock):
    busy = Answer(503, b"<html>busy</html>")
    throttled = Answer(429, {"error_code": "APIGW.0308", "error_msg": "The throttling threshold has been reached"},
                       {"Retry-After": "10"})
    server.queue(busy, busy, busy, throttled, jobs(job("SUCCESS")))
    result = run(server, clock)
    assert result["job"]["status"] == "SUCCESS"
    # The wait retries each resource itself (one request per poll) and honours Retry-After.
    assert result["polls"] == result["requests"] == 5
    assert max(clock.sleeps) >= 10.0


def test_permanent_error_ends_the_wait_with_api_fields(server, clock):
    server.queue(jobs(job("RUNNING")), Answer(403, {"error_code": "DBSS.10020021", "error_msg": "denied"}, {"X-Request-Id": "r-9"}))
    with pytest.raises(DbssFailure) as caught:
        run(server, clock)
    fields = caught.value.to_result()
    assert fields["failure_kind"] == "api_error"
    assert (fields["status_code"], fields["error_code"], fields["request_id"]) == (403, "DBSS.10020021", "r-9")
    assert len(server.requests) == 2


def test_several_resources_all_succeed(server, clock):
    server.default = jobs(job("SUCCESS", resource_id=None))  # a job that names no resource fits any
    result = run(server, clock, resource_id=None, resource_ids=["r%d" % i for i in range(12)])
    assert set(result["resources"]) == set("r%d" % i for i in range(12))
    assert all(entry["job"]["status"] == "SUCCESS" for entry in result["resources"].values())
    assert result["polls"] == 12 and result["requests"] == 12


def test_not_found_past_tolerance(server, clock):
    server.default = jobs()
    with pytest.raises(DbssFailure) as caught:
        run(server, clock, wait_not_found_timeout=5)
    assert caught.value.to_result()["failure_kind"] == "not_found"


def test_no_wait_returns_without_wait_fields(server, clock):
    result = run(server, clock, wait=False, resource_id=RID)
    assert "elapsed" not in result and result["job"] == EXAMPLE_JOB


def test_run_as_task_masks_secrets_and_url_passwords_everywhere(server, monkeypatch):
    monkeypatch.delenv("HW_AUTH_TOKEN", raising=False)
    args = dict(project_id=PROJECT, resource_id=RID, auth_token="Tok-Secret-4242",
                endpoint=server.url.replace("http://", "http://u:Url-Pa55@"))
    result = run_as_task(JOBS_INFO_ARGUMENT_SPEC, JOBS_INFO_MODULE_KWARGS, args, jobs_info_task)
    text = json.dumps(result)
    assert result["failed"] is True and result["msg"].startswith("endpoint:")
    assert "Tok-Secret-4242" not in text and "Url-Pa55" not in text
    assert server.requests == []
    args["endpoint"] = server.url
    result = run_as_task(JOBS_INFO_ARGUMENT_SPEC, JOBS_INFO_MODULE_KWARGS, args, jobs_info_task)
    assert not result.get("failed")
    assert result["job"] == EXAMPLE_JOB and "Tok-Secret-4242" not in json.dumps(result)


def test_run_as_task_masks_secrets_in_live_events(server, monkeypatch):
    # A gateway that quotes the request's token in its error text: the retry
    # event that the action plugin prints at -v must not show it.
    monkeypatch.delenv("HW_AUTH_TOKEN", raising=False)
    server.queue(Answer(503, {"error_code": "APIGW.0201", "error_msg": "busy; X-Auth-Token Tok-Secret-4242"}),
                 jobs(EXAMPLE_JOB))
    args = dict(project_id=PROJECT, resource_id=RID, auth_token="Tok-Secret-4242", endpoint=server.url,
                max_retries=0, wait=True, wait_sleep=0.01, wait_max_sleep=0.01)
    events = []
    result = run_as_task(JOBS_INFO_ARGUMENT_SPEC, JOBS_INFO_MODULE_KWARGS, args, jobs_info_task, on_event=events.append)
    assert not result.get("failed"), result.get("msg")
    errors = [e["error"] for e in events if "error" in e]
    assert errors and "APIGW.0201" in errors[0]
    assert "Tok-Secret-4242" not in json.dumps(events) and "********" in errors[0]


@pytest.mark.parametrize("endpoint", ["https://admin:Pa55w0rdX@[::1/", "http://admin:Pa55w0rdX@bad host/"])
def test_a_password_in_an_unparseable_url_is_masked_too(server, endpoint):
    args = dict(project_id=PROJECT, resource_id=RID, auth_token="Tok-Secret-4242", endpoint=endpoint)
    result = run_as_task(JOBS_INFO_ARGUMENT_SPEC, JOBS_INFO_MODULE_KWARGS, args, jobs_info_task)
    assert result["failed"] is True and result["msg"].startswith("endpoint:")
    assert "Pa55w0rdX" not in json.dumps(result)


@pytest.mark.parametrize("given,expected", [
    (dict(wait_sleep=10, wait_max_sleep=None), 10.0),   # raising wait_sleep alone raises the cap with it
    (dict(wait_sleep=1, wait_max_sleep=None), 4.0),     # the default cap
    (dict(wait_sleep=1, wait_max_sleep="30s"), 30.0),   # an explicit cap wins
])
def test_the_default_cap_follows_a_larger_first_interval(given, expected):
    assert JobsInfoRequest(params(**given)).wait_spec.max_sleep == expected


@pytest.mark.parametrize("answer,failed", [
    (Answer(403, {"error_code": "DBSS.10020021", "error_msg": "no permission"}), True),
    (jobs(EXAMPLE_JOB), False),
])
def test_the_unverified_tls_warning_comes_on_failure_too(server, monkeypatch, answer, failed):
    monkeypatch.delenv("HW_AUTH_TOKEN", raising=False)
    server.queue(answer)
    args = dict(project_id=PROJECT, resource_id=RID, auth_token="Tok-Secret-4242", endpoint=server.url,
                validate_certs=False, max_retries=0)
    result = run_as_task(JOBS_INFO_ARGUMENT_SPEC, JOBS_INFO_MODULE_KWARGS, args, jobs_info_task)
    assert bool(result.get("failed")) is failed
    assert any("validate_certs is false" in w for w in result.get("warnings", [])), result


def test_a_job_of_another_resource_is_never_followed(server, clock):
    server.default = jobs(job("SUCCESS", resource_id="res-other"))
    with pytest.raises(DbssFailure) as caught:
        run(server, clock, wait_timeout="20s")
    fields = caught.value.to_result()
    assert fields["failure_kind"] == "timeout" and fields["states"] == {"res-a": None}
    assert "another resource" in str(caught.value) and fields["job"] is None


def test_a_failed_wait_reports_the_failing_resource_job_only(server, clock):
    ok = Answer(200, {"jobs": [job("SUCCESS", job_id="j-ok", resource_id=None)]})
    failed = Answer(200, {"jobs": [job("FAIL", job_id="j-bad", resource_id=None, fail_reason="no capacity")]})
    server.queue(ok, failed)  # ra first, alone; then rb
    with pytest.raises(DbssFailure) as caught:
        run(server, clock, resource_id=None, resource_ids=["ra", "rb"])
    fields = caught.value.to_result()
    assert fields["resource_id"] == "rb" and fields["job"]["job_id"] == "j-bad"
    assert fields["states"] == {"ra": "SUCCESS", "rb": "FAIL"} and "unfinished" not in fields
    # Compact: no job lists and no events, whatever the number of resources.
    assert not set(fields) & {"jobs", "resources", "events"}


@pytest.mark.parametrize("wait", [False, True])
def test_a_refused_token_reaches_the_api_once_for_many_resources(server, clock, wait):
    server.default = Answer(401, {"error_code": "DBSS.10020100", "error_msg": "The token must be updated"})
    with pytest.raises(Exception) as caught:
        run(server, clock, wait=wait, resource_id=None, resource_ids=["r%d" % i for i in range(10)])
    assert "401" in str(caught.value)
    assert len(server.requests) == 1


def test_one_request_proves_the_credential_before_the_others_go(server, clock):
    server.default = jobs(job("SUCCESS", resource_id=None))
    run(server, clock, wait=False, resource_id=None, resource_ids=["r%d" % i for i in range(5)])
    assert server.requests[0]["path"].endswith("/audit/r0/jobs") and len(server.requests) == 5


def test_no_jobs_key_counts_as_no_job_and_hits_the_not_found_bound(server, clock):
    server.default = Answer(200, {"jobs": None})
    with pytest.raises(DbssFailure) as caught:
        run(server, clock, wait_not_found_timeout=5)
    assert caught.value.to_result()["failure_kind"] == "not_found"
    assert clock.now - 1000.0 < 30


@pytest.mark.parametrize("first", [Answer(503, b"<html>busy</html>"), Answer(200, b"", reset=True)])
@pytest.mark.parametrize("wait", [False, True])
def test_no_fan_out_until_an_answer_proves_the_credential(server, clock, first, wait):
    # The first poll gets no verdict: the next one still goes alone, and is refused.
    server.queue(first, first, first)
    server.default = Answer(401, {"error_code": "APIGW.0301", "error_msg": "verify aksk signature fail"})
    with pytest.raises(DbssFailure) as caught:
        run(server, clock, wait=wait, resource_id=None, resource_ids=["r%d" % i for i in range(10)])
    assert "401" in str(caught.value) and "verify aksk signature fail" in str(caught.value)
    # three answers without a verdict, then exactly one refusal: nothing is sent after it
    assert len(server.requests) == 4
    refused = server.requests[-1]["path"].split("/")[-2]
    assert caught.value.to_result()["resource_id"] == refused


def test_a_numeric_job_id_is_found_by_its_text(server, clock):
    server.default = jobs(job("SUCCESS", job_id=123))
    result = run(server, clock, job_id="123")
    assert result["job"]["job_id"] == 123 and result["jobs"]


def test_a_query_that_fails_on_the_jobs_names_the_option(server, clock):
    server.default = jobs(job("SUCCESS"))
    with pytest.raises(DbssConfigError) as caught:
        run(server, clock, wait=False, query="length(`1`)")
    assert caught.value.option == "query"


# -- hints where users go wrong --------------------------------------------------------

def test_a_listing_without_jobs_warns_naming_project_region_and_what_to_check(server, clock):
    server.queue(Answer(200, {"jobs": []}), Answer(200, {"jobs": [job("SUCCESS", resource_id="res-b")]}))
    result = run(server, clock, wait=False, resource_id=None, resource_ids=["res-a", "res-b"], region="cn-north-4")
    assert result["resources"]["res-a"]["jobs"] == [] and len(result["warnings"]) == 1
    warning = result["warnings"][0]
    for part in ("no DBSS job for resource res-a ", PROJECT, "region cn-north-4", server.url, "resource_id",
                 "project_id or project_name", "region"):
        assert part in warning
    assert "res-b" not in warning


def test_a_listing_with_jobs_warns_nothing(server, clock):
    server.queue(Answer(200, {"jobs": [job("SUCCESS")]}))
    assert "warnings" not in run(server, clock, wait=False)


def test_a_wait_that_finds_no_job_says_where_it_asked(server, clock):
    server.default = Answer(200, {"jobs": []})
    with pytest.raises(DbssFailure) as caught:
        run(server, clock, wait_not_found_timeout=3)
    message = str(caught.value)
    assert caught.value.to_result()["failure_kind"] == "not_found"
    assert "asked project %s (region not set) at %s" % (PROJECT, server.url) in message and "project_name" in message
