# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""System tests of the DBSS + IAM emulator (plain pytest, traffic to 127.0.0.1 only).

Start-up, jobs, error bodies and the IAM login; AK/SK, faults, the log and load are in
test_emulator_traffic.py, projects / quota / gateway switches in test_emulator_gateway.py.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import http.client
import json
import re
import time

import pytest

from emulator.jobs import EXAMPLE_JOB, JOB_FIELDS, Job
from emulator.testkit import (OTHER_PID, PID, REQUEST_ID, TOKEN, assert_flat_error, create, fault, jobs_path,
                              legacy_path, login_body)

POLL_DEADLINE = 10.0

# The "Example Responses" body of the API reference, as published.
REFERENCE_EXAMPLE = """{
  "jobs" : [ {
    "resource_id" : "2c154fdd-0d43-47b7-9cf1-5236bf6a2ca7",
    "status" : "SUCCESS",
    "job_type" : null,
    "job_id" : "8abf9647852a1daa01852e517e1a1a0b",
    "begin_time" : 1671519371000,
    "end_time" : 1671519417000,
    "error_code" : null,
    "fail_reason" : null,
    "charge_mode" : "Demand",
    "server_name" : "DBSS-qct-1220",
    "server_id" : "0aa8f621-bc19-4822-b66d-7ab9ae3c8693",
    "ha_id" : null,
    "ha_name" : null
  } ]
}"""


def poll_until_done(emu, resource_id, deadline=POLL_DEADLINE):
    """Poll until the newest job finishes; return the list of observed (status, end_time)."""
    seen = []
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        status, _h, body = emu.get_json(jobs_path(resource_id), TOKEN)
        assert status == 200
        job = body["jobs"][0]
        seen.append((job["status"], job["end_time"]))
        if job["status"] in ("SUCCESS", "FAIL", "ERROR"):
            return seen, job
        time.sleep(0.05)
    raise AssertionError("job did not finish before the deadline; seen %r" % seen)


# --- start-up ---------------------------------------------------------------------------

def test_first_line_is_base_url_and_port_file_has_port(emulator):
    assert emulator.port > 0
    assert emulator.url == "http://127.0.0.1:%d" % emulator.port


def test_sigterm_exits_cleanly(start_emulator):
    emu = start_emulator()
    emu.process.terminate()
    assert emu.process.wait(timeout=10) == 0
    assert emu.process.stderr.read() == b""  # quiet by default


def test_bad_credential_flags_are_refused(start_emulator):
    with pytest.raises(RuntimeError, match="go together"):
        start_emulator("--access-key", "AK-ONLY")


def test_keep_alive_serves_several_requests_on_one_connection(emulator):
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=10)
    try:
        for _unused in range(3):
            conn.request("GET", jobs_path("keepalive"), headers=TOKEN)
            resp = conn.getresponse()
            assert resp.status == 200
            assert resp.getheader("Content-Length") is not None
            assert json.loads(resp.read()) == {"jobs": []}
    finally:
        conn.close()


# --- jobs -------------------------------------------------------------------------------

def test_example_mode_serves_the_reference_example(start_emulator):
    emu = start_emulator("--example")
    expected = json.loads(REFERENCE_EXAMPLE)
    for project in (PID, OTHER_PID + "-with-more-characters"):
        status, headers, raw = emu.call("GET", jobs_path(EXAMPLE_JOB[0][1], project), TOKEN)
        assert status == 200
        assert REQUEST_ID.match(headers["x-request-id"])
        body = json.loads(raw.decode("utf-8"))
        assert body == expected
        assert list(body["jobs"][0]) == list(expected["jobs"][0])  # same key order too
    # survives a reset
    assert emu.control("POST", "/reset")[0] == 200
    assert emu.get_json(jobs_path(EXAMPLE_JOB[0][1]), TOKEN)[2] == expected


def test_unknown_resource_has_no_jobs(emulator):
    status, headers, body = emulator.get_json(jobs_path("no-such-resource"), TOKEN)
    assert (status, body) == (200, {"jobs": []})
    assert REQUEST_ID.match(headers["x-request-id"])


def test_all_thirteen_fields_are_present_with_nulls(emulator):
    created = create(emulator, project_id=PID, resource_id="r-fields")
    assert "finishes_at" in created and "control_id" in created
    _s, _h, body = emulator.get_json(jobs_path("r-fields"), TOKEN)
    job = body["jobs"][0]
    assert list(job) == list(JOB_FIELDS)
    assert job["job_type"] is None and job["ha_id"] is None and job["ha_name"] is None
    assert job["error_code"] is None and job["fail_reason"] is None
    assert "finishes_at" not in job and "control_id" not in job
    assert job["job_id"] == created["job_id"] and job["begin_time"] == created["begin_time"]


def test_job_walks_its_timeline_to_success(emulator):
    created = create(emulator, resource_id="r-life", timeline={"INIT": 0.3, "READY": 0.3, "RUNNING": 0.3})
    assert created["status"] == "INIT" and created["end_time"] is None
    seen, final = poll_until_done(emulator, "r-life")
    order = ["INIT", "READY", "RUNNING", "SUCCESS"]
    indexes = [order.index(status) for status, _end in seen]
    assert indexes == sorted(indexes)  # never goes backwards
    assert all(end is None for status, end in seen if status != "SUCCESS")
    assert final["status"] == "SUCCESS"
    assert final["end_time"] == created["finishes_at"] >= final["begin_time"] == created["begin_time"]
    assert final["error_code"] is None


def test_failed_job_carries_error_code_and_reason(emulator):
    create(emulator, resource_id="r-fail", timeline={"RUNNING": 0.2}, outcome="FAIL")
    _seen, final = poll_until_done(emulator, "r-fail")
    assert final["status"] == "FAIL"
    assert final["error_code"] == "DBSS.10020200"
    assert final["fail_reason"] == "Failed to create the ECS for the audit instance"
    assert final["end_time"] is not None
    create(emulator, resource_id="r-fail2", outcome="FAIL", error_code="DBSS.X", fail_reason="no quota")
    job = emulator.get_json(jobs_path("r-fail2"), TOKEN)[2]["jobs"][0]
    assert (job["error_code"], job["fail_reason"]) == ("DBSS.X", "no quota")


def test_status_at_follows_the_timeline():
    job = Job("r", 1000.0, [("INIT", 1), ("READY", 2), ("RUNNING", 3)], "FAIL")
    assert [job.status_at(1000.0 + t) for t in (0, 0.99, 1, 2.9, 3, 5.9, 6, 100)] == [
        "INIT", "INIT", "READY", "READY", "RUNNING", "RUNNING", "FAIL", "FAIL"]
    forever = Job("r", 0.0, [("INIT", 0), ("READY", 0), ("RUNNING", None)])
    assert forever.status_at(1e9) == "RUNNING" and forever.finishes_at() is None


def test_fields_override_anything(emulator):
    create(emulator, resource_id="r-odd", fields={"status": "PAUSED", "begin_time": None, "charge_mode": "Period"})
    job = emulator.get_json(jobs_path("r-odd"), TOKEN)[2]["jobs"][0]
    assert (job["status"], job["begin_time"], job["charge_mode"]) == ("PAUSED", None, "Period")


def test_several_jobs_newest_first_and_project_scope(emulator):
    first = create(emulator, resource_id="r-many", project_id=PID)
    time.sleep(0.01)
    second = create(emulator, resource_id="r-many", timeline={"RUNNING": None})
    jobs = emulator.get_json(jobs_path("r-many"), TOKEN)[2]["jobs"]
    assert [j["job_id"] for j in jobs] == [second["job_id"], first["job_id"]]
    assert jobs[0]["status"] == "RUNNING"
    # the first job belongs to PID only; the second to any project
    other = emulator.get_json(jobs_path("r-many", OTHER_PID), TOKEN)[2]["jobs"]
    assert [j["job_id"] for j in other] == [second["job_id"]]


def test_deleting_a_job_makes_it_disappear(emulator):
    job = create(emulator, resource_id="r-del", timeline={"RUNNING": None})
    assert emulator.control("DELETE", "/jobs/" + job["job_id"]) == (200, {"deleted": job["job_id"]})
    assert emulator.get_json(jobs_path("r-del"), TOKEN)[2] == {"jobs": []}
    assert emulator.control("DELETE", "/jobs/" + job["job_id"])[0] == 404


def test_bulk_creation_of_500_resources(emulator):
    specs = [{"resource_id": "bulk-%03d" % i, "timeline": {"RUNNING": 0.1 * (i % 3)}} for i in range(500)]
    status, answer = emulator.control("POST", "/jobs", {"jobs": specs})
    assert status == 201 and len(answer["jobs"]) == 500
    for i in (0, 251, 499):
        jobs = emulator.get_json(jobs_path("bulk-%03d" % i), TOKEN)[2]["jobs"]
        assert [j["resource_id"] for j in jobs] == ["bulk-%03d" % i]


@pytest.mark.parametrize("spec", [
    {"resource_id": "r", "timeline": {"BOOT": 1}},
    {"resource_id": "r", "outcome": "MAYBE"},
    {"timeline": {}},
    {"resource_id": "r", "project_id": "short"},
    {"resource_id": "r", "typo": 1},
])
def test_control_rejects_bad_job_specs(emulator, spec):
    status, answer = emulator.control("POST", "/jobs", spec)
    assert status == 400 and answer["error"]


# --- errors ------------------------------------------------------------------------------

def test_legacy_path_same_jobs_nested_errors(emulator):
    create(emulator, resource_id="r-legacy")
    new = emulator.get_json(jobs_path("r-legacy"), TOKEN)[2]
    status, headers, legacy = emulator.get_json(legacy_path("r-legacy"), TOKEN)
    assert status == 200 and legacy == new
    status, headers, body = emulator.get_json(legacy_path("r-legacy"))
    assert status == 401 and REQUEST_ID.match(headers["x-request-id"])
    assert body == {"error": {"error_code": "DBSS.10020100", "error_msg": "token authentication failed"}}
    status, _h, body = emulator.get_json(legacy_path("r-legacy", "bad!project"), TOKEN)
    assert status == 400 and set(body) == {"error"} and body["error"]["error_code"] == "DBSS.10000001"
    fault(emulator, kind="throttle", resource_id="r-legacy")
    status, _h, body = emulator.get_json(legacy_path("r-legacy"), TOKEN)
    assert status == 429 and body["error"]["error_code"] == "APIGW.0308"


def test_documented_error_bodies(emulator):
    body = assert_flat_error(*emulator.call("GET", jobs_path("r", "not-a-project"), TOKEN), expected_status=400,
                             code="DBSS.10000001")
    assert "project_id" in body["error_msg"]
    assert_flat_error(*emulator.call("GET", jobs_path("r")), expected_status=401, code="DBSS.10020100")
    assert_flat_error(*emulator.call("GET", jobs_path("r"), {"X-Auth-Token": "wrong"}), expected_status=401)
    fault(emulator, kind="forbidden", resource_id="r")
    body = assert_flat_error(*emulator.call("GET", jobs_path("r"), TOKEN), expected_status=403)
    assert body["details"] and set(body["details"][0]) == {"error_code", "error_msg"}
    assert body["encoded_authorization_message"]
    assert_flat_error(*emulator.call("GET", "/v1/%s/nothing/here" % PID, TOKEN), expected_status=404, code="APIGW.0101")
    assert_flat_error(*emulator.call("POST", jobs_path("r"), TOKEN, body={}), expected_status=404)
    fault(emulator, kind="status", status=500)
    assert_flat_error(*emulator.call("GET", jobs_path("r"), TOKEN), expected_status=500, code="DBSS.11000000")


# --- IAM --------------------------------------------------------------------------------

def test_iam_login_by_project_id_gives_a_working_token(emulator):
    status, headers, raw = emulator.call("POST", "/v3/auth/tokens", body=login_body())
    assert status == 201
    token = headers["x-subject-token"]
    assert "demo-password" not in token and token != "demo-token"
    body = json.loads(raw.decode("utf-8"))["token"]
    assert body["methods"] == ["password"] and body["project"]["id"] == PID
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", body["expires_at"])
    assert body["user"]["name"] == "demo-user"
    assert emulator.get_json(jobs_path("r"), {"X-Auth-Token": token})[0] == 200
    again = emulator.call("POST", "/v3/auth/tokens", body=login_body())[1]["x-subject-token"]
    assert again != token  # random, not derived from the password


def test_iam_login_by_project_name(emulator):
    status, _h, raw = emulator.call("POST", "/v3/auth/tokens", body=login_body(project={"name": "cn-north-4"}))
    assert status == 201
    project = json.loads(raw.decode("utf-8"))["token"]["project"]
    assert project["name"] == "cn-north-4" and re.match(r"^[0-9a-f]{32}$", project["id"])


@pytest.mark.parametrize("kwargs", [{"password": "nope"}, {"user": "mallory"}, {"domain": "other"}])
def test_iam_wrong_credentials_401(emulator, kwargs):
    status, headers, raw = emulator.call("POST", "/v3/auth/tokens", body=login_body(**kwargs))
    assert status == 401 and "x-subject-token" not in headers
    assert json.loads(raw.decode("utf-8")) == {
        "error": {"code": 401, "message": "The username or password is wrong.", "title": "Unauthorized"}}


@pytest.mark.parametrize("body", [b"not json", b"{}", json.dumps({"auth": {"identity": {"methods": ["token"]}}}).encode()])
def test_iam_malformed_body_400(emulator, body):
    status, _h, raw = emulator.call("POST", "/v3/auth/tokens", body=body)
    assert status == 400 and json.loads(raw.decode("utf-8"))["error"]["code"] == 400


def test_revoke_invalidates_issued_tokens_only(emulator):
    token = emulator.call("POST", "/v3/auth/tokens", body=login_body())[1]["x-subject-token"]
    assert emulator.control("POST", "/tokens/revoke") == (200, {"revoked": 1})
    status, _h, body = emulator.get_json(jobs_path("r"), {"X-Auth-Token": token})
    assert status == 401 and body["error_code"] == "DBSS.10020100"
    assert emulator.get_json(jobs_path("r"), TOKEN)[0] == 200  # command-line token still good
    fresh = emulator.call("POST", "/v3/auth/tokens", body=login_body())[1]["x-subject-token"]
    assert emulator.get_json(jobs_path("r"), {"X-Auth-Token": fresh})[0] == 200


def test_expired_issued_token_must_be_updated(start_emulator):
    emu = start_emulator("--user", "u", "--password", "p", "--domain", "d", "--token-ttl", "0")
    token = emu.call("POST", "/v3/auth/tokens", body=login_body("u", "p", "d"))[1]["x-subject-token"]
    status, _h, body = emu.get_json(jobs_path("r"), {"X-Auth-Token": token})
    assert status == 401 and body["error_code"] == "APIGW.0307"
    # only the given mode is enabled: the demo token is not accepted
    assert emu.get_json(jobs_path("r"), TOKEN)[0] == 401
