# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Acceptance: Huawei's official Python SDK as a client of the emulator.

Its AK/SK signatures are accepted, and without a project id it finds the project
through the emulator's IAM ``GET /v3/projects``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

import pytest

sdk_core = pytest.importorskip("huaweicloudsdkcore")
pytest.importorskip("huaweicloudsdkdbss")

# pylint: disable=wrong-import-position
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, SdkException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkdbss.v1 import (AuditInstanceBean, DbssClient, ListAuditInstanceJobsNewRequest,
                                   ListAuditInstanceJobsRequest, ListAuditInstancesLastRequest)

from emulator.instances import INSTANCE_FIELDS
from emulator.jobs import JOB_FIELDS

PID = "0123456789abcdef0123456789abcdef"


def client(url, ak, sk, security_token=None):
    credentials = BasicCredentials(ak, sk, PID)
    if security_token is not None:
        credentials = credentials.with_security_token(security_token)
    config = HttpConfig.get_default_config()
    config.timeout = (5, 10)
    return DbssClient.new_builder().with_http_config(config).with_credentials(credentials).with_endpoint(url).build()


def list_jobs(sdk, resource_id):
    return sdk.list_audit_instance_jobs_new(ListAuditInstanceJobsNewRequest(resource_id=resource_id))


def test_sdk_signed_request_is_accepted_and_every_field_parsed(emulator):
    fields = {"job_type": "create", "ha_id": "ha-1", "ha_name": "ha-name", "charge_mode": "Period"}
    status, created = emulator.control("POST", "/jobs", {
        "project_id": PID, "resource_id": "sdk-res", "outcome": "FAIL", "fields": fields})
    assert status == 201
    response = list_jobs(client(emulator.url, "DEMOACCESSKEY", "demo-secret-key"), "sdk-res")
    assert response.status_code == 200
    assert len(response.jobs) == 1
    parsed = response.jobs[0].to_dict()
    expected = dict((name, created[name]) for name in JOB_FIELDS)
    assert all(value is not None for value in expected.values())
    assert parsed == expected
    log = emulator.control("GET", "/requests")[1]["requests"]
    assert [(e["auth"], e["status"]) for e in log] == [("aksk", 200)]


def test_sdk_wrong_secret_key_gets_401(emulator):
    with pytest.raises(ClientRequestException) as caught:
        list_jobs(client(emulator.url, "DEMOACCESSKEY", "not-the-secret"), "sdk-res")
    assert caught.value.status_code == 401
    assert caught.value.error_code == "APIGW.0301"
    assert "not-the-secret" not in str(caught.value)


def test_sdk_temporary_credentials_with_security_token(start_emulator):
    emu = start_emulator("--access-key", "TMPAK", "--secret-key", "TMPSK", "--security-token", "TMPST")
    assert list_jobs(client(emu.url, "TMPAK", "TMPSK", "TMPST"), "r").status_code == 200
    for token in (None, "OTHER"):
        with pytest.raises(ClientRequestException) as caught:
            list_jobs(client(emu.url, "TMPAK", "TMPSK", token), "r")
        assert caught.value.status_code == 401


# --- the SDK finds the project id through the emulator's IAM -------------------------------

@pytest.fixture
def fresh_sdk_cache(monkeypatch):
    """The SDK caches project ids per access key and region for the process: start empty."""
    monkeypatch.setattr(BasicCredentials, "_CACHE", {})
    monkeypatch.delenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", raising=False)


def regional_client(url, region="cn-north-4", iam_endpoint=None):
    """BasicCredentials(ak, sk) without a project id: build() asks IAM for the region's project."""
    credentials = BasicCredentials("DEMOACCESSKEY", "demo-secret-key")
    if iam_endpoint is not None:
        credentials = credentials.with_iam_endpoint(iam_endpoint)
    config = HttpConfig.get_default_config()
    config.timeout = (5, 10)
    return (DbssClient.new_builder().with_http_config(config).with_credentials(credentials)
            .with_region(Region(region, url)).build())


def projects_of(emu, name):
    return [p["id"] for p in emu.get_json("/v3/projects?name=" + name, {"X-Auth-Token": "demo-token"})[2]["projects"]]


@pytest.mark.filterwarnings("ignore:Method 'list_audit_instance_jobs' of DbssClient is deprecated")
@pytest.mark.parametrize("region", ["cn-north-4", "eu-west-101"])
def test_sdk_without_project_id_finds_it_through_iam(emulator, fresh_sdk_cache, region):
    project_id = projects_of(emulator, region)[0]
    created = emulator.control("POST", "/jobs", {"project_id": project_id, "resource_id": "sdk-iam"})[1]
    sdk = regional_client(emulator.url, region, iam_endpoint=emulator.url)
    response = sdk.list_audit_instance_jobs(ListAuditInstanceJobsRequest(resource_id="sdk-iam"))
    assert [job.job_id for job in response.jobs] == [created["job_id"]]
    log = emulator.control("GET", "/requests")[1]["requests"]
    assert [(e["route"], e["auth"], e["status"]) for e in log[-2:]] == [
        ("projects", "aksk", 200), ("legacy", "aksk", 200)]
    assert log[-1]["path"] == "/v1/%s/dbss/audit/jobs/sdk-iam" % project_id


def test_sdk_iam_endpoint_from_the_environment(emulator, fresh_sdk_cache, monkeypatch):
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", emulator.url)
    project_id = projects_of(emulator, "ap-southeast-3")[0]
    sdk = regional_client(emulator.url, "ap-southeast-3")
    assert sdk.list_audit_instance_jobs_new(ListAuditInstanceJobsNewRequest(resource_id="r")).jobs == []
    assert emulator.control("GET", "/requests")[1]["requests"][-1]["path"] == "/v1/%s/audit/r/jobs" % project_id


def test_sdk_no_project_for_the_region(emulator, fresh_sdk_cache):
    emulator.control("POST", "/projects", {"name": "cn-north-4", "ids": []})
    with pytest.raises(SdkException, match="Failed to get project id of region 'cn-north-4'"):
        regional_client(emulator.url, iam_endpoint=emulator.url)


def test_sdk_two_projects_for_the_region(emulator, fresh_sdk_cache):
    ids = ["1" * 32, "2" * 32]
    emulator.control("POST", "/projects", {"name": "cn-north-4", "ids": ids})
    with pytest.raises(SdkException, match="Multiple project ids found: \\[%s\\]" % ",".join(ids)):
        regional_client(emulator.url, iam_endpoint=emulator.url)


def test_sdk_reads_an_error_job(emulator):
    emulator.control("POST", "/jobs", {"project_id": PID, "resource_id": "sdk-err", "outcome": "ERROR",
                                       "error_code": "DBSS.E1", "fail_reason": "internal error"})
    job = list_jobs(client(emulator.url, "DEMOACCESSKEY", "demo-secret-key"), "sdk-err").jobs[0]
    assert (job.status, job.error_code, job.fail_reason) == ("ERROR", "DBSS.E1", "internal error")
    assert job.end_time is not None


# --- audit instances: GET /v2/{project_id}/audit/instances (list_audit_instances_last) -----

def list_instances(sdk, offset=None, limit=None):
    return sdk.list_audit_instances_last(ListAuditInstancesLastRequest(offset=offset, limit=limit))


def test_sdk_lists_instances_page_by_page(emulator):
    specs = [{"project_id": PID, "resource_id": "sdk-inst-%03d" % i} for i in range(250)]
    specs[7]["fields"] = {"charge_mode": "Period"}
    specs.append({"project_id": "f" * 32, "resource_id": "other-project"})
    assert emulator.control("POST", "/jobs", {"jobs": specs})[0] == 201
    sdk = client(emulator.url, "DEMOACCESSKEY", "demo-secret-key")
    pages = [list_instances(sdk, str(offset), "100") for offset in (0, 100, 200)]
    assert [(p.status_code, p.total, len(p.instances)) for p in pages] == [
        (200, 250, 100), (200, 250, 100), (200, 250, 50)]
    parsed = [bean.to_dict() for page in pages for bean in page.instances]
    assert [i["resource_id"] for i in parsed] == ["sdk-inst-%03d" % i for i in range(250)]
    assert set(AuditInstanceBean.openapi_types) == set(INSTANCE_FIELDS)
    known = emulator.control("GET", "/instances")[1]["instances"]
    assert parsed == [dict((name, i[name]) for name in INSTANCE_FIELDS) for i in known if i["project_id"] == PID]
    period = parsed[7]
    optional = ("connect_ipv6", "new_version", "effect")  # null: no IPv6, no upgrade, not frozen
    assert all(value is not None for name, value in period.items() if name not in optional)
    assert isinstance(period["cpu"], int) and period["supported_feature"]
    assert list_instances(sdk).total == 250 and len(list_instances(sdk).instances) == 100  # default limit
    assert len(list_instances(sdk, "0", "1000").instances) == 250
    log = emulator.control("GET", "/requests")[1]["requests"]
    assert {(e["route"], e["auth"], e["status"]) for e in log} == {("instances", "aksk", 200)}


def test_sdk_bad_paging_is_a_400(emulator):
    with pytest.raises(ClientRequestException) as caught:
        list_instances(client(emulator.url, "DEMOACCESSKEY", "demo-secret-key"), "0", "1001")
    assert (caught.value.status_code, caught.value.error_code) == (400, "DBSS.10000001")


def test_sdk_sees_an_instance_go_from_build_to_active(emulator):
    emulator.control("POST", "/jobs", {"project_id": PID, "resource_id": "sdk-life", "timeline": {"RUNNING": 0.4},
                                       "instance": {"after": 0.4, "name": "life"}})
    sdk = client(emulator.url, "DEMOACCESSKEY", "demo-secret-key")
    seen = []
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and (not seen or seen[-1][1] != "ACTIVE"):
        instance = list_instances(sdk).instances[0]
        job = list_jobs(sdk, "sdk-life").jobs[0]
        seen.append((job.status, instance.status, instance.task))
        time.sleep(0.05)
    assert seen[0] == ("RUNNING", "BUILD", "NO_TASK")
    assert ("SUCCESS", "BUILD", "NO_TASK") in seen  # the job ended, the instance is not ready yet
    assert seen[-1] == ("SUCCESS", "ACTIVE", "NO_TASK")
    assert instance.name == job.server_name == "life" and instance.id == job.server_id
