# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator fault error-body styles and the ERROR job outcome (in process, fake clock)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.hwcloud.dbss.tests.emulator.testkit import Direct, jobs_path, legacy_path

CODE, MSG = "DBSS.X", "boom"
SHAPES = {
    "flat": {"error_code": CODE, "error_msg": MSG, "details": [], "encoded_authorization_message": None},
    "nested": {"error": {"error_code": CODE, "error_msg": MSG}},
    "wrapped": {"dbss_error": {"error_code": CODE, "error_msg": MSG}},
    "camel": {"errorCode": CODE, "errorMsg": MSG},
    "error_message": {"error_code": CODE, "error_message": MSG},
}


@pytest.fixture
def emu(clock):
    return Direct(clock)


@pytest.mark.parametrize("style", sorted(SHAPES))
@pytest.mark.parametrize("path", [jobs_path("r"), legacy_path("r")])
def test_body_style_on_either_path(emu, style, path):
    emu.control("POST", "/faults", {"kind": "status", "status": 500, "error_code": CODE, "error_msg": MSG,
                                    "body_style": style})
    assert emu.get(path)[::2] == (500, SHAPES[style])


def test_default_style_follows_the_path(emu):
    spec = {"kind": "status", "status": 500, "error_code": CODE, "error_msg": MSG, "count": 2}
    emu.control("POST", "/faults", spec)
    assert emu.get(jobs_path("r"))[2] == SHAPES["flat"]
    assert emu.get(legacy_path("r"))[2] == SHAPES["nested"]


def test_throttle_codes_and_styles(emu):
    emu.control("POST", "/faults", {"kind": "throttle", "retry_after": 2, "body_style": "camel"})
    status, headers, body = emu.get(jobs_path("r"))
    assert (status, headers["retry-after"]) == (429, "2")
    assert body == {"errorCode": "APIGW.0308", "errorMsg": "The throttling threshold has been reached."}
    emu.control("POST", "/faults", {"kind": "throttle", "error_code": "APIG.0308", "body_style": "wrapped"})
    assert emu.get(legacy_path("r"))[2]["dbss_error"]["error_code"] == "APIG.0308"
    emu.control("POST", "/faults", {"kind": "token_expired", "body_style": "error_message"})
    assert emu.get(jobs_path("r"))[2] == {"error_code": "APIGW.0307", "error_message": "The token must be updated."}
    emu.control("POST", "/faults", {"kind": "forbidden", "body_style": "nested"})
    assert emu.get(jobs_path("r"))[2] == {"error": {"error_code": "APIGW.0302",
                                                    "error_msg": "The IAM user is not authorized to access the API."}}


def test_body_style_is_described(emu):
    answer = emu.control("POST", "/faults", {"kind": "status", "body_style": "camel"})[1]
    assert answer["fault"]["body_style"] == "camel"


@pytest.mark.parametrize("spec", [{"kind": "status", "body_style": "yaml"}, {"kind": "html", "body_style": "flat"},
                                  {"kind": "json", "body": [], "body_style": "camel"}])
def test_bad_body_style_refused(emu, spec):
    status, answer = emu.control("POST", "/faults", spec)
    assert status == 400 and "body_style" in answer["error"]


def test_job_ending_in_error(emu, clock):
    job = emu.control("POST", "/jobs", {"resource_id": "r-err", "timeline": {"INIT": 1, "RUNNING": 2},
                                        "outcome": "ERROR"})[1]
    seen = []
    for _unused in range(4):
        current = emu.get(jobs_path("r-err"))[2]["jobs"][0]
        seen.append((current["status"], current["end_time"], current["error_code"], current["fail_reason"]))
        clock.advance(1)
    assert seen[:3] == [("INIT", None, None, None), ("RUNNING", None, None, None), ("RUNNING", None, None, None)]
    assert seen[3] == ("ERROR", job["finishes_at"], "DBSS.10020200", "Failed to create the ECS for the audit instance")
    emu.control("POST", "/jobs", {"resource_id": "r-err2", "outcome": "ERROR", "error_code": "DBSS.E",
                                  "fail_reason": "internal error"})
    done = emu.get(legacy_path("r-err2"))[2]["jobs"][0]
    assert (done["status"], done["error_code"], done["fail_reason"]) == ("ERROR", "DBSS.E", "internal error")
    assert done["end_time"] == done["begin_time"]


def test_unknown_outcome_lists_error(emu):
    status, answer = emu.control("POST", "/jobs", {"resource_id": "r", "outcome": "CRASH"})
    assert status == 400 and "ERROR" in answer["error"]
