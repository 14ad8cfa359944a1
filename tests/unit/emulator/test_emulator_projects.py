# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator IAM ``GET /v3/projects``, project overrides and name-scoped logins (in process)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.hwcloud.dbss.tests.emulator.config import derived_id
from ansible_collections.hwcloud.dbss.tests.emulator.testkit import (
    HOST, PID, TOKEN, Direct, jobs_path, login_body, sign_headers)

ID_A = "a" * 32
ID_B = "b" * 32
PROJECT_KEYS = {"id", "name", "domain_id", "enabled", "is_domain", "parent_id", "description", "links"}
UNAUTHORIZED = {"error": {"code": 401, "message": "The request you have made requires authentication.",
                          "title": "Unauthorized"}}


@pytest.fixture
def emu(clock):
    return Direct(clock)


def names_and_ids(body):
    return [(p["name"], p["id"]) for p in body["projects"]]


def login(emu, project):
    status, headers, body = emu.call("POST", "/v3/auth/tokens", body=login_body(project=project))
    return status, headers, body


@pytest.mark.parametrize("name", ["cn-north-4", "eu-west-101", "ap-southeast-3", "cn-north-4_team-a"])
def test_every_region_name_is_one_project(emu, name):
    config = emu.emulator.config
    status, _h, body = emu.get("/v3/projects?name=" + name)
    assert status == 200
    assert names_and_ids(body) == [(name, config.project_id_for_name(name))]
    project = body["projects"][0]
    assert set(project) == PROJECT_KEYS
    assert project["enabled"] is True and project["is_domain"] is False and project["description"] == ""
    assert project["domain_id"] == project["parent_id"] == derived_id("domain", "demo-domain")
    assert project["links"] == {"self": "http://%s/v3/projects/%s" % (HOST, project["id"])}
    assert body["links"] == {"self": "http://%s/v3/projects?name=%s" % (HOST, name), "next": None, "previous": None}


@pytest.mark.parametrize("name", ["", "nowhere", "CN-NORTH-4", "cn-north", "cn-north-4/../x", "x" * 300])
def test_unknown_or_malformed_name_has_no_project(emu, name):
    status, _h, body = emu.get("/v3/projects?name=" + name)
    assert status == 200 and body["projects"] == []


def test_without_name_the_configured_project_is_listed(clock):
    emu = Direct(clock, "--project-name", "eu-west-101", "--project-id", PID)
    assert names_and_ids(emu.get("/v3/projects")[2]) == [("eu-west-101", PID)]
    # --project-id names one project only; other names keep their derived ids
    assert names_and_ids(emu.get("/v3/projects?name=cn-north-4")[2]) == [
        ("cn-north-4", derived_id("project", "cn-north-4"))]
    assert names_and_ids(emu.get("/v3/projects/")[2]) == [("eu-west-101", PID)]


def test_listing_is_authenticated_like_dbss(clock):
    emu = Direct(clock, "--token", "T", "--access-key", "AK", "--secret-key", "SK",
                 "--user", "u", "--password", "p", "--domain", "d")
    assert emu.get("/v3/projects", {"X-Auth-Token": "T"})[0] == 200
    assert emu.signed("/v3/projects", "AK", "SK", query="name=cn-north-4")[2]["projects"]
    for headers in ({}, {"X-Auth-Token": "wrong"}):
        assert emu.get("/v3/projects", headers)[::2] == (401, UNAUTHORIZED)
    assert emu.signed("/v3/projects", "AK", "not-SK")[::2] == (401, UNAUTHORIZED)
    assert emu.signed("/v3/projects", "NOAK", "SK")[0] == 401
    # a query changed after signing breaks the signature
    headers = sign_headers(HOST, "/v3/projects", "AK", "SK", now=clock(), query="name=cn-north-4")
    assert emu.call("GET", "/v3/projects?name=cn-north-4", headers)[0] == 200
    assert emu.call("GET", "/v3/projects?name=eu-west-101", headers)[0] == 401
    # an issued token works until it expires
    _s, issued, _b = emu.call("POST", "/v3/auth/tokens", body=login_body("u", "p", "d"))
    token = {"X-Auth-Token": issued["x-subject-token"]}
    assert emu.get("/v3/projects", token)[0] == 200
    clock.advance(24 * 3600 + 1)
    assert emu.get("/v3/projects", token)[0] == 401


def test_only_get_and_the_log(emu):
    assert emu.call("POST", "/v3/projects", TOKEN, body={})[2]["error_code"] == "APIGW.0101"
    emu.signed("/v3/projects")
    entries = emu.log()
    assert [(e["route"], e["auth"], e["status"]) for e in entries] == [
        ("projects", "token", 404), ("projects", "aksk", 200)]
    counters = emu.control("GET", "/counters")[1]
    assert counters["iam_requests"] == 2 and counters["iam_logins"] == 0 and counters["iam_login_failures"] == 0


def test_overrides_none_or_two_projects_and_reset(emu):
    assert emu.control("POST", "/projects", {"name": "cn-north-4", "ids": []}) == (
        201, {"project": {"name": "cn-north-4", "ids": []}})
    assert emu.get("/v3/projects?name=cn-north-4")[2]["projects"] == []
    assert emu.get("/v3/projects")[2]["projects"] == []
    assert emu.control("POST", "/projects", {"name": "eu-west-101", "ids": [ID_A, ID_B]})[0] == 201
    assert names_and_ids(emu.get("/v3/projects?name=eu-west-101")[2]) == [("eu-west-101", ID_A), ("eu-west-101", ID_B)]
    assert names_and_ids(emu.get("/v3/projects")[2]) == [("eu-west-101", ID_A), ("eu-west-101", ID_B)]
    # a made-up name can be given projects too
    emu.control("POST", "/projects", {"name": "my-lab", "ids": [ID_A]})
    assert names_and_ids(emu.get("/v3/projects?name=my-lab")[2]) == [("my-lab", ID_A)]
    listed = emu.control("GET", "/projects")[1]
    assert listed["overrides"] == {"cn-north-4": [], "eu-west-101": [ID_A, ID_B], "my-lab": [ID_A]}
    assert emu.control("POST", "/projects", {"name": "my-lab", "ids": None})[0] == 201  # back to the default
    assert emu.get("/v3/projects?name=my-lab")[2]["projects"] == []
    assert emu.control("POST", "/reset")[0] == 200
    assert emu.control("GET", "/projects")[1]["overrides"] == {}
    assert len(emu.get("/v3/projects?name=cn-north-4")[2]["projects"]) == 1
    emu.control("POST", "/projects", {"name": "cn-north-4", "ids": []})
    assert emu.control("DELETE", "/projects") == (200, {"cleared": True})
    assert len(emu.get("/v3/projects?name=cn-north-4")[2]["projects"]) == 1


@pytest.mark.parametrize("spec", [[], {"ids": []}, {"name": "", "ids": []}, {"name": "x", "ids": ["short"]},
                                  {"name": "x", "ids": [ID_A, ID_A]}, {"name": "x", "ids": "abc"},
                                  {"name": "x", "ids": [], "typo": 1}])
def test_bad_overrides_are_refused(emu, spec):
    status, body = emu.control("POST", "/projects", spec)
    assert status == 400 and body["error"]


@pytest.mark.parametrize("scope", [{"name": "eu-west-101"},
                                   {"name": "eu-west-101", "domain": {"name": "demo-domain"}}])
def test_login_by_name_carries_the_listed_id(emu, scope):
    listed = emu.get("/v3/projects?name=eu-west-101")[2]["projects"][0]["id"]
    status, headers, body = login(emu, scope)
    assert status == 201 and body["token"]["project"]["id"] == listed
    assert body["token"]["project"]["name"] == "eu-west-101"
    token = {"X-Auth-Token": headers["x-subject-token"]}
    assert emu.get(jobs_path("r", listed), token)[0] == 200


def test_login_follows_overrides(emu):
    emu.control("POST", "/projects", {"name": "cn-north-4", "ids": [ID_B, ID_A]})
    status, _h, body = login(emu, {"name": "cn-north-4"})
    assert status == 201 and body["token"]["project"]["id"] == ID_B  # two projects: the first
    status, _h, body = login(emu, {"id": ID_A})
    assert status == 201 and body["token"]["project"] == {
        "id": ID_A, "name": "cn-north-4", "domain": body["token"]["user"]["domain"]}
    emu.control("POST", "/projects", {"name": "cn-north-4", "ids": []})
    for scope in ({"name": "cn-north-4"}, {"name": "nowhere"}):
        status, headers, body = login(emu, scope)
        assert status == 400 and "x-subject-token" not in headers
        assert body["error"]["code"] == 400 and "Could not find project" in body["error"]["message"]
