# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""System tests of the emulator over HTTP: IAM projects, the quota, gateway switches,
error body styles and ERROR jobs (the fine detail is in tests/unit/emulator)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from emulator.testkit import PID, TOKEN, create, fault, jobs_path, legacy_path, login_body, sign_headers

THROTTLE_MSG = "The throttling threshold has been reached: policy user over ratelimit, limit:2, time:1 minute."
NOT_PUBLISHED = {"error_code": "APIGW.0101",
                 "error_msg": "The API does not exist or has not been published in the environment."}


def signed(emu, path, query=""):
    return sign_headers("127.0.0.1:%d" % emu.port, path, query=query)


def test_projects_listed_with_aksk_or_token(emulator):
    headers = signed(emulator, "/v3/projects", "name=eu-west-101")
    status, _h, body = emulator.get_json("/v3/projects?name=eu-west-101", headers)
    assert status == 200 and [p["name"] for p in body["projects"]] == ["eu-west-101"]
    project_id = body["projects"][0]["id"]
    assert body["projects"][0]["links"]["self"] == "%s/v3/projects/%s" % (emulator.url, project_id)
    assert emulator.get_json("/v3/projects", TOKEN)[2]["projects"][0]["name"] == "cn-north-4"
    status, _h, body = emulator.get_json("/v3/projects")
    assert status == 401 and body["error"]["title"] == "Unauthorized"
    # a token scoped by that name carries the same id
    status, _h, raw = emulator.call("POST", "/v3/auth/tokens", body=login_body(project={"name": "eu-west-101"}))
    assert status == 201 and json.loads(raw.decode("utf-8"))["token"]["project"]["id"] == project_id


def test_project_overrides_over_http(emulator):
    ids = ["1" * 32, "2" * 32]
    assert emulator.control("POST", "/projects", {"name": "cn-north-4", "ids": ids})[0] == 201
    listed = emulator.get_json("/v3/projects?name=cn-north-4", TOKEN)[2]["projects"]
    assert [p["id"] for p in listed] == ids
    emulator.control("POST", "/projects", {"name": "cn-north-4", "ids": []})
    assert emulator.get_json("/v3/projects?name=cn-north-4", TOKEN)[2]["projects"] == []
    assert emulator.call("POST", "/v3/auth/tokens", body=login_body(project={"name": "cn-north-4"}))[0] == 400
    emulator.control("POST", "/reset")
    assert len(emulator.get_json("/v3/projects?name=cn-north-4", TOKEN)[2]["projects"]) == 1


def test_quota_flag_throttles_with_retry_after(start_emulator):
    emu = start_emulator("--requests-per-minute", "2")
    # At most one minute boundary can pass during these few requests, so 5 always reach a 429.
    answers = [emu.call("GET", jobs_path("r-q"), TOKEN) for _unused in range(5)]
    throttled = [(headers, json.loads(raw.decode("utf-8"))) for status, headers, raw in answers if status == 429]
    assert throttled and all(status in (200, 429) for status, _h, _r in answers)
    headers, body = throttled[0]
    assert 1 <= int(headers["retry-after"]) <= 60
    assert (body["error_code"], body["error_msg"]) == ("APIGW.0308", THROTTLE_MSG)
    log = emu.control("GET", "/requests")[1]["requests"]
    assert sum(1 for e in log if e["status"] == 429) == len(throttled)
    assert emu.control("GET", "/counters")[1]["throttled"] == len(throttled)
    assert emu.control("POST", "/quota", {"requests_per_minute": None})[1]["requests_per_minute"] == 0
    assert emu.call("GET", legacy_path("r-q"), TOKEN)[0] == 200


def test_quota_control_on_the_shared_emulator(emulator):
    emulator.control("POST", "/quota", {"requests_per_minute": 1})
    statuses = [emulator.call("GET", legacy_path("r-q"), TOKEN)[0] for _unused in range(3)]
    assert 429 in statuses
    emulator.control("POST", "/reset")
    assert [emulator.call("GET", jobs_path("r-q"), TOKEN)[0] for _unused in range(3)] == [200] * 3


def test_documented_path_switch(start_emulator, emulator):
    emu = start_emulator("--no-documented-path")
    status, _h, body = emu.get_json(jobs_path("r"), TOKEN)
    assert (status, body) == (404, NOT_PUBLISHED)
    assert emu.get_json(legacy_path("r"), TOKEN)[:3:2] == (200, {"jobs": []})
    assert emulator.control("POST", "/config", {"documented_path": False})[1]["documented_path"] is False
    assert emulator.get_json(jobs_path("r"), TOKEN)[:3:2] == (404, NOT_PUBLISHED)
    emulator.control("POST", "/reset")
    assert emulator.get_json(jobs_path("r"), TOKEN)[0] == 200


def test_body_style_and_error_job(emulator):
    fault(emulator, kind="status", status=503, body_style="camel")
    expected = {"errorCode": "APIGW.0201", "errorMsg": "Backend unavailable."}
    assert emulator.get_json(jobs_path("r"), TOKEN)[:3:2] == (503, expected)
    create(emulator, resource_id="r-err", project_id=PID, outcome="ERROR", fail_reason="backend error")
    job = emulator.get_json(jobs_path("r-err"), TOKEN)[2]["jobs"][0]
    assert (job["status"], job["error_code"], job["fail_reason"]) == ("ERROR", "DBSS.10020200", "backend error")
