# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator audit instances (``GET /v2/{project_id}/audit/instances``) on the fake clock."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

import pytest

from ansible_collections.hwcloud.dbss.tests.emulator.__main__ import main
from ansible_collections.hwcloud.dbss.tests.emulator.instances import INSTANCE_FIELDS
from ansible_collections.hwcloud.dbss.tests.emulator.testkit import (
    OTHER_PID, PID, TOKEN, Direct, jobs_path)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def path(project_id=PID, query=""):
    return "/v2/%s/audit/instances%s" % (project_id, "?" + query if query else "")


@pytest.fixture
def emu(clock):
    return Direct(clock)


def job(emu, resource_id, **spec):
    spec.setdefault("project_id", PID)
    status, answer = emu.control("POST", "/jobs", dict(spec, resource_id=resource_id))
    assert status == 201, answer
    return answer


def listing(emu, project_id=PID, query=""):
    status, _headers, body = emu.get(path(project_id, query))
    assert status == 200, body
    return body


def one(emu, resource_id, project_id=PID):
    found = [i for i in listing(emu, project_id, "limit=1000")["instances"] if i["resource_id"] == resource_id]
    assert len(found) == 1
    return found[0]


def test_every_field_and_plausible_values(emu):
    created = job(emu, "res-1", timeline={"RUNNING": 5})
    body = listing(emu)
    assert set(body) == {"instances", "total"} and body["total"] == 1
    instance = body["instances"][0]
    assert tuple(instance) == INSTANCE_FIELDS
    assert UUID.match(instance["id"]) and instance["id"] != instance["resource_id"] == "res-1"
    assert (instance["status"], instance["task"]) == ("BUILD", "NO_TASK")
    assert instance["name"].startswith("DBSS-") and instance["region"] == "cn-north-4"
    assert instance["created"] == "1970-01-01 00:16:40"  # the fake clock's 1000.0
    for name in ("port_id", "vpc_id", "subnet_id", "security_group_id"):
        assert UUID.match(instance[name])
    assert isinstance(instance["supported_feature"], list)
    assert (created["server_id"], created["server_name"]) == (instance["id"], instance["name"])


def test_build_until_the_job_ends_then_active_after_the_delay(emu, clock):
    job(emu, "r", timeline={"INIT": 1, "RUNNING": 3}, instance={"after": 5})
    seen = []
    for _step in range(10):
        seen.append(one(emu, "r")["status"])
        clock.advance(1)
    assert seen == ["BUILD"] * 9 + ["ACTIVE"]  # the job ends at 4 s, the instance 5 s later
    assert emu.control("GET", "/instances")[1]["instances"][0]["ready_at"] == int((1000 + 9) * 1000)


def test_instance_delay_flag_is_the_default_after(clock):
    emu = Direct(clock, "--instance-delay", "2.5")
    job(emu, "r", timeline={"RUNNING": 1})
    job(emu, "s", timeline={"RUNNING": 1}, instance={"after": 0})
    clock.advance(1)
    assert (one(emu, "r")["status"], one(emu, "s")["status"]) == ("BUILD", "ACTIVE")
    clock.advance(2.5)
    assert one(emu, "r")["status"] == "ACTIVE"


def test_bad_instance_delay_flag(capsys):
    assert main(["--instance-delay", "-1"]) == 2
    assert "--instance-delay" in capsys.readouterr().err


@pytest.mark.parametrize("outcome", ["FAIL", "ERROR"])
def test_failed_job_leaves_the_instance_in_error(emu, clock, outcome):
    job(emu, "r", timeline={"RUNNING": 2}, outcome=outcome, instance={"after": 100, "outcome": "FROZEN"})
    assert one(emu, "r")["status"] == "BUILD"
    clock.advance(2)
    assert (one(emu, "r")["status"], one(emu, "r")["task"]) == ("ERROR", "NO_TASK")


def test_explicit_outcome_task_name_id_and_fields(emu, clock):
    job(emu, "r", instance={"outcome": "FROZEN", "task": "powering-on", "name": "audit-a", "id": "inst-1",
                            "fields": {"comment": "hi", "charge_model": "Period", "extra": 1}})
    instance = one(emu, "r")
    assert (instance["charge_model"], instance["remain_days"]) == ("Period", "30")
    assert (instance["status"], instance["task"], instance["effect"]) == ("FROZEN", "powering-on", 1)
    assert (instance["name"], instance["id"], instance["comment"], instance["extra"]) == ("audit-a", "inst-1", "hi", 1)


def test_period_jobs_give_period_instances(emu, clock):
    job(emu, "r", fields={"charge_mode": "Period"})
    instance = one(emu, "r")
    assert (instance["charge_model"], instance["remain_days"], instance["keep_days"]) == ("Period", "30", "30")
    assert instance["expired"] == "1970-01-31 00:16:40"
    clock.advance(86400 * 29.5)
    assert one(emu, "r")["remain_days"] == "1"


def test_several_jobs_share_one_instance_and_the_newest_drives_it(emu, clock):
    job(emu, "r", outcome="FAIL")
    assert one(emu, "r")["status"] == "ERROR"
    job(emu, "r", timeline={"RUNNING": 3})  # a retry: building again
    assert listing(emu)["total"] == 1 and one(emu, "r")["status"] == "BUILD"
    clock.advance(3)
    assert one(emu, "r")["status"] == "ACTIVE"
    assert len(emu.control("GET", "/jobs")[1]["jobs"]) == 2


def test_no_instance_when_asked(emu):
    job(emu, "r", instance=False)
    assert listing(emu) == {"instances": [], "total": 0}
    assert emu.get(jobs_path("r"))[2]["jobs"][0]["server_name"].startswith("DBSS-emu-")


def test_default_names_are_unique_and_stable_explicit_names_may_repeat(clock):
    names = []
    for _run in range(2):
        emu = Direct(clock)
        emu.control("POST", "/jobs", {"jobs": [{"project_id": PID, "resource_id": "r-%d" % i} for i in range(300)]})
        job(emu, "dup-1", instance={"name": "same"})
        job(emu, "dup-2", instance={"name": "same"})
        names.append([i["name"] for i in listing(emu, query="limit=1000")["instances"]])
    assert names[0] == names[1]
    assert len(set(names[0][:300])) == 300 and names[0][300:] == ["same", "same"]


def test_paging(emu):
    emu.control("POST", "/jobs", {"jobs": [{"project_id": PID, "resource_id": "r-%03d" % i} for i in range(250)]})
    pages = [listing(emu, query="offset=%d&limit=100" % offset) for offset in (0, 100, 200, 300)]
    assert [len(p["instances"]) for p in pages] == [100, 100, 50, 0]
    assert {p["total"] for p in pages} == {250}
    order = [i["resource_id"] for p in pages for i in p["instances"]]
    assert order == ["r-%03d" % i for i in range(250)]  # creation order
    assert len(listing(emu)["instances"]) == 100  # default limit
    assert listing(emu, query="limit=1000")["instances"][0]["resource_id"] == "r-000"
    assert [i["resource_id"] for i in listing(emu, query="offset=5&limit=2")["instances"]] == ["r-005", "r-006"]


@pytest.mark.parametrize("query", ["offset=-1", "offset=x", "offset=", "limit=0", "limit=1001", "limit=-5",
                                   "limit=1.5", "limit=", "offset=+1"])
def test_bad_paging_is_400(emu, query):
    status, _headers, body = emu.get(path(query=query))
    assert status == 400
    assert set(body) == {"error_code", "error_msg", "details", "encoded_authorization_message"}
    assert body["error_code"] == "DBSS.10000001"
    assert emu.log()[-1]["route"] == "instances"


def test_bad_project_id_is_400(emu):
    status, _headers, body = emu.get(path("short"))
    assert (status, body["error_code"]) == (400, "DBSS.10000001")


def test_project_isolation_and_deleted_instances(emu):
    job(emu, "mine")
    job(emu, "theirs", project_id=OTHER_PID)
    job(emu, "gone")
    assert [i["resource_id"] for i in listing(emu)["instances"]] == ["mine", "gone"]
    assert [i["resource_id"] for i in listing(emu, OTHER_PID)["instances"]] == ["theirs"]
    status, answer = emu.control("POST", "/instances", {"resource_id": "gone", "status": "DELETED"})
    assert (status, answer["status"]) == (200, "DELETED")
    assert listing(emu) == {"instances": [one(emu, "mine")], "total": 1}
    assert len(emu.control("GET", "/instances")[1]["instances"]) == 3  # the control API shows it


def test_control_changes_and_creates_instances(emu, clock):
    job(emu, "r")
    answer = emu.control("POST", "/instances", {"resource_id": "r", "project_id": PID, "status": "SHUTOFF",
                                                "task": "powering-on"})[1]
    assert (answer["status"], answer["task"], answer["project_id"]) == ("SHUTOFF", "powering-on", PID)
    answer = emu.control("POST", "/instances", {"id": answer["id"], "status": None, "task": None})[1]
    assert (answer["status"], answer["task"]) == ("ACTIVE", "NO_TASK")
    status, created = emu.control("POST", "/instances", {"resource_id": "new", "project_id": PID, "name": "n"})
    assert (status, created["status"], created["job_id"]) == (201, "ACTIVE", None)
    emu.control("POST", "/instances", {"resource_id": "r", "status": "FROZEN"})
    job(emu, "r", timeline={"RUNNING": 1})  # a new job clears what the control API forced
    assert one(emu, "r")["status"] == "BUILD"
    bulk = emu.control("POST", "/instances", {"instances": [{"resource_id": "r", "task": "rebooting"},
                                                            {"resource_id": "new", "name": "m"}]})
    assert bulk[0] == 200 and [i["name"] for i in bulk[1]["instances"]][1] == "m"
    assert emu.control("GET", "/counters")[1]["instances"] == 2
    emu.control("POST", "/reset")
    assert emu.control("GET", "/instances")[1] == {"instances": []} and listing(emu)["total"] == 0


@pytest.mark.parametrize("spec", [
    {"status": "ACTIVE"}, {"resource_id": "r", "status": "RUNNING"}, {"resource_id": "r", "task": "x"},
    {"resource_id": "r", "typo": 1}, {"resource_id": "r", "after": -1}, {"resource_id": "r", "fields": []},
    {"resource_id": "r", "project_id": "short"}, {"resource_id": ""}, {"id": "nope"},
])
def test_control_refuses_bad_instance_specs(emu, spec):
    status, answer = emu.control("POST", "/instances", spec)
    assert status == 400 and answer["error"]


@pytest.mark.parametrize("instance", [{"outcome": "DONE"}, {"after": "5"}, {"typo": 1}, "yes", {"name": ""}])
def test_jobs_refuse_bad_instance_specs(emu, instance):
    status, answer = emu.control("POST", "/jobs", {"resource_id": "r", "instance": instance})
    assert status == 400 and answer["error"]
    assert emu.control("GET", "/jobs")[1]["jobs"] == []


def test_a_clashing_instance_id_refuses_the_whole_batch(emu):
    job(emu, "a", instance={"id": "inst-a"})
    status, _answer = emu.control("POST", "/jobs", {"jobs": [
        {"project_id": PID, "resource_id": "b"},
        {"project_id": PID, "resource_id": "c", "instance": {"id": "inst-a"}}]})
    assert status == 400
    assert emu.control("POST", "/jobs", {"project_id": PID, "resource_id": "a", "instance": {"id": "other"}})[0] == 400
    assert [i["resource_id"] for i in listing(emu)["instances"]] == ["a"]
    assert len(emu.control("GET", "/jobs")[1]["jobs"]) == 1


def test_authentication_is_required(emu):
    job(emu, "r")
    status, _headers, body = emu.get(path(), {})
    assert (status, body["error_code"]) == (401, "DBSS.10020100")
    assert emu.signed(path(), query="limit=10&offset=0")[0] == 200
    assert emu.signed(path(), sk="wrong")[0] == 401
    login = emu.call("POST", "/v3/auth/tokens", body={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "demo-user", "password": "demo-password", "domain": {"name": "demo-domain"}}}},
        "scope": {"project": {"id": PID}}}})
    assert emu.get(path(), {"X-Auth-Token": login[1]["x-subject-token"]})[2]["total"] == 1
    log = emu.log()
    assert [(e["route"], e["auth"], e["status"], e["resource_id"]) for e in log if e["route"] == "instances"] == [
        ("instances", "none", 401, None), ("instances", "aksk", 200, None), ("instances", "aksk", 401, None),
        ("instances", "token", 200, None)]


def test_quota_counts_the_instances_path(clock):
    clock.now = 6000.0
    emu = Direct(clock, "--requests-per-minute", "2")
    assert emu.get(path())[0] == 200 and emu.get(jobs_path("r"))[0] == 200
    status, headers, body = emu.get(path())
    assert (status, body["error_code"], headers["retry-after"]) == (429, "APIGW.0308", "60")
    assert emu.get(path(OTHER_PID))[0] == 200  # per project
    assert emu.control("GET", "/counters")[1]["paths"] == {"instances": 3, "jobs": 1}


def test_faults_by_path_hit_the_list_faults_by_resource_do_not(emu):
    job(emu, "r")
    emu.control("POST", "/faults", {"kind": "status", "status": 503, "resource_id": "r"})
    assert emu.get(path())[0] == 200
    emu.control("POST", "/faults", {"kind": "throttle", "path_contains": "/audit/instances", "count": 2})
    assert [emu.get(path())[0] for _i in range(3)] == [429, 429, 200]
    assert emu.get(jobs_path("r"))[0] == 503  # the resource fault is still pending for the jobs path
    emu.control("POST", "/faults", {"kind": "truncated", "path_contains": "/audit/instances"})
    status, _headers, raw = emu.get(path(query="limit=1"))
    assert status == 200 and isinstance(raw, bytes) and raw.startswith(b'{"instances": [{"charge_model"')
    emu.control("POST", "/faults", {"kind": "html"})  # no key: every DBSS request
    assert emu.get(path())[0] == 502
    assert [e["fault"] for e in emu.log() if e["route"] == "instances"] == [
        None, "throttle", "throttle", None, "truncated", "html"]


def test_other_methods_and_headers(emu):
    status, _headers, body = emu.call("POST", path(), TOKEN, {})
    assert (status, body["error_code"]) == (404, "APIGW.0101")
    assert emu.get(path() + "/")[0] == 200
    assert emu.control("POST", "/config", {"documented_path": False})[0] == 200
    assert emu.get(path())[0] == 200  # the switch is for the jobs path only


def test_example_mode_has_the_example_instance(clock):
    emu = Direct(clock, "--example")
    instance = listing(emu)["instances"][0]
    assert (instance["id"], instance["name"], instance["status"]) == (
        "0aa8f621-bc19-4822-b66d-7ab9ae3c8693", "DBSS-qct-1220", "ACTIVE")
    emu.control("POST", "/reset")
    assert listing(emu)["total"] == 1
