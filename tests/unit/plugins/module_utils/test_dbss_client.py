# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""DbssClient against the scripted server: retries, error bodies, auth and its
latch, masking, and the request on the wire being the request signed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import threading
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils import dbss_signer
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_auth import AkSkAuth, PasswordAuth, TokenAuth
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_client import DbssClient
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import (
    DbssApiError,
    DbssConfigError,
    DbssTransportError,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs import JOB_FIELDS
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_policy import RETRY_AFTER_CAP, retry_pause
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_secrets import SecretMasker

from ansible_collections.hwcloud.dbss.tests.unit.scripted_server import EXAMPLE_JOB, Answer, ScriptedServer, jobs

PROJECT = "0123456789abcdef0123456789abcdef"
RESOURCE = EXAMPLE_JOB["resource_id"]
TOKEN = "tok-SECRET-0123456789"
AK, SK = "HPUAEXAMPLEACCESSKEY1", "exampleSecretKey0123456789abcdefghijklmn"
PASSWORD = "pw-SECRET-0123"


@pytest.fixture
def server():
    srv = ScriptedServer()
    yield srv
    srv.close()


def make_client(server, clock, auth=None, max_retries=3, timeout=5.0, rng=lambda: 0.0, project=PROJECT, **kwargs):
    url = kwargs.pop("url", None) or server.url
    return DbssClient(url, project, auth or TokenAuth(TOKEN), timeout=timeout, max_retries=max_retries,
                      sleep=clock.sleep, clock=clock, rng=rng, **kwargs)


def error_of(call, *args, **kwargs):
    with pytest.raises((DbssApiError, DbssTransportError)) as caught:
        call(*args, **kwargs)
    return caught.value


def flat(code, msg, **extra):
    return dict({"error_code": code, "error_msg": msg}, **extra)


# -- the request and the answer -------------------------------------------------

def test_example_response_field_for_field(server, clock):
    got = make_client(server, clock).list_jobs(RESOURCE)
    assert got == [EXAMPLE_JOB] and list(got[0]) == list(JOB_FIELDS)


def test_request_shape_and_keep_alive(server, clock):
    server.queue(jobs(EXAMPLE_JOB), jobs())
    client = make_client(server, clock)
    client.list_jobs(RESOURCE)
    client.list_jobs("other.id_-1")
    first, second = server.requests
    assert first["path"] == "/v1/%s/audit/%s/jobs" % (PROJECT, RESOURCE)
    assert second["path"] == "/v1/%s/audit/other.id_-1/jobs" % PROJECT
    assert first["headers"]["X-Auth-Token"] == TOKEN and "Authorization" not in first["headers"]
    assert first["headers"]["User-Agent"].startswith("hwcloud.dbss/0.1.0 ")
    assert first["headers"]["Accept-Encoding"] == "gzip, deflate"
    assert first["client"] == second["client"], "the second call must reuse the keep-alive connection"
    assert client.requests_sent == 2


def test_generic_request_sends_json_and_returns_the_json(server, clock):
    server.queue(Answer(200, {"instances": [{"id": "i1"}], "total": 1}))
    client = make_client(server, clock)
    got = client.request("POST", server.url + "/v2/%s/audit/instances" % PROJECT, body={"a": "\u00e9"})
    assert got == {"instances": [{"id": "i1"}], "total": 1}
    sent = server.requests[0]
    assert json.loads(sent["body"].decode("utf-8")) == {"a": "\u00e9"}
    assert sent["headers"]["Content-Type"].startswith("application/json")


def test_path_segments_are_percent_encoded(server, clock):
    client = make_client(server, clock)
    assert client.jobs_url("a/b?c#d e") == server.url + "/v1/%s/audit/a%%2Fb%%3Fc%%23d%%20e/jobs" % PROJECT


@pytest.mark.parametrize("resource_id", [".", ".."])
def test_dot_resource_ids_are_refused_before_sending(server, clock, resource_id):
    client = make_client(server, clock)
    with pytest.raises(DbssConfigError) as caught:
        client.list_jobs(resource_id)
    assert caught.value.option == "resource_id" and server.requests == []


@pytest.mark.parametrize("path", ["/a/./b", "/a/../b", "/%2E%2E", "/x/%2e"])
def test_dot_segments_in_the_endpoint_are_refused(server, clock, path):
    with pytest.raises(DbssConfigError) as caught:
        make_client(server, clock, url=server.url + path)
    assert caught.value.option == "endpoint"


@pytest.mark.parametrize("body", [b"", b"<a href=x>moved</a>", b'{"x": 1}'])
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_is_not_followed_nor_retried(server, clock, status, body):
    server.queue(Answer(status, body, {"Location": "http://127.0.0.2:1/steal"}))
    error = error_of(make_client(server, clock).list_jobs, RESOURCE)
    assert error.status == status and len(server.requests) == 1 and not error.transient
    assert "redirect to 127.0.0.2:1, not followed" in str(error)


def test_a_login_answered_with_a_redirect_is_not_tried_again(server, clock):
    server.default = Answer(302, b"moved", {"Location": "http://127.0.0.2:1/login"})
    client = make_client(server, clock, auth=PasswordAuth(server.url + "/v3", "alice", PASSWORD, "acme", PROJECT))
    for _count in range(3):
        assert error_of(client.list_jobs, RESOURCE).status == 302
    assert [request["path"] for request in server.requests] == ["/v3/auth/tokens"]


# -- retries ----------------------------------------------------------------------

@pytest.mark.parametrize("status,code", [(429, "APIGW.0308"), (500, "DBSS.11000000"), (502, "APIG.0202"),
                                         (503, "APIGW.0203"), (504, "APIG.0204"), (400, "APIG.0308"),
                                         (403, "APIGW.0308")])
def test_transient_answers_are_retried(server, clock, status, code):
    server.queue(Answer(status, flat(code, "busy"), {"X-Request-Id": "r1"}), jobs(EXAMPLE_JOB))
    client = make_client(server, clock)
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB]
    assert len(server.requests) == 2 and len(clock.sleeps) == 1


@pytest.mark.parametrize("status,code", [(400, "DBSS.10000001"), (404, "DBSS.10020404"), (409, "DBSS.1")])
def test_permanent_answers_fail_at_once_naming_every_field(server, clock, status, code):
    details = [{"error_code": "PDP.1", "error_msg": "denied by policy"}]
    server.queue(Answer(status, flat(code, "bad thing", details=details, encoded_authorization_message="enc"),
                        {"X-Request-Id": "req-42"}))
    error = error_of(make_client(server, clock).list_jobs, RESOURCE)
    assert (error.status, error.error_code, error.error_msg, error.request_id) == (status, code, "bad thing", "req-42")
    assert error.details == details and error.encoded_authorization_message == "enc"
    assert error.from_api and not error.transient
    assert len(server.requests) == 1 and clock.sleeps == []
    for part in ("HTTP %d" % status, code, "bad thing", "req-42", "PDP.1", RESOURCE):
        assert part in str(error)


def test_retries_are_bounded_by_max_retries(server, clock):
    server.queue(*[Answer(503, flat("APIGW.0503", "down"))] * 10)
    error_of(make_client(server, clock, max_retries=2).list_jobs, RESOURCE)
    assert len(server.requests) == 3
    server.queue(Answer(500, flat("DBSS.11000000", "internal")))
    error_of(make_client(server, clock, max_retries=0).list_jobs, RESOURCE)
    assert len(server.requests) == 4


@pytest.mark.parametrize("draw", [0.0, 0.5, 0.999])
def test_backoff_is_the_policys(server, clock, draw):
    server.queue(*[Answer(503, b"")] * 4)
    make_client(server, clock, max_retries=4, rng=lambda: draw).list_jobs(RESOURCE)
    assert clock.sleeps == [retry_pause(n, lambda: draw) for n in range(4)]


def test_retry_after_is_honoured(server, clock):
    server.queue(Answer(429, flat("APIGW.0308", "throttled"), {"Retry-After": "7"}), jobs(EXAMPLE_JOB))
    make_client(server, clock).list_jobs(RESOURCE)
    assert clock.sleeps == [7.0]


@pytest.mark.parametrize("retry_after", ["30", str(int(RETRY_AFTER_CAP) + 1)])
def test_a_retry_after_the_call_cannot_wait_for_ends_it_at_once(server, clock, retry_after):
    # 30 s reaches past the deadline (clock + 20 s); the other is past the cap.
    server.queue(Answer(429, flat("APIGW.0308", "throttled"), {"Retry-After": retry_after}))
    client = make_client(server, clock, timeout=300.0)
    error = error_of(client.list_jobs, RESOURCE, deadline=clock() + (20 if retry_after == "30" else 10000))
    assert error.throttled and error.retry_after == float(retry_after)
    assert clock.sleeps == [] and len(server.requests) == 1


def test_the_deadline_stops_retries(server, clock):
    server.queue(*[Answer(503, b"")] * 10)
    error_of(make_client(server, clock, max_retries=10).list_jobs, RESOURCE, deadline=clock() + 2.0)
    assert clock.sleeps == [0.5, 1.0]  # a 2 s pause would pass the deadline


def test_without_a_deadline_retries_stop_where_the_longest_call_would(server, clock):
    # timeout 10 s, 5 retries: 6 attempts and pauses of 0.5 + 1 + 2 + 4 + 8 s make 75.5 s.
    server.queue(*[Answer(503, flat("APIGW.0203", "busy"), {"Retry-After": "20"})] * 6)
    client = make_client(server, clock, timeout=10.0, max_retries=5)
    assert client.longest_call() == 75.5
    assert error_of(client.list_jobs, RESOURCE).status == 503
    assert clock.sleeps == [20.0, 20.0, 20.0]


# -- throttling: a gateway quota window, outside a wait -------------------------------

def test_throttling_is_retried_through_a_quota_window_past_max_retries(server, clock):
    server.queue(*[Answer(429, flat("APIGW.0308", "throttled"))] * 6)
    client = make_client(server, clock, max_retries=2)
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB]
    assert len(server.requests) == 7 and clock.sleeps == [retry_pause(n, lambda: 0.0) for n in range(6)]


def test_throttling_retries_end_after_the_window_or_at_the_deadline(server, clock):
    server.queue(*[Answer(429, flat("APIG.0308", "throttled"), {"Retry-After": "15"})] * 30)
    client = make_client(server, clock, max_retries=2, timeout=10.0)
    assert client.longest_call() == 71.0  # a window and one more attempt
    assert error_of(client.list_jobs, RESOURCE).throttled
    # Answers at 0, 15, 30, 45 and 60 s: one more pause would end past the 71 s deadline.
    assert clock.sleeps == [15.0] * 4 and len(server.requests) == 5


def test_no_retries_means_none_for_throttling_either(server, clock):
    server.queue(Answer(429, flat("APIGW.0308", "throttled")))
    assert error_of(make_client(server, clock, max_retries=0).list_jobs, RESOURCE).status == 429
    assert len(server.requests) == 1 and make_client(server, clock, max_retries=0).longest_call() == 5.0


# -- where the documented path is not published ---------------------------------------

LEGACY = "/v1/%s/dbss/audit/jobs/%s" % (PROJECT, RESOURCE)


@pytest.mark.parametrize("code", ["APIGW.0101", "APIG.0101"])
def test_an_unpublished_path_falls_back_to_the_providers_for_the_rest_of_the_run(server, clock, code):
    server.queue(Answer(404, flat(code, "The API does not exist or has not been published in the environment.")))
    client = make_client(server, clock)
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB] and client.list_jobs(RESOURCE) == [EXAMPLE_JOB]
    paths = [request["path"] for request in server.requests]
    assert paths == ["/v1/%s/audit/%s/jobs" % (PROJECT, RESOURCE), LEGACY, LEGACY]
    assert len(client.warnings) == 1 and code in client.warnings[0] and "/dbss/audit/jobs/" in client.warnings[0]


def test_an_error_on_the_fallback_path_is_reported_as_it_is(server, clock):
    server.queue(Answer(404, flat("APIGW.0101", "not published")),
                 Answer(404, {"error": {"error_code": "APIGW.0101", "error_msg": "not here either"}}))
    error = error_of(make_client(server, clock).list_jobs, RESOURCE)
    assert (error.status, error.error_code, error.error_msg) == (404, "APIGW.0101", "not here either")
    assert len(server.requests) == 2


# -- finding the project ----------------------------------------------------------------

def projects(*pairs):
    return {"projects": [{"id": pid, "name": name, "enabled": True} for name, pid in pairs]}


def test_aksk_finds_the_project_once_through_iam(server, clock):
    auth = AkSkAuth(AK, "another-secret-key-value", project_name="cn-north-4", iam_url=server.url + "/v3")
    auth.project_option = "region"
    server.queue(Answer(200, projects(("cn-north-4", PROJECT))))
    client = make_client(server, clock, auth=auth, project=None)
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB] and client.list_jobs(RESOURCE) == [EXAMPLE_JOB]
    paths = [request["path"] for request in server.requests]
    assert paths == ["/v3/projects?name=cn-north-4"] + ["/v1/%s/audit/%s/jobs" % (PROJECT, RESOURCE)] * 2
    assert "SDK-HMAC-SHA256" in server.requests[0]["headers"]["Authorization"]
    assert server.requests[1]["headers"]["X-Project-Id"] == PROJECT


def test_iam_accepting_the_credential_does_not_prove_it_to_dbss(server, clock):
    auth = AkSkAuth(AK, "another-secret-key-value", project_name="cn-north-4", iam_url=server.url + "/v3")
    server.queue(Answer(200, projects(("cn-north-4", PROJECT))))
    client = make_client(server, clock, auth=auth, project=None)
    assert client.find_project() == PROJECT and not client.authenticated


def test_an_unusable_project_list_is_not_asked_again(server, clock):
    auth = AkSkAuth(AK, "another-secret-key-value", project_name="cn-north-4", iam_url=server.url + "/v3")
    server.default = Answer(200, {"projects": [{"id": None, "name": "cn-north-4"}]})
    error = error_of(make_client(server, clock, auth=auth, project=None).find_project)
    assert "no usable id" in str(error) and not error.transient and len(server.requests) == 1


def test_the_project_id_is_used_as_iam_sent_it_even_when_it_overlaps_a_secret(server, clock):
    secret = "a-secret-key-" + PROJECT[:16]  # shares 16 characters with the project id
    auth = AkSkAuth(AK, secret, project_name="cn-north-4", iam_url=server.url + "/v3")
    server.queue(Answer(200, projects(("cn-north-4", PROJECT))))
    client = make_client(server, clock, auth=auth, project=None)
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB]
    assert server.requests[1]["path"] == "/v1/%s/audit/%s/jobs" % (PROJECT, RESOURCE)


def test_a_project_not_found_is_asked_once_and_named(server, clock):
    auth = AkSkAuth(AK, SK, project_name="cn-north-4_x", iam_url=server.url + "/v3")
    auth.project_option = "project_name"
    server.queue(Answer(200, projects()))
    client = make_client(server, clock, auth=auth, project=None)
    for _count in range(3):
        with pytest.raises(DbssConfigError) as caught:
            client.list_jobs(RESOURCE)
        assert caught.value.option == "project_name" and "cn-north-4_x" in str(caught.value)
    assert len(server.requests) == 1


def test_a_password_login_scoped_by_name_gives_the_project(server, clock):
    auth = PasswordAuth(server.url + "/v3", "alice", PASSWORD, "acme", project_name="cn-north-4")
    server.queue(Answer(201, {"token": {"project": {"id": PROJECT, "name": "cn-north-4"}}},
                        {"X-Subject-Token": "tok-from-login"}))
    client = make_client(server, clock, auth=auth, project=None)
    assert client.find_project() == PROJECT and client.list_jobs(RESOURCE) == [EXAMPLE_JOB]
    assert [request["path"] for request in server.requests] == [
        "/v3/auth/tokens", "/v1/%s/audit/%s/jobs" % (PROJECT, RESOURCE)]


class FakeLimiter:
    def __init__(self, grant=True):
        self.grant = grant
        self.calls = []

    def acquire(self, deadline):
        self.calls.append("acquire")
        return self.grant

    def on_throttled(self, retry_after=None):
        self.calls.append(("throttled", retry_after))

    def on_success(self):
        self.calls.append("success")


def test_rate_limiter_hooks(server, clock):
    server.queue(Answer(429, flat("APIGW.0308", "throttled"), {"Retry-After": "3"}), jobs(EXAMPLE_JOB))
    limiter = FakeLimiter()
    make_client(server, clock, rate_limiter=limiter).list_jobs(RESOURCE)
    # The Retry-After goes to the shared limit: the gateway's quota is per user, not per call.
    assert limiter.calls == ["acquire", ("throttled", 3.0), "acquire", "success"]


def test_a_rate_limit_past_the_deadline_sends_nothing(server, clock):
    error = error_of(make_client(server, clock, rate_limiter=FakeLimiter(grant=False)).list_jobs, RESOURCE)
    assert "rate limit" in str(error) and server.requests == []


# -- error bodies as Huawei's gateways write them ---------------------------------

@pytest.mark.parametrize("body,code,msg", [
    ({"error_code": "DBSS.10020021", "error_msg": "invalid id"}, "DBSS.10020021", "invalid id"),
    ({"error": {"error_code": "APIG.0101", "error_msg": "no such API"}}, "APIG.0101", "no such API"),
    ({"error": {"code": "APIGW.0101", "message": "no such API"}}, "APIGW.0101", "no such API"),
    ({"fault": {"errorCode": "X.1", "errorMsg": "camel"}}, "X.1", "camel"),
    ({"errorCode": "X.2", "errorMsg": "camel flat"}, "X.2", "camel flat"),
    ({"error_code": "X.3", "error_message": "long name"}, "X.3", "long name"),
    ({"code": "X.4", "message": "short names"}, "X.4", "short names"),
    ({"error": {"code": 400, "message": "IAM style", "title": "Bad Request"}}, None, "IAM style"),
    ({"unexpected": True}, None, "error body has no error code or message"),
])
def test_error_body_shapes(server, clock, body, code, msg):
    server.queue(Answer(400, body, {"X-Request-Id": "n1"}))
    error = error_of(make_client(server, clock).list_jobs, RESOURCE)
    assert (error.error_code, error.error_msg, error.request_id, error.from_api) == (code, msg, "n1", True)


@pytest.mark.parametrize("body,expected", [
    (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "HTML page"),
    (b"", "empty response body"),
    (b'{"error_code": "DBSS.1100', "not valid JSON"),
    (b'"just a string"', "not a JSON object"),
])
def test_non_json_error_bodies_say_the_api_did_not_answer(server, clock, body, expected):
    server.queue(*[Answer(502, body, {"X-Request-Id": "gw-1"})] * 3)
    error = error_of(make_client(server, clock, max_retries=2).list_jobs, RESOURCE)
    assert error.status == 502 and expected in str(error) and "gw-1" in str(error)
    assert not error.from_api and error.transient and len(server.requests) == 3


@pytest.mark.parametrize("body,problem,from_api", [
    (b'{"jobs": [{"job_id": "x"', "not valid JSON", False),
    (b"<html>maintenance</html>", "HTML page", False),
    (b"[]", "not a JSON object", False),
    (b'{"jobs": "nope"}', "not a list", True),
    (b'{"jobs": [1, 2]}', "not an object", True),
    (json.dumps({"jobs": [dict(EXAMPLE_JOB, resource_id="someone-else")]}).encode(), "another resource", True),
])
def test_malformed_success_bodies_are_transient(server, clock, body, problem, from_api):
    server.queue(*[Answer(200, body, {"X-Request-Id": "m1"})] * 2)
    error = error_of(make_client(server, clock, max_retries=1).list_jobs, RESOURCE)
    assert problem in str(error) and "m1" in str(error) and RESOURCE in str(error)
    assert error.malformed and error.transient and error.from_api is from_api
    assert len(server.requests) == 2


# -- authentication: modes, renewal, the latch ---------------------------------

IAM_401 = {"error": {"code": 401, "message": "The username or password is wrong.", "title": "Unauthorized"}}


def logged_in(token):
    return Answer(201, {"token": {"expires_at": "2099-01-01T00:00:00Z"}}, {"X-Subject-Token": token})


def password_client(server, clock, **kwargs):
    auth = PasswordAuth(server.url + "/v3", "alice", PASSWORD, "acme", PROJECT)
    return make_client(server, clock, auth=auth, **kwargs)


def test_password_login_then_renewal_after_401(server, clock):
    server.queue(logged_in("token-1"), Answer(401, flat("DBSS.10020100", "The token must be updated")),
                 logged_in("token-2"), jobs(EXAMPLE_JOB))
    client = password_client(server, clock)
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB]
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB]  # the cached token
    paths = [r["path"] for r in server.requests]
    assert paths == ["/v3/auth/tokens", client.jobs_url(RESOURCE)[len(server.url):]] * 2 + [paths[-1]]
    assert [r["headers"].get("X-Auth-Token") for r in server.requests] == [None, "token-1", None, "token-2", "token-2"]
    login = json.loads(server.requests[0]["body"])
    assert login["auth"]["identity"]["password"]["user"] == {"name": "alice", "password": PASSWORD,
                                                             "domain": {"name": "acme"}}
    assert login["auth"]["scope"] == {"project": {"id": PROJECT}}


def test_a_401_that_renewal_does_not_cure_is_latched(server, clock):
    server.queue(logged_in("token-1"), Answer(401, flat("DBSS.10020100", "expired")), logged_in("token-2"),
                 Answer(401, flat("DBSS.10020100", "expired")))
    client = password_client(server, clock)
    error = error_of(client.list_jobs, RESOURCE)
    assert error.status == 401 and "authentication failed (mode: IAM password" in str(error)
    for _count in range(5):
        assert error_of(client.list_jobs, "another") is error
    assert len(server.requests) == 4 and not client.authenticated


def test_a_refused_login_is_never_repeated(server, clock):
    server.queue(Answer(401, IAM_401, {"X-Request-Id": "iam-1"}))
    client = password_client(server, clock)
    error = error_of(client.list_jobs, RESOURCE)
    assert error.status == 401 and error.login_refused and error.error_code is None
    assert str(error) == ("IAM password login to %s/v3 as user alice in domain acme failed: HTTP 401: authentication "
                          "failed (mode: IAM password (user_name, password, domain_name)): The username or password "
                          "is wrong. (request id: iam-1)" % server.url)
    assert error_of(client.list_jobs, RESOURCE) is error
    assert [r["path"] for r in server.requests] == ["/v3/auth/tokens"]


def test_the_password_echoed_by_iam_is_masked_without_being_told(server, clock):
    server.queue(Answer(400, {"error": {"code": 400, "message": "bad value %s" % PASSWORD}}))
    error = error_of(password_client(server, clock).list_jobs, RESOURCE)
    assert PASSWORD not in str(error) and "bad value ********" in str(error)


def test_the_login_keeps_to_the_callers_deadline(server, clock):
    server.queue(*[Answer(503, flat("APIGW.0201", "busy"))] * 4)
    error = error_of(password_client(server, clock).list_jobs, RESOURCE, deadline=clock() + 2.0)
    assert error.transient and clock.sleeps == [0.5, 1.0]
    assert all(r["path"] == "/v3/auth/tokens" for r in server.requests)


def test_concurrent_first_calls_log_in_once(server, clock):
    server.queue(Answer(201, b"{}", {"X-Subject-Token": "token-1"}, stall=0.2))
    client = password_client(server, clock)
    threads = [threading.Thread(target=client.list_jobs, args=(RESOURCE,)) for _count in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    paths = [r["path"] for r in server.requests]
    assert paths.count("/v3/auth/tokens") == 1 and len(paths) == 9


@pytest.mark.parametrize("status,code,msg,said", [
    (401, "APIGW.0301", "Incorrect IAM authentication information: verify aksk signature fail",
     "more than 15 minutes off"),
    (401, "APIG.0301", "Incorrect IAM authentication information: AK access failed to reach the limit,forbidden",
     "locked for five minutes"),
    (403, "APIGW.0302", "The IAM or app user access is denied", "access denied (mode: AK/SK signing"),
])
def test_a_refused_credential_reaches_the_api_once(server, clock, status, code, msg, said):
    server.default = Answer(status, flat(code, msg), {"X-Request-Id": "gw-9"})
    client = make_client(server, clock, auth=AkSkAuth(AK, SK))
    error = error_of(client.list_jobs, RESOURCE)
    assert said in str(error) and code in str(error) and "gw-9" in str(error) and not error.transient
    for resource in ("r1", "r2", "r3"):
        assert error_of(client.list_jobs, resource) is error
    assert len(server.requests) == 1 and not client.authenticated


@pytest.mark.parametrize("answer,authenticated", [
    (jobs(EXAMPLE_JOB), True),
    (Answer(404, flat("DBSS.10020021", "no such instance")), True),
    (Answer(400, flat("DBSS.10000001", "invalid request")), True),
    (Answer(401, flat("DBSS.10020100", "token authentication failed")), False),
    (Answer(503, flat("APIG.0203", "busy")), False),
    (Answer(502, b"<html>bad gateway</html>"), False),
    (Answer(reset=True), False),
])
def test_authenticated_says_whether_an_answer_proved_the_credential(server, clock, answer, authenticated):
    client = make_client(server, clock, max_retries=0)
    assert not client.authenticated
    server.queue(answer)
    try:
        client.list_jobs(RESOURCE)
    except (DbssApiError, DbssTransportError):
        pass
    assert client.authenticated is authenticated


# -- masked at the source ---------------------------------------------------------

def _secret(length):
    """A secret whose JSON-escaped and URL-encoded forms differ from it."""
    return ('Ab/"\\ \u00e9+%0' * (length // 10 + 1))[:length]


def _forms(secret):
    return {"given": secret, "json": json.dumps(secret)[1:-1], "url": quote(secret, safe="")}


def _leaks(secret, text):
    return [form for form in _forms(secret).values() if any(form[i:i + 8] in text for i in range(len(form) - 7))]


def _echo(place, text):
    """An answer quoting ``text`` at ``place``."""
    if place == "job value":
        return Answer(200, {"jobs": [dict(EXAMPLE_JOB, fail_reason="failed: %s!" % text)]})
    if place == "job key":
        return Answer(200, {"jobs": [dict(EXAMPLE_JOB, **{"x-%s" % text: 1})]})
    if place == "request id":
        return Answer(400, flat("DBSS.1", "bad"), {"X-Request-Id": text.encode("utf-8").decode("latin-1")})
    body = flat("DBSS.1", "bad")
    if place in ("error_msg", "error_code", "encoded_authorization_message"):
        body[place] = "echo %s tail" % text
    else:
        body["details"] = [{"error_code": "D.1", "error_msg": "detail %s" % text}]
    return Answer(403, body)


@pytest.mark.parametrize("length", [8, 9, 64, 1204, 16000])
@pytest.mark.parametrize("form", ["given", "json", "url"])
@pytest.mark.parametrize("place", ["error_msg", "error_code", "details", "encoded_authorization_message",
                                   "job value", "job key", "request id"])
def test_no_run_of_a_secret_survives(server, clock, length, form, place):
    secret = _secret(length)
    if place == "request id" and form == "given":
        form = "url"  # a header value cannot hold the raw form's characters
    server.queue(_echo(place, _forms(secret)[form]))
    client = make_client(server, clock, masker=SecretMasker(["unrelated-secret", secret]))
    try:
        shown = json.dumps(client.list_jobs(RESOURCE), ensure_ascii=False)
    except DbssApiError as error:
        shown = str(error) + json.dumps(error.to_result(), ensure_ascii=False)
    assert "********" in shown
    assert _leaks(secret, shown) == []


# -- the request on the wire is the request signed ---------------------------------

def _server_side_check(received, date_text):
    """What a gateway does: the signature recomputed with Huawei's SDK from the
    request as received, for the headers the client said it signed."""
    sdk_request = pytest.importorskip("huaweicloudsdkcore.sdk_request")
    sdk_credentials = pytest.importorskip("huaweicloudsdkcore.auth.credentials")
    sdk_signer = pytest.importorskip("huaweicloudsdkcore.signer.signer")
    headers = dict((k.lower(), v) for k, v in received["headers"].items())
    names = headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    signed = dict((name, headers[name]) for name in names)
    parts = urlsplit(received["path"])
    request = sdk_request.SdkRequest(method=received["method"], schema="http", host=headers["host"],
                                     resource_path=parts.path, query_params=parse_qsl(parts.query),
                                     header_params=signed, body=received["body"])
    return sdk_signer.Signer(sdk_credentials.BasicCredentials(AK, SK)).sign(request).header_params["Authorization"]


@pytest.mark.parametrize("base", ["", "/dbss", "/a/b/", "/%7Euser/x~y", "/a%20b"])
@pytest.mark.parametrize("resource_id", [RESOURCE, "a.b", "...", "a..b", "-_.", "x" * 128, "a b", "a/b",
                                         "caf\u00e9", "%2E", "~"])
def test_the_path_sent_is_the_path_signed(server, clock, monkeypatch, base, resource_id):
    signed = []

    def recording(method, url, headers, body):
        text = canonical_request(method, url, headers, body)
        signed.append(text)
        return text

    canonical_request = dbss_signer.canonical_request
    monkeypatch.setattr(dbss_signer, "canonical_request", recording)
    date = datetime.datetime(2026, 1, 2, 3, 4, 5)
    client = make_client(server, clock, auth=AkSkAuth(AK, SK, project_id=PROJECT, utcnow=lambda: date),
                         url=server.url + base)
    server.default = Answer(200, {"jobs": []})
    assert client.list_jobs(resource_id) == []
    received = server.requests[-1]
    # Not rewritten: the same path as built, up to percent-encoding of unreserved characters.
    assert unquote(urlsplit(received["path"]).path) == unquote(urlsplit(client.jobs_url(resource_id)).path)
    assert signed[-1].split("\n")[1] == dbss_signer.canonical_uri(urlsplit(received["path"]).path)
    assert received["headers"]["Authorization"] == _server_side_check(received, "20260102T030405Z")


def test_an_older_iam_token_echoed_after_a_new_login_stays_masked(server, clock):
    old = "token-one-" + "A1b2C3d4E5" * 3
    server.queue(logged_in(old), Answer(401, flat("DBSS.10020100", "The token must be updated")),
                 logged_in("token-two-" + "Z9y8X7w6V5" * 3),
                 jobs(dict(EXAMPLE_JOB, fail_reason="previous token was %s" % old)))
    listed = password_client(server, clock).list_jobs(RESOURCE)
    assert old not in json.dumps(listed) and old[:12] not in json.dumps(listed)


def test_cookies_a_server_sets_are_never_sent_back(server, clock):
    server.queue(Answer(200, {"jobs": []}, {"Set-Cookie": "session=" + "x" * 4000}), jobs(EXAMPLE_JOB))
    client = make_client(server, clock)
    client.list_jobs(RESOURCE)
    client.list_jobs(RESOURCE)
    assert "Cookie" not in server.requests[1]["headers"]


def test_a_transport_failure_names_the_operation_and_resource(clock):
    client = DbssClient("http://127.0.0.1:9", PROJECT, TokenAuth(TOKEN), timeout=2, max_retries=0, clock=clock,
                        sleep=clock.sleep)
    error = error_of(client.list_jobs, "res-refused")
    assert str(error).startswith("listing DBSS audit jobs of resource res-refused failed: connection to 127.0.0.1:9")


def test_a_missing_ca_bundle_is_named_and_not_retried(server, clock, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    client = make_client(server, clock, url=server.url.replace("http://", "https://"))
    error = error_of(client.list_jobs, RESOURCE)
    assert "CA bundle" in str(error) and not error.transient and len(server.requests) == 0


def test_urllib3_log_records_are_masked_while_a_client_is_open(server, clock, caplog):
    import logging
    client = make_client(server, clock)
    with caplog.at_level(logging.WARNING, logger="urllib3.connection"):
        logging.getLogger("urllib3.connection").warning("Failed to parse headers: unparsed data: %r", "echo " + TOKEN)
    client.close()
    assert caplog.records and TOKEN not in caplog.text and "********" in caplog.text
