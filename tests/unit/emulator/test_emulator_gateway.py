# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator API gateway: per-project quota (fake clock) and the unpublished documented path."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.hwcloud.dbss.tests.emulator.__main__ import main
from ansible_collections.hwcloud.dbss.tests.emulator.testkit import (
    OTHER_PID, PID, Direct, jobs_path, legacy_path)

NOT_PUBLISHED = {"error_code": "APIGW.0101",
                 "error_msg": "The API does not exist or has not been published in the environment."}


def throttle_msg(limit):
    return "The throttling threshold has been reached: policy user over ratelimit, limit:%d, time:1 minute." % limit


@pytest.fixture
def emu(clock):
    clock.now = 6000.0 + 10  # 10 s into a minute of the server clock
    return Direct(clock, "--requests-per-minute", "3")


def statuses(emu, paths):
    return [emu.get(path)[0] for path in paths]


def test_quota_counts_both_paths_per_project(emu):
    assert statuses(emu, [jobs_path("r"), legacy_path("r"), jobs_path("s")]) == [200, 200, 200]
    status, headers, body = emu.get(jobs_path("r"))
    assert status == 429 and headers["retry-after"] == "50"
    assert body["error_code"] == "APIGW.0308" and body["error_msg"] == throttle_msg(3)
    status, headers, body = emu.get(legacy_path("r"))
    assert status == 429 and body == {"error": {"error_code": "APIGW.0308", "error_msg": throttle_msg(3)}}
    assert statuses(emu, [jobs_path("r", OTHER_PID)] * 3) == [200, 200, 200]  # its own window
    assert emu.get(jobs_path("r", OTHER_PID))[0] == 429


def test_window_resets_on_the_minute_and_throttled_requests_do_not_count(emu, clock):
    statuses(emu, [jobs_path("r")] * 3)
    clock.advance(49.5)  # 59.5 s into the minute
    for _unused in range(5):
        status, headers, _b = emu.get(jobs_path("r"))
        assert status == 429 and headers["retry-after"] == "1"
    clock.advance(0.5)  # the next minute: a full quota again, the 429s did not use any of it
    assert statuses(emu, [jobs_path("r")] * 4) == [200, 200, 200, 429]
    quota = emu.control("GET", "/quota")[1]
    assert quota == {"requests_per_minute": 3, "window_seconds": 60, "window_resets_at": 6120, "used": {PID: 3}}


def test_throttled_requests_are_logged_and_counted(emu):
    statuses(emu, [jobs_path("r")] * 5)
    log = emu.log()
    assert [e["status"] for e in log] == [200, 200, 200, 429, 429]
    assert all(e["fault"] is None and e["route"] == "jobs" for e in log)
    counters = emu.control("GET", "/counters")[1]
    assert counters["throttled"] == 2 and counters["status"]["429"] == 2


def test_unauthenticated_faulted_and_iam_requests_are_not_counted(emu):
    assert emu.get(jobs_path("r"), {})[0] == 401
    emu.control("POST", "/faults", {"kind": "status", "status": 503})
    assert emu.get(jobs_path("r"))[0] == 503
    emu.get("/v3/projects")
    assert statuses(emu, [jobs_path("r")] * 4) == [200, 200, 200, 429]


def test_quota_control_and_reset(emu):
    assert emu.control("POST", "/quota", {"requests_per_minute": 1})[1]["requests_per_minute"] == 1
    assert statuses(emu, [jobs_path("r")] * 2) == [200, 429]
    assert emu.get(jobs_path("r"))[2]["error_msg"] == throttle_msg(1)
    for off in (0, None):
        emu.control("POST", "/quota", {"requests_per_minute": 1})
        assert emu.control("POST", "/quota", {"requests_per_minute": off})[1]["requests_per_minute"] == 0
        assert statuses(emu, [jobs_path("r")] * 5) == [200] * 5
    assert emu.control("POST", "/config", {"requests_per_minute": 2})[1] == {
        "documented_path": True, "requests_per_minute": 2}
    assert emu.control("POST", "/reset")[0] == 200
    assert emu.control("GET", "/config")[1] == {"documented_path": True, "requests_per_minute": 3}  # the CLI value


@pytest.mark.parametrize("path, body", [
    ("/quota", {"requests_per_minute": -1}), ("/quota", {"requests_per_minute": 1.5}),
    ("/quota", {"requests_per_minute": True}), ("/quota", {}), ("/quota", {"rpm": 1}),
    ("/config", {"documented_path": "no"}), ("/config", {"typo": 1}), ("/config", {}),
])
def test_bad_settings_are_refused(emu, path, body):
    status, answer = emu.control("POST", path, body)
    assert status == 400 and answer["error"]


def test_no_quota_by_default(clock):
    emu = Direct(clock)
    assert statuses(emu, [jobs_path("r")] * 50) == [200] * 50
    assert emu.control("GET", "/config")[1] == {"documented_path": True, "requests_per_minute": 0}


def test_unpublished_documented_path(clock):
    emu = Direct(clock)
    assert emu.control("POST", "/config", {"documented_path": False})[1]["documented_path"] is False
    for headers in (None, {}):  # before authentication
        assert emu.get(jobs_path("r"), headers)[::2] == (404, NOT_PUBLISHED)
    assert emu.get(legacy_path("r"))[::2] == (200, {"jobs": []})
    assert [e["status"] for e in emu.log()] == [404, 404, 200]
    emu.control("POST", "/reset")
    assert emu.get(jobs_path("r"))[0] == 200


def test_no_documented_path_flag(clock):
    emu = Direct(clock, "--no-documented-path", "--requests-per-minute", "0")
    assert emu.get(jobs_path("r"))[::2] == (404, NOT_PUBLISHED)
    assert emu.get(legacy_path("r"))[0] == 200
    emu.control("POST", "/config", {"documented_path": True})
    assert emu.get(jobs_path("r"))[0] == 200
    emu.control("POST", "/reset")
    assert emu.get(jobs_path("r"))[0] == 404


def test_negative_quota_flag_is_refused(capsys):
    assert main(["--requests-per-minute", "-1"]) == 2
    assert "--requests-per-minute" in capsys.readouterr().err
