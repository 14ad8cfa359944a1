# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""System tests of the DBSS + IAM emulator (plain pytest, traffic to 127.0.0.1 only)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import http.client
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

from emulator import signing
from emulator.jobs import EXAMPLE_JOB, JOB_FIELDS, Job

PID = "0123456789abcdef0123456789abcdef"
OTHER_PID = "fedcba9876543210fedcba9876543210"
TOKEN = {"X-Auth-Token": "demo-token"}
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
ERROR_KEYS = {"error_code", "error_msg", "details", "encoded_authorization_message"}
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


def jobs_path(resource_id, project_id=PID):
    return "/v1/%s/audit/%s/jobs" % (project_id, resource_id)


def legacy_path(resource_id, project_id=PID):
    return "/v1/%s/dbss/audit/jobs/%s" % (project_id, resource_id)


def create(emu, **spec):
    status, job = emu.control("POST", "/jobs", spec)
    assert status == 201, job
    return job


def fault(emu, **spec):
    status, answer = emu.control("POST", "/faults", spec)
    assert status == 201, answer
    return answer


def login_body(user="demo-user", password="demo-password", domain="demo-domain", project=None):
    return {"auth": {
        "identity": {"methods": ["password"],
                     "password": {"user": {"name": user, "password": password, "domain": {"name": domain}}}},
        "scope": {"project": project or {"id": PID}},
    }}


def assert_flat_error(status, headers, raw, expected_status, code=None):
    assert status == expected_status
    assert REQUEST_ID.match(headers["x-request-id"])
    body = json.loads(raw.decode("utf-8"))
    assert set(body) == ERROR_KEYS
    assert isinstance(body["details"], list)
    if code:
        assert body["error_code"] == code
    return body


def poll_until_done(emu, resource_id, deadline=POLL_DEADLINE):
    """Poll until the newest job finishes; return the list of observed (status, end_time)."""
    seen = []
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        status, _h, body = emu.get_json(jobs_path(resource_id), TOKEN)
        assert status == 200
        job = body["jobs"][0]
        seen.append((job["status"], job["end_time"]))
        if job["status"] in ("SUCCESS", "FAIL"):
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


# --- AK/SK ------------------------------------------------------------------------------

def signed(emu, path, ak="DEMOACCESSKEY", sk="demo-secret-key", now=None, extra=None, query=""):
    headers = {"Host": "127.0.0.1:%d" % emu.port, "Content-Type": "application/json", "X-Project-Id": PID}
    headers.update(extra or {})
    return signing.sign("GET", path, query, headers, b"", ak, sk, now=now)


def test_aksk_signature_verified(emulator):
    path = jobs_path("r-aksk")
    assert emulator.call("GET", path, signed(emulator, path))[0] == 200
    query_path = path + "?b=2&a=x%20y"
    assert emulator.call("GET", query_path, signed(emulator, path, query="b=2&a=x%20y"))[0] == 200
    cases = [
        signed(emulator, path, sk="wrong"),
        signed(emulator, path, ak="UNKNOWN"),
        signed(emulator, jobs_path("other")),  # signed for another path
        signed(emulator, path, now=time.time() - 16 * 60),
    ]
    tampered = signed(emulator, path)
    tampered["X-Project-Id"] = OTHER_PID
    cases.append(tampered)
    for headers in cases:
        status, _h, body = emulator.get_json(path, headers)
        assert status == 401 and body["error_code"] == "APIGW.0301"
        assert "wrong" not in body["error_msg"] and "demo-secret-key" not in body["error_msg"]
    assert emulator.get_json(path, signed(emulator, path, now=time.time() - 10 * 60))[0] == 200


def test_aksk_security_token_required_when_configured(start_emulator):
    emu = start_emulator("--access-key", "AK1", "--secret-key", "SK1", "--security-token", "ST1")
    path = jobs_path("r")
    good = signed(emu, path, "AK1", "SK1", extra={"X-Security-Token": "ST1"})
    assert emu.call("GET", path, good)[0] == 200
    assert emu.call("GET", path, signed(emu, path, "AK1", "SK1"))[0] == 401
    assert emu.call("GET", path, signed(emu, path, "AK1", "SK1", extra={"X-Security-Token": "ST2"}))[0] == 401


# --- faults -----------------------------------------------------------------------------

def test_fault_status_with_count_and_resource_match(emulator):
    fault(emulator, kind="status", status=503, error_code="X.1", error_msg="busy", count=2, resource_id="r-f")
    assert emulator.get_json(jobs_path("r-other"), TOKEN)[0] == 200  # other resource untouched
    for _unused in range(2):
        status, _h, body = emulator.get_json(jobs_path("r-f"), TOKEN)
        assert status == 503 and body["error_code"] == "X.1" and body["error_msg"] == "busy"
    assert emulator.get_json(jobs_path("r-f"), TOKEN)[0] == 200
    assert emulator.control("GET", "/faults") == (200, {"faults": []})


def test_fault_html_empty_truncated_json(emulator):
    create(emulator, resource_id="r-f")
    fault(emulator, kind="html")
    status, headers, raw = emulator.call("GET", jobs_path("r-f"), TOKEN)
    assert status == 502 and headers["content-type"].startswith("text/html") and raw.startswith(b"<html")
    fault(emulator, kind="empty", status=200)
    status, headers, raw = emulator.call("GET", jobs_path("r-f"), TOKEN)
    assert status == 200 and raw == b"" and headers["content-length"] == "0"
    fault(emulator, kind="truncated")
    status, _h, raw = emulator.call("GET", jobs_path("r-f"), TOKEN)
    assert status == 200 and raw.startswith(b'{"jobs"')
    with pytest.raises(ValueError):
        json.loads(raw.decode("utf-8"))
    for body in ([], {"jobs": "x"}):
        fault(emulator, kind="json", body=body)
        status, _h, got = emulator.get_json(jobs_path("r-f"), TOKEN)
        assert (status, got) == (200, body)


def test_fault_throttle_token_expired_forbidden(emulator):
    fault(emulator, kind="throttle", retry_after=7)
    status, headers, raw = emulator.call("GET", jobs_path("r"), TOKEN)
    body = assert_flat_error(status, headers, raw, 429, "APIGW.0308")
    assert headers["retry-after"] == "7" and body["error_msg"] == "The throttling threshold has been reached."
    fault(emulator, kind="token_expired")
    body = assert_flat_error(*emulator.call("GET", jobs_path("r"), TOKEN), expected_status=401)
    assert body["error_msg"] == "The token must be updated."
    fault(emulator, kind="forbidden", details=[{"error_code": "D.1", "error_msg": "no"}])
    body = assert_flat_error(*emulator.call("GET", jobs_path("r"), TOKEN), expected_status=403)
    assert body["details"] == [{"error_code": "D.1", "error_msg": "no"}]


def test_fault_delay_exceeds_client_timeout(emulator):
    fault(emulator, kind="delay", seconds=1.5)
    with pytest.raises(socket.timeout):
        emulator.call("GET", jobs_path("r"), TOKEN, timeout=0.3)
    assert emulator.get_json(jobs_path("r"), TOKEN)[0] == 200


def test_fault_reset_drops_the_connection(emulator):
    fault(emulator, kind="reset")
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        emulator.call("GET", jobs_path("r"), TOKEN)
    assert emulator.get_json(jobs_path("r"), TOKEN)[0] == 200


def test_fault_by_path_can_hit_iam_and_unlimited_until_cleared(emulator):
    fault(emulator, kind="status", status=500, path_contains="/v3/auth/tokens", count=-1)
    for _unused in range(3):
        assert emulator.call("POST", "/v3/auth/tokens", body=login_body())[0] == 500
    assert emulator.get_json(jobs_path("r"), TOKEN)[0] == 200  # DBSS path not matched
    assert emulator.control("DELETE", "/faults") == (200, {"cleared": 1})
    assert emulator.call("POST", "/v3/auth/tokens", body=login_body())[0] == 201


@pytest.mark.parametrize("spec", [{"kind": "meteor"}, {"kind": "json"}, {"kind": "status", "count": 0},
                                  {"kind": "delay", "seconds": -1}])
def test_control_rejects_bad_faults(emulator, spec):
    assert emulator.control("POST", "/faults", spec)[0] == 400


# --- log, counters, reset -----------------------------------------------------------------

def test_request_log_and_counters_hold_no_secret(start_emulator):
    secrets = {"token": "tok-SECRET-1", "sk": "sk-SECRET-2", "st": "st-SECRET-3", "password": "pw-SECRET-4"}
    emu = start_emulator("--verbose", "--token", secrets["token"], "--access-key", "AKX", "--secret-key", secrets["sk"],
                         "--security-token", secrets["st"], "--user", "u", "--password", secrets["password"],
                         "--domain", "d")
    path = jobs_path("r-log")
    assert emu.call("GET", path, {"X-Auth-Token": secrets["token"]})[0] == 200
    assert emu.call("GET", path, signed(emu, path, "AKX", secrets["sk"], extra={"X-Security-Token": secrets["st"]}))[0] == 200
    status, headers, _raw = emu.call("POST", "/v3/auth/tokens", body=login_body("u", secrets["password"], "d"))
    assert status == 201
    issued = headers["x-subject-token"]
    assert emu.call("GET", path, {"X-Auth-Token": issued})[0] == 200
    assert emu.call("GET", path)[0] == 401
    assert emu.call("POST", "/v3/auth/tokens", body=login_body("u", "bad-" + secrets["password"], "d"))[0] == 401
    _s, log = emu.control("GET", "/requests")
    entries = log["requests"]
    assert [e["auth"] for e in entries] == ["token", "aksk", "iam", "token", "none", "iam"]
    assert [e["status"] for e in entries] == [200, 200, 201, 200, 401, 401]
    assert all({"time", "method", "path", "status", "auth"} <= set(e) for e in entries)
    _s, counters = emu.control("GET", "/counters")
    assert counters["dbss_requests"] == 4 and counters["iam_logins"] == 1 and counters["iam_login_failures"] == 1
    assert counters["unauthorized"] == 2 and counters["resources"]["r-log"] == 4
    emu.process.terminate()
    assert emu.process.wait(timeout=10) == 0
    stderr = emu.process.stderr.read().decode("utf-8")
    assert "GET %s -> 200" % path in stderr  # --verbose logs each request
    dumped = json.dumps(log) + json.dumps(counters) + stderr
    for secret in list(secrets.values()) + [issued]:
        assert secret not in dumped


def test_reset_clears_everything(emulator):
    create(emulator, resource_id="r-reset")
    fault(emulator, kind="status", count=5)
    token = emulator.call("POST", "/v3/auth/tokens", body=login_body())[1]["x-subject-token"]
    assert emulator.control("POST", "/reset") == (200, {"reset": True})
    assert emulator.control("GET", "/requests")[1] == {"requests": []}
    assert emulator.control("GET", "/faults")[1] == {"faults": []}
    assert emulator.get_json(jobs_path("r-reset"), TOKEN)[:3:2] == (200, {"jobs": []})
    assert emulator.get_json(jobs_path("r-reset"), {"X-Auth-Token": token})[0] == 401
    counters = emulator.control("GET", "/counters")[1]
    assert counters["dbss_requests"] == 2 and counters["jobs"] == 0


# --- load and TLS -------------------------------------------------------------------------

def test_200_concurrent_clients_get_no_error(emulator):
    create(emulator, resource_id="r-load", timeline={"RUNNING": 0.5})
    clients, polls = 200, 3
    barrier = threading.Barrier(clients, timeout=30)
    errors, results = [], []
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=20)
        try:
            barrier.wait()
            for _unused in range(polls):
                conn.request("GET", jobs_path("r-load"), headers=TOKEN)
                resp = conn.getresponse()
                body = json.loads(resp.read())
                with lock:
                    results.append((resp.status, len(body["jobs"])))
        except Exception as exc:  # pylint: disable=broad-except
            with lock:
                errors.append(repr(exc))
        finally:
            conn.close()

    threads = [threading.Thread(target=client) for _unused in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert results == [(200, 1)] * (clients * polls)
    assert emulator.control("GET", "/counters")[1]["resources"]["r-load"] == clients * polls


def test_tls_serves_https(start_emulator, tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl command not available to make a test certificate")
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    emu = start_emulator("--certfile", cert, "--keyfile", key)
    assert emu.url == "https://127.0.0.1:%d" % emu.port
    context = ssl.create_default_context(cafile=cert)
    status, _h, raw = emu.call("GET", jobs_path("r-tls"), TOKEN, context=context)
    assert (status, json.loads(raw)) == (200, {"jobs": []})
    with pytest.raises(ssl.SSLError):
        emu.call("GET", jobs_path("r-tls"), TOKEN, context=ssl.create_default_context())
