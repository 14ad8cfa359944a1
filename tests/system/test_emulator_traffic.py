# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""System tests of the emulator: AK/SK verification, faults, request log, load and TLS."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import http.client
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

from emulator.testkit import (OTHER_PID, TOKEN, assert_flat_error, create, fault, jobs_path, login_body,
                              sign_headers)


# --- AK/SK ------------------------------------------------------------------------------

def signed(emu, path, ak="DEMOACCESSKEY", sk="demo-secret-key", now=None, extra=None, query=""):
    return sign_headers("127.0.0.1:%d" % emu.port, path, ak, sk, now, extra, query)


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
