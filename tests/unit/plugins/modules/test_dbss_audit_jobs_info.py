# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs_info import (
    JOBS_INFO_ARGUMENT_SPEC,
    JOBS_INFO_MODULE_KWARGS,
    jobs_info_task,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_options import run_as_task
from ansible_collections.hwcloud.dbss.plugins.modules import dbss_audit_jobs_info
from ansible_collections.hwcloud.dbss.tests.unit.scripted_server import EXAMPLE_JOB, Answer, ScriptedServer, jobs

PROJECT = "0123456789abcdef0123456789abcdef"
TOKEN = "tok-SECRET-module-77"


def job(job_id, status, begin, resource="res-a", **extra):
    data = dict(EXAMPLE_JOB, job_id=job_id, status=status, begin_time=begin, resource_id=resource)
    data.update(extra)
    return data


@pytest.fixture
def server():
    srv = ScriptedServer()
    yield srv
    srv.close()


# tests/unit/conftest.py: no HW_* variable of the shell reaches these tests.
pytestmark = pytest.mark.usefixtures("clean_env")


def run_module(capsys, **args):
    """Run the module's main() and return (failed, result)."""
    with patch_module_args(args):
        with pytest.raises(SystemExit) as caught:
            dbss_audit_jobs_info.main()
    out = capsys.readouterr().out
    result = json.loads(out)
    assert (caught.value.code != 0) == bool(result.get("failed"))
    return result, out


def base_args(server, **extra):
    args = dict(project_id=PROJECT, endpoint=server.url, auth_token=TOKEN, max_retries=0)
    args.update(extra)
    return args


def test_example_response_is_returned_field_for_field(server, capsys):
    result, out = run_module(capsys, **base_args(server, resource_id=EXAMPLE_JOB["resource_id"]))
    assert result["changed"] is False
    assert result["jobs"] == [EXAMPLE_JOB]
    assert result["job"] == EXAMPLE_JOB
    assert "resources" not in result and "query_result" not in result
    assert TOKEN not in out


def test_several_resources_and_newest_job(server, capsys):
    server.queue(jobs(job("a1", "SUCCESS", 100, "res-a"), job("a2", "RUNNING", 300, "res-a")),
                 jobs(job("b1", "FAIL", 200, "res-b")))
    result, dummy = run_module(capsys, **base_args(server, resource_ids=["res-a", "res-b", "res-a"]))
    assert [j["job_id"] for j in result["jobs"]] == ["a1", "a2", "b1"]
    assert result["job"]["job_id"] == "a2"
    assert set(result["resources"]) == {"res-a", "res-b"}
    assert result["resources"]["res-a"]["job"]["job_id"] == "a2"
    assert result["resources"]["res-b"]["jobs"][0]["job_id"] == "b1"
    assert len(server.requests) == 2, "duplicates are polled once"


def test_job_without_begin_time_ranks_newest(server, capsys):
    # It has not begun yet: an older finished job must never open the gate past it.
    server.queue(jobs(job("old", "SUCCESS", 5), job("none", "INIT", None), job("older", "SUCCESS", 1)))
    result, dummy = run_module(capsys, **base_args(server, resource_id="res-a"))
    assert result["job"]["job_id"] == "none"


def test_status_and_job_id_filters(server, capsys):
    listing = jobs(job("j1", "SUCCESS", 1), job("j2", "FAIL", 2), job("j3", "FAIL", 3))
    server.queue(listing, listing)
    result, dummy = run_module(capsys, **base_args(server, resource_id="res-a", status=["FAIL"]))
    assert [j["job_id"] for j in result["jobs"]] == ["j2", "j3"] and result["job"]["job_id"] == "j3"
    result, dummy = run_module(capsys, **base_args(server, resource_id="res-a", job_id="j1"))
    assert [j["job_id"] for j in result["jobs"]] == ["j1"]


def test_no_job_kept_gives_null_job(server, capsys):
    server.queue(jobs())
    result, dummy = run_module(capsys, **base_args(server, resource_id="res-a"))
    assert result["jobs"] == [] and result["job"] is None


def test_jmespath_query(server, capsys):
    server.queue(jobs(job("j1", "SUCCESS", 1), job("j2", "FAIL", 2, error_code="DBSS.1", fail_reason="boom")))
    result, dummy = run_module(capsys, **base_args(server, resource_id="res-a", query="[?status=='FAIL'].{id: job_id, why: fail_reason}"))
    assert result["query_result"] == [{"id": "j2", "why": "boom"}]


def test_check_mode_still_reads(server, capsys):
    result, dummy = run_module(capsys, **base_args(server, resource_id=EXAMPLE_JOB["resource_id"],
                                                   _ansible_check_mode=True))
    assert result["job"] == EXAMPLE_JOB and result["changed"] is False


# An empty variable counts as unset: it must not hide the next one.
@pytest.mark.parametrize("extra_env", [{}, {"HW_AUTH_TOKEN": ""}])
def test_environment_fallbacks(server, capsys, monkeypatch, extra_env):
    monkeypatch.setenv("HW_PROJECT_ID", PROJECT)
    monkeypatch.setenv("HW_DBSS_ENDPOINT", server.url)
    monkeypatch.setenv("OS_AUTH_TOKEN", TOKEN)
    for name, value in extra_env.items():
        monkeypatch.setenv(name, value)
    result, out = run_module(capsys, resource_id=EXAMPLE_JOB["resource_id"])
    assert result["job"] == EXAMPLE_JOB
    assert server.requests[0]["headers"]["X-Auth-Token"] == TOKEN
    assert TOKEN not in out


def test_api_error_reports_status_code_message_and_request_id(server, capsys):
    server.queue(Answer(403, {"error_code": "DBSS.10020021", "error_msg": "no permission",
                              "details": [{"error_code": "PDP.403", "error_msg": "policy"}],
                              "encoded_authorization_message": "ENC"}, {"X-Request-Id": "rid-403"}))
    result, out = run_module(capsys, **base_args(server, resource_id="res-a"))
    assert result["failed"] is True
    for part in ("HTTP 403", "DBSS.10020021", "no permission", "rid-403"):
        assert part in result["msg"]
    assert (result["status_code"], result["error_code"], result["request_id"]) == (403, "DBSS.10020021", "rid-403")
    assert result["encoded_authorization_message"] == "ENC"
    assert TOKEN not in out


BAD_INPUTS = [
    (dict(project_id="short"), "project_id"),
    (dict(project_id="x" * 65), "project_id"),
    (dict(project_id="0123456789abcdef0123456789abcde!"), "project_id"),
    (dict(resource_id="a/b"), "resource_id"),
    (dict(resource_id="a..b"), "resource_id"),
    (dict(resource_id="a?b"), "resource_id"),
    (dict(resource_id="a#b"), "resource_id"),
    (dict(resource_id="a%2Fb"), "resource_id"),
    (dict(resource_id="a b"), "resource_id"),
    (dict(resource_id="a\nb"), "resource_id"),
    (dict(resource_id="r\u00e9sum\u00e9"), "resource_id"),
    (dict(resource_id=""), "resource_id"),
    (dict(resource_id=None, resource_ids=["ok", "bad/one"]), "resource_ids[1]"),
    (dict(resource_id=None, resource_ids=[]), "resource_ids"),
    (dict(endpoint="ftp://example.com"), "endpoint"),
    (dict(endpoint="https://user:pw@example.com"), "endpoint"),
    (dict(endpoint="not a url"), "endpoint"),
    (dict(endpoint=None, region="CN-North-4"), "region"),
    (dict(endpoint=None, region="Mars"), "region"),
    (dict(endpoint=None), "region"),
    (dict(query="[?status=="), "query"),
    (dict(timeout=0), "timeout"),
    (dict(timeout=-1), "timeout"),
    (dict(max_retries=-1), "max_retries"),
    (dict(status=["DONE"]), "status"),
    (dict(wait=True, wait_sleep=10, wait_max_sleep=5), "wait_sleep"),
    (dict(wait=True, wait_timeout="soon"), "wait_timeout"),
    (dict(wait=True, wait_timeout=0), "wait_timeout"),
    (dict(wait=True, target_states=["SUCCESS"], failure_states=["SUCCESS"]), "failure_states"),
    (dict(wait=True, wait_max_rps=0), "wait_max_rps"),
    (dict(auth_token=None, access_key="AK"), "secret_key"),
    (dict(auth_token=None, user_name="u", password="p"), "domain_name"),
    # "$" would let a final newline through (a YAML block scalar ends with one)
    (dict(resource_id="res-1\n"), "resource_id"),
    (dict(resource_id=None, resource_ids=["ok", "res-2\n"]), "resource_ids[1]"),
    (dict(project_id=PROJECT + "\n"), "project_id"),
    # credentials that travel in HTTP headers
    (dict(auth_token="tok-with-newline\n"), "auth_token"),
    (dict(auth_token="   "), "auth_token"),
    (dict(auth_token="tok\u201dquoted"), "auth_token"),
    (dict(auth_token=None, access_key="AK EY", secret_key="sk"), "access_key"),
    (dict(auth_token=None, access_key="AK", secret_key="sk", security_token="st\r\n"), "security_token"),
    (dict(wait=True, wait_timeout=10 ** 400), "wait_timeout"),
    (dict(wait=True, wait_timeout="3s", wait_delay="1h"), "wait_delay"),
    (dict(wait=True, wait_timeout=60, wait_delay=60), "wait_delay"),
    (dict(resource_id=None, resource_ids=["ra", "rb"], wait=True, job_id="j1"), "job_id"),
    # numbers ansible-core's own int and float conversions would overflow on
    (dict(timeout=10 ** 400), "timeout"),
    (dict(timeout=float("inf")), "timeout"),
    (dict(max_retries=float("inf")), "max_retries"),
    (dict(max_retries="1e999"), "max_retries"),
    (dict(wait=True, wait_max_rps=10 ** 400), "wait_max_rps"),
    (dict(wait=True, wait_max_rps="nan"), "wait_max_rps"),
]


@pytest.mark.parametrize("override,option", BAD_INPUTS)
def test_bad_input_fails_before_any_request_naming_the_option(server, capsys, override, option):
    args = base_args(server, resource_id="res-a")
    args.update(override)
    args = dict((k, v) for k, v in args.items() if v is not None)
    result, out = run_module(capsys, **args)
    assert result["failed"] is True
    # the collection's own rules name the option in a field; ansible-core's (choices,
    # mutually exclusive) only in the message, as "<option>" in its own words
    assert result.get("option", option) == option and option in result["msg"]
    assert server.requests == []
    assert TOKEN not in out


@pytest.mark.parametrize("token", ["s3cr3t-with-newline\n", "s3cr3t\u201dquoted"])
def test_a_refused_token_is_not_echoed(server, capsys, token):
    result, out = run_module(capsys, **base_args(server, resource_id="res-a", auth_token=token))
    assert result["failed"] is True and result["msg"].startswith("auth_token:")
    assert "s3cr3t" not in out


def test_job_id_with_several_resources_is_fine_without_wait(server, capsys):
    server.queue(jobs(dict(EXAMPLE_JOB, resource_id="ra")), jobs())
    result, dummy = run_module(capsys, **base_args(server, resource_ids=["ra", "rb"], job_id=EXAMPLE_JOB["job_id"]))
    assert not result.get("failed")
    assert result["resources"]["ra"]["job"]["job_id"] == EXAMPLE_JOB["job_id"]
    assert result["resources"]["rb"]["job"] is None


def test_both_or_neither_resource_option_is_refused(server, capsys):
    result, dummy = run_module(capsys, **base_args(server, resource_id="a", resource_ids=["b"]))
    assert "mutually exclusive" in result["msg"]
    result, dummy = run_module(capsys, **base_args(server))
    assert "resource_id" in result["msg"]
    assert server.requests == []


def test_password_typed_into_an_endpoint_is_refused_and_never_echoed(server, capsys):
    endpoint = server.url.replace("http://", "http://admin:Url-Pa55-word@")
    result, out = run_module(capsys, **base_args(server, resource_id="res-a", endpoint=endpoint))
    assert result["failed"] is True and "endpoint" in result["msg"]
    assert "Url-Pa55-word" not in out
    assert server.requests == []


# Two routes, one result: the module (remote host, async) and the controller-side
# runner of the action plugin build every outcome in the same function.
WAIT = dict(wait=True, wait_sleep=0.05, wait_max_sleep=0.05, wait_timeout=1, resource_id="res-a")
ROUTE_CASES = {
    "success": ([jobs(job("j1", "SUCCESS", 1))], {}),
    "failed": ([jobs(job("j1", "FAIL", 1, error_code="DBSS.1", fail_reason="no capacity"))], {}),
    "unexpected_state": ([jobs(job("j1", "RUNNING", 1))], dict(pending_states=["INIT"])),
    "not_found": ([jobs()], dict(wait_not_found_timeout=0)),
    "api_error": ([Answer(403, {"error_code": "DBSS.10020021", "error_msg": "denied"}, {"X-Request-Id": "r-1"})], {}),
    "ambiguous": ([jobs(job("j1", "RUNNING", 1), job("j1", "FAIL", 2))], dict(job_id="j1")),
    "timeout": ([jobs(job("j1", "RUNNING", 1))], dict(wait_timeout=0.3)),
    "bad_option": ([], dict(wait_timeout="999999999h")),
}
VARYING = ("elapsed", "polls", "requests", "events", "invocation", "msg")


@pytest.mark.parametrize("case", sorted(ROUTE_CASES))
def test_the_module_and_the_controller_route_report_alike(server, capsys, case):
    answers, extra = ROUTE_CASES[case]
    args = base_args(server, **dict(WAIT, **extra))
    server.default = answers[0] if answers else jobs()
    module_result, out = run_module(capsys, **args)
    controller_result = run_as_task(JOBS_INFO_ARGUMENT_SPEC, JOBS_INFO_MODULE_KWARGS, args, jobs_info_task)
    assert "Module failed" not in out and "Traceback" not in out
    assert module_result.get("failure_kind") == controller_result.get("failure_kind")
    assert bool(module_result.get("failed")) == bool(controller_result.get("failed")) == (case != "success")
    assert module_result.get("failure_kind", "success" if case != "bad_option" else "bad_option") == case.replace(
        "ambiguous", "api_error")
    assert dict((k, v) for k, v in module_result.items() if k not in VARYING) == \
        dict((k, v) for k, v in controller_result.items() if k not in VARYING)
    if case != "success":
        assert module_result["msg"].split(" after ")[0] == controller_result["msg"].split(" after ")[0]
