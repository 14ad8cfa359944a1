# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The action plugin's progress log: which line each waiter event prints, and at
which verbosity."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.hwcloud.dbss.plugins.action import dbss_audit_jobs_info as action

NOW = 1700000000.0  # 2023-11-14 22:13:20 UTC


@pytest.mark.parametrize("seconds,text", [(0, "0s"), (0.4, "0s"), (45.6, "46s"), (150, "2m30s"), (3600, "1h0m0s"),
                                          (3725, "1h2m5s")])
def test_elapsed_as_terraform_writes_it(seconds, text):
    assert action.format_elapsed(seconds) == text


@pytest.mark.parametrize("event,level,line", [
    ({"event": "start", "resources": 20, "timeout": 1800.0, "elapsed": 0.0}, 0,
     "dbss: waiting for 20 resources until 22:43:20 UTC (wait_timeout 30m0s)"),
    ({"event": "start", "resources": 1, "timeout": 90.0, "elapsed": 0.0}, 0,
     "dbss: waiting for 1 resource until 22:14:50 UTC (wait_timeout 1m30s)"),
    ({"event": "progress", "elapsed": 95.0, "counts": {"RUNNING": 12, "SUCCESS": 5, "no job": 1}}, 0,
     "dbss: still waiting [1m35s elapsed]: 12 RUNNING, 5 SUCCESS, 1 no job"),
    ({"resource_id": "r1", "job_id": "j1", "previous_status": "RUNNING", "status": "FAIL", "elapsed": 72.2}, 0,
     "dbss: resource r1 job j1: RUNNING -> FAIL [1m12s elapsed]"),
    ({"resource_id": "r1", "job_id": "j1", "previous_status": None, "status": "INIT", "elapsed": 3}, 0,
     "dbss: resource r1 job j1: new -> INIT [3s elapsed]"),
    ({"resource_id": "r1", "job_id": "j1", "previous_status": None, "status": "RUNNING", "elapsed": 0, "first": True}, 1,
     "dbss: resource r1 job j1: new -> RUNNING [0s elapsed]"),
    ({"resource_id": "r1", "job_id": "j1", "previous_status": "RUNNING", "status": None, "elapsed": 9}, 0,
     "dbss: resource r1 job j1: RUNNING -> gone [9s elapsed]"),
    ({"resource_id": "r1", "error": "HTTP 503", "elapsed": 4}, 1, "dbss: resource r1: HTTP 503; retrying [4s elapsed]"),
    ({"resource_id": "r1", "instance_id": "i1", "previous_status": "BUILD", "status": "ACTIVE", "task": "NO_TASK",
      "elapsed": 61}, 0, "dbss: resource r1 instance i1: BUILD -> ACTIVE [1m1s elapsed]"),
    ({"resource_id": "r1", "instance_id": "i1", "previous_status": "SHUTOFF", "status": "ACTIVE",
      "task": "powering-on", "elapsed": 5}, 0, "dbss: resource r1 instance i1: SHUTOFF -> ACTIVE (task powering-on) [5s elapsed]"),
])
def test_each_event_has_its_line_and_verbosity(event, level, line):
    assert action.describe_event(event, now=lambda: NOW) == (level, line)


class FakeDisplay:
    def __init__(self):
        self.lines = []

    def display(self, line):
        self.lines.append((0, line))

    def v(self, line):
        self.lines.append((1, line))


@pytest.mark.parametrize("progress,levels", [(True, [0, 1, 1]), (False, [1, 1, 1])])
def test_progress_off_moves_every_line_to_v(monkeypatch, progress, levels):
    shown = FakeDisplay()
    monkeypatch.setattr(action, "display", shown)
    for event in ({"event": "progress", "elapsed": 1, "counts": {"INIT": 1}},
                  {"resource_id": "r", "error": "busy", "elapsed": 1},
                  {"resource_id": "r", "job_id": "j", "previous_status": None, "status": "INIT", "first": True}):
        action.show_event(event, progress)
    assert [level for level, _line in shown.lines] == levels
