# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Readiness beyond the job: the instance wait on a fake clock, the paged
instance list against the scripted server, and the whole run (job, then
instance) through run_jobs_info."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_auth import TokenAuth
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_client import DbssClient
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import (
    DbssApiError,
    DbssConfigError,
    DbssFailure,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_instance_wait import (
    InstanceWaiter,
    InstanceWaitFailed,
    InstanceWaitSpec,
    list_instances,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_instances import (
    DEFAULT_INSTANCE_FAILURE_STATES,
    DEFAULT_INSTANCE_PENDING_STATES,
    DEFAULT_INSTANCE_TARGET_STATES,
    INSTANCE_FIELDS,
    resolve_resources,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs_info import run_jobs_info
from ansible_collections.hwcloud.dbss.tests.unit.scripted_server import EXAMPLE_JOB, Answer, ScriptedServer

PROJECT = "0123456789abcdef0123456789abcdef"
SPEC = InstanceWaitSpec(target_states=DEFAULT_INSTANCE_TARGET_STATES, pending_states=DEFAULT_INSTANCE_PENDING_STATES,
                        failure_states=DEFAULT_INSTANCE_FAILURE_STATES, sleep=2.0, max_sleep=8.0,
                        not_found_timeout=10.0, heartbeat=30.0)


def bean(rid, status, task="NO_TASK", iid=None, name=None):
    return {"id": iid or "inst-" + rid, "name": name or "dbss-" + rid, "resource_id": rid, "status": status,
            "task": task}


class Script:
    """fetch(deadline): each call answers the next entry (a list of beans or an error); the last repeats."""

    def __init__(self, *entries):
        self.entries, self.calls = list(entries), 0

    def __call__(self, deadline):
        self.calls += 1
        entry = self.entries.pop(0) if len(self.entries) > 1 else self.entries[0]
        if isinstance(entry, Exception):
            raise entry
        return entry


def wait(clock, script, rids=("r1",), timeout=600.0, events=None, spec=SPEC):
    waiter = InstanceWaiter(spec, script, clock=clock, sleep=clock.sleep, rng=lambda: 0.0,
                            on_event=None if events is None else events.append)
    start = clock()
    return waiter.wait(list(rids), start, start + timeout)


def test_active_after_build_with_one_list_per_round_for_every_resource(clock):
    building = [bean("r1", "BUILD"), bean("r2", "BUILD")]
    script = Script(building, building, [bean("r1", "ACTIVE"), bean("r2", "BUILD")],
                    [bean("r1", "ACTIVE"), bean("r2", "ACTIVE", task="powering-on")],
                    [bean("r1", "ACTIVE"), bean("r2", "ACTIVE")])
    events = []
    instances, lists = wait(clock, script, rids=("r1", "r2"), events=events)
    assert instances == {"r1": bean("r1", "ACTIVE"), "r2": bean("r2", "ACTIVE")}
    assert lists == script.calls == 5  # one list a round, for both resources
    changes = [(e["resource_id"], e["previous_status"], e["status"], e["task"]) for e in events if "status" in e]
    assert ("r1", "BUILD", "ACTIVE", "NO_TASK") in changes and ("r2", "ACTIVE", "ACTIVE", "NO_TASK") in changes


@pytest.mark.parametrize("status,task", [("ERROR", "NO_TASK"), ("FROZEN", "NO_TASK"), ("DELETED", None),
                                         ("ACTIVE", "delete_wait")])
def test_a_failure_state_fails_fast_naming_the_instance_and_its_state(clock, status, task):
    script = Script([bean("r1", "BUILD")], [bean("r1", status, task=task)])
    with pytest.raises(InstanceWaitFailed) as caught:
        wait(clock, script)
    error = caught.value
    assert error.kind == "instance_failed" and script.calls == 2
    assert "instance inst-r1 (dbss-r1) %s" % status in str(error) and "resource r1" in str(error)
    assert error.fields["instance"]["status"] == status and error.fields["resource_id"] == "r1"


def test_a_state_in_no_list_is_unexpected(clock):
    with pytest.raises(InstanceWaitFailed) as caught:
        wait(clock, Script([bean("r1", "MIGRATING")]))
    assert caught.value.kind == "instance_unexpected_state" and "MIGRATING" in str(caught.value)


def test_an_instance_missing_from_the_list_is_tolerated_then_not_found(clock):
    script = Script([])
    with pytest.raises(InstanceWaitFailed) as caught:
        wait(clock, script)
    assert caught.value.kind == "instance_not_found" and "wait_not_found_timeout is 10 s" in str(caught.value)
    assert 10.0 <= clock() - 1000.0 < 20.0 and script.calls >= 3


def test_an_instance_that_appears_in_time_is_followed(clock):
    script = Script([], [], [bean("r1", "BUILD")], [bean("r1", "ACTIVE")])
    assert wait(clock, script)[0]["r1"]["status"] == "ACTIVE"


def test_transient_errors_are_retried_and_permanent_ones_end_the_wait(clock):
    busy = DbssApiError(503, error_msg="busy")
    assert wait(clock, Script(busy, busy, [bean("r1", "ACTIVE")]))[1] == 3
    denied = DbssApiError(403, error_code="APIGW.0302", error_msg="denied")
    with pytest.raises(InstanceWaitFailed) as caught:
        wait(clock, Script(denied))
    assert caught.value.kind == "api_error" and caught.value.cause is denied


def test_the_deadline_ends_it_naming_each_unready_instance_and_for_how_long(clock):
    with pytest.raises(InstanceWaitFailed) as caught:
        wait(clock, Script([bean("r1", "BUILD"), bean("r2", "ACTIVE")]), rids=("r1", "r2"), timeout=60.0)
    error = caught.value
    assert error.kind == "timeout" and "r1 (instance inst-r1 (dbss-r1) BUILD for 6" in str(error)
    assert "r2" not in str(error).split("unready:")[1] and error.fields["unfinished"] == ["r1"]
    assert 60.0 <= clock() - 1000.0 <= 61.0


def test_backoff_grows_and_heartbeats_keep_the_log_alive(clock):
    events = []
    script = Script(*([[bean("r1", "BUILD")]] * 30 + [[bean("r1", "ACTIVE")]]))
    wait(clock, script, events=events, timeout=3600.0)
    assert max(clock.sleeps) <= 8.0
    beats = [e["elapsed"] for e in events if e.get("event") == "progress"]
    assert beats[0] == 0 and all(b - a <= 30.0 for a, b in zip(beats, beats[1:]))


# -- the paged list and finding instances ----------------------------------------------

@pytest.fixture
def server():
    srv = ScriptedServer()
    yield srv
    srv.close()


def client_for(server, clock):
    return DbssClient(server.url, PROJECT, TokenAuth("tok-unit-1"), timeout=5, max_retries=1, clock=clock,
                      sleep=clock.sleep, rng=lambda: 0.0)


def page(start, count, total):
    return {"instances": [bean("r%d" % n, "ACTIVE") for n in range(start, start + count)], "total": total}


def test_every_page_is_read(server, clock):
    server.queue(Answer(200, page(0, 100, 250)), Answer(200, page(100, 100, 250)), Answer(200, page(200, 50, 250)))
    instances = list_instances(client_for(server, clock))
    assert [b["resource_id"] for b in instances] == ["r%d" % n for n in range(250)]
    assert set(INSTANCE_FIELDS) <= set(instances[0])
    assert [r["path"] for r in server.requests] == [
        "/v2/%s/audit/instances?offset=%d&limit=100" % (PROJECT, offset) for offset in (0, 100, 200)]


def test_a_short_page_ends_the_list_whatever_total_says(server, clock):
    server.queue(Answer(200, page(0, 3, 1000)))
    assert len(list_instances(client_for(server, clock))) == 3 and len(server.requests) == 1


@pytest.mark.parametrize("body", [{"instances": "x"}, {"instances": [1]}, {"instances": [], "total": -1}, []])
def test_a_malformed_page_is_an_error(server, clock, body):
    server.default = Answer(200, body)
    with pytest.raises(DbssApiError) as caught:
        list_instances(client_for(server, clock))
    assert caught.value.malformed


INSTANCES = [bean("r1", "ACTIVE", iid="i-1", name="audit-a"), bean("r2", "BUILD", iid="i-2", name="audit-b"),
             bean("r3", "BUILD", iid="i-3", name="twin"), bean("r4", "BUILD", iid="i-4", name="twin")]


def test_instances_are_found_by_id_and_name():
    assert resolve_resources(INSTANCES, ["i-2"], ["audit-a", "audit-b"]) == ["r2", "r1"]


@pytest.mark.parametrize("ids,names,option,words", [(["i-9"], [], "instance_ids", "no audit instance has the ID i-9"),
                                                    ([], ["nope"], "names", "no audit instance has the name nope"),
                                                    ([], ["twin"], "names", "2 audit instances are named twin")])
def test_an_unknown_or_ambiguous_instance_fails_naming_the_option(ids, names, option, words):
    with pytest.raises(DbssConfigError) as caught:
        resolve_resources(INSTANCES, ids, names)
    assert caught.value.option == option and words in caught.value.rule


# -- the whole run: job, then instance -------------------------------------------------

def params(**extra):
    base = dict(resource_id=None, resource_ids=["r1"], instance_ids=None, names=None, job_id=None, status=None,
                query=None, wait=True, wait_instance=True, wait_timeout=600, wait_delay=0, wait_sleep=1,
                wait_max_sleep=2, wait_not_found_timeout=10, wait_max_rps=100, target_states=["SUCCESS"],
                pending_states=["INIT", "READY", "RUNNING"], failure_states=["FAIL", "ERROR"],
                instance_target_states=["ACTIVE"], instance_pending_states=["BUILD", "HAWAIT", "UPGRADING", "SHUTOFF"],
                instance_failure_states=["ERROR", "FROZEN", "DELETING", "DELETED"], progress_interval=30)
    base.update(extra)
    return base


def run(server, clock, **extra):
    return run_jobs_info(params(**extra), lambda limiter: client_for(server, clock), clock=clock, sleep=clock.sleep,
                         rng=lambda: 0.0)


def job(status):
    return {"jobs": [dict(EXAMPLE_JOB, resource_id="r1", status=status, job_id="j1")]}


def listing(*beans):
    return {"instances": list(beans), "total": len(beans)}


def test_the_job_then_the_instance(server, clock):
    server.queue(Answer(200, job("RUNNING")), Answer(200, job("SUCCESS")), Answer(200, listing(bean("r1", "BUILD"))),
                 Answer(200, listing(bean("r1", "ACTIVE"))))
    result = run(server, clock)
    assert result["states"] == {"r1": "SUCCESS"} and result["instances"]["r1"]["status"] == "ACTIVE"
    assert result["instance_states"] == {"r1": "ACTIVE"} and result["instance_lists"] == 2


def test_a_failed_job_fails_before_any_instance_list(server, clock):
    server.queue(Answer(200, job("FAIL")))
    with pytest.raises(DbssFailure) as caught:
        run(server, clock)
    assert caught.value.to_result()["failure_kind"] == "failed"
    assert not any("/audit/instances" in r["path"] for r in server.requests)


def test_an_instance_in_error_fails_with_the_jobs_facts_too(server, clock):
    server.queue(Answer(200, job("SUCCESS")), Answer(200, listing(bean("r1", "ERROR"))))
    with pytest.raises(DbssFailure) as caught:
        run(server, clock)
    fields = caught.value.to_result()
    assert fields["failure_kind"] == "instance_failed" and fields["instance"]["status"] == "ERROR"
    assert fields["states"] == {"r1": "SUCCESS"} and "unfinished" not in fields
    assert fields["job"]["job_id"] == "j1" and fields["resource_id"] == "r1"


def test_a_refused_instance_list_names_the_permission_and_the_way_out(server, clock):
    server.queue(Answer(200, job("SUCCESS")),
                 Answer(403, {"error_code": "APIGW.0302", "error_msg": "not authorized"}, {"X-Request-Id": "q1"}))
    with pytest.raises(DbssFailure) as caught:
        run(server, clock)
    message, fields = str(caught.value), caught.value.to_result()
    assert "dbss:auditInstance:list" in message and "wait_instance: false" in message
    assert fields["status_code"] == 403 and fields["request_id"] == "q1"


def test_gating_by_name_resolves_before_the_wait(server, clock):
    server.queue(Answer(200, listing(bean("r1", "BUILD", name="audit-prod"))), Answer(200, job("SUCCESS")),
                 Answer(200, listing(bean("r1", "ACTIVE", name="audit-prod"))))
    result = run(server, clock, resource_ids=None, names=["audit-prod"])
    assert result["instances"]["r1"]["name"] == "audit-prod"
    server.queue(Answer(200, listing()))
    with pytest.raises(DbssConfigError) as caught:
        run(server, clock, resource_ids=None, names=["audit-gone"])
    assert caught.value.option == "names"


# -- from a fresh-eyes review -------------------------------------------------------

def test_a_stopped_instance_fails_at_once_and_one_powering_on_is_waited_for(clock):
    with pytest.raises(InstanceWaitFailed) as caught:
        wait(clock, Script([bean("r1", "SHUTOFF")]))
    assert caught.value.kind == "instance_unexpected_state"
    events = []
    script = Script([bean("r1", "SHUTOFF", task="powering-on")], [bean("r1", "ACTIVE")])
    assert wait(clock, script, events=events)[0]["r1"]["status"] == "ACTIVE"
    change = [e for e in events if e.get("previous_status") == "SHUTOFF"][0]
    assert change["previous_task"] == "powering-on" and change["task"] == "NO_TASK"


def test_a_timeout_names_the_last_list_error(clock):
    busy = DbssApiError(503, error_msg="the gateway is busy")
    with pytest.raises(InstanceWaitFailed) as caught:
        wait(clock, Script(busy), timeout=20.0)
    assert caught.value.kind == "timeout" and "the last instance list failed: " in str(caught.value)
    assert "the gateway is busy" in caught.value.fields["errors"]["(instance list)"]


def test_wait_instance_needs_wait(server, clock):
    with pytest.raises(DbssConfigError) as caught:
        run(server, clock, wait=False)
    assert caught.value.option == "wait_instance" and server.requests == []


def test_a_refused_list_while_finding_names_names_the_permission(server, clock):
    server.queue(Answer(403, {"error_code": "APIGW.0302", "error_msg": "not authorized"}))
    with pytest.raises(DbssFailure) as caught:
        run(server, clock, resource_ids=None, names=["audit-prod"])
    assert "dbss:auditInstance:list" in str(caught.value) and caught.value.to_result()["status_code"] == 403
