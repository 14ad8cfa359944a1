# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Acceptance: Huawei's official Python SDK signs requests the emulator's verifier accepts."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

sdk_core = pytest.importorskip("huaweicloudsdkcore")
pytest.importorskip("huaweicloudsdkdbss")

# pylint: disable=wrong-import-position
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkdbss.v1 import DbssClient, ListAuditInstanceJobsNewRequest

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
