# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_auth import PasswordAuth, TokenAuth
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_client import (
    JOB_FIELDS,
    DbssClient,
    normalise_job,
    parse_retry_after,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import (
    DbssApiError,
    DbssTransportError,
    parse_error_body,
)

from ansible_collections.hwcloud.dbss.tests.unit.scripted_server import EXAMPLE_JOB, Answer, ScriptedServer, jobs

PROJECT = "0123456789abcdef0123456789abcdef"
RESOURCE = EXAMPLE_JOB["resource_id"]
TOKEN = "tok-SECRET-0123456789"


@pytest.fixture
def server():
    srv = ScriptedServer()
    yield srv
    srv.close()


class Sleeps:
    """Records the sleeps of the client instead of sleeping."""

    def __init__(self):
        self.calls = []
        self.now = 0.0

    def __call__(self, seconds):
        self.calls.append(seconds)
        self.now += seconds

    def clock(self):
        return self.now


def make_client(server, max_retries=3, timeout=5.0, rng=lambda: 1.0, auth=None, sleeps=None):
    sleeps = sleeps or Sleeps()
    client = DbssClient(server.url, PROJECT, auth or TokenAuth(TOKEN), timeout=timeout, max_retries=max_retries,
                        sleep=sleeps, clock=sleeps.clock, rng=rng)
    return client, sleeps


def flat_error(code, msg, details=None, encoded=None):
    body = {"error_code": code, "error_msg": msg}
    if details is not None:
        body["details"] = details
    if encoded is not None:
        body["encoded_authorization_message"] = encoded
    return body


def test_example_response_field_for_field(server):
    client, dummy = make_client(server)
    got = client.list_jobs(RESOURCE)
    assert got == [EXAMPLE_JOB]
    assert list(got[0]) == list(JOB_FIELDS)


def test_request_shape_path_headers_and_keep_alive(server):
    client, dummy = make_client(server)
    client.list_jobs(RESOURCE)
    client.list_jobs("other.id_-1")
    first, second = server.requests
    assert first["path"] == "/v1/%s/audit/%s/jobs" % (PROJECT, RESOURCE)
    assert second["path"] == "/v1/%s/audit/other.id_-1/jobs" % PROJECT
    assert first["headers"]["X-Auth-Token"] == TOKEN
    assert first["headers"]["User-Agent"].startswith("hwcloud.dbss/0.1.0 ")
    assert first["client"] == second["client"], "the second call must reuse the keep-alive connection"
    assert client.requests_sent == 2


def test_path_segments_are_percent_encoded(server):
    client, dummy = make_client(server)
    assert client.jobs_url("a/b?c#d e") == server.url + "/v1/%s/audit/a%%2Fb%%3Fc%%23d%%20e/jobs" % PROJECT


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_statuses_are_retried(server, status):
    server.queue(Answer(status, flat_error("DBSS.11000000", "busy"), {"X-Request-Id": "r1"}), jobs(EXAMPLE_JOB))
    client, sleeps = make_client(server)
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB]
    assert len(server.requests) == 2
    assert len(sleeps.calls) == 1


@pytest.mark.parametrize("status,code", [(400, "DBSS.10000001"), (401, "DBSS.10020100"), (403, "DBSS.10020021"), (404, "DBSS.404")])
def test_permanent_statuses_fail_at_once_with_every_field(server, status, code):
    details = [{"error_code": "PDP.1", "error_msg": "denied by policy"}]
    server.queue(Answer(status, flat_error(code, "bad thing", details, "enc-msg"), {"X-Request-Id": "req-42"}))
    client, sleeps = make_client(server)
    with pytest.raises(DbssApiError) as caught:
        client.list_jobs(RESOURCE)
    error = caught.value
    assert (error.status, error.error_code, error.error_msg, error.request_id) == (status, code, "bad thing", "req-42")
    assert error.details == details
    assert error.encoded_authorization_message == "enc-msg"
    assert len(server.requests) == 1 and sleeps.calls == []
    text = str(error)
    for part in ("HTTP %d" % status, code, "bad thing", "req-42", "PDP.1"):
        assert part in text
    assert TOKEN not in text
    assert ("authentication failed (mode: token" in text) == (status == 401)


def test_nested_error_shape(server):
    server.queue(Answer(400, {"error": {"error_code": "DBSS.10020021", "error_msg": "invalid id"}}, {"X-Request-Id": "n1"}))
    client, dummy = make_client(server)
    with pytest.raises(DbssApiError) as caught:
        client.list_jobs(RESOURCE)
    assert (caught.value.error_code, caught.value.error_msg, caught.value.request_id) == ("DBSS.10020021", "invalid id", "n1")


@pytest.mark.parametrize("body,expected", [
    (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "HTML page"),
    (b"", "empty response body"),
    (b'{"error_code": "DBSS.1100', "not valid JSON"),
])
def test_non_json_error_bodies_are_reported_without_traceback(server, body, expected):
    server.queue(*[Answer(502, body, {"X-Request-Id": "gw-1"})] * 3)
    client, sleeps = make_client(server, max_retries=2)
    with pytest.raises(DbssApiError) as caught:
        client.list_jobs(RESOURCE)
    assert caught.value.status == 502
    assert expected in str(caught.value)
    assert "gw-1" in str(caught.value)
    assert len(server.requests) == 3


def test_retries_are_bounded_by_max_retries(server):
    server.queue(*[Answer(503, flat_error("APIGW.0503", "down"))] * 10)
    client, sleeps = make_client(server, max_retries=2)
    with pytest.raises(DbssApiError):
        client.list_jobs(RESOURCE)
    assert len(server.requests) == 3


def test_max_retries_zero_sends_once(server):
    server.queue(Answer(500, flat_error("DBSS.11000000", "internal")))
    client, sleeps = make_client(server, max_retries=0)
    with pytest.raises(DbssApiError) as caught:
        client.list_jobs(RESOURCE)
    assert caught.value.error_code == "DBSS.11000000"
    assert len(server.requests) == 1


def test_backoff_grows_exponentially_with_full_jitter(server):
    server.queue(*[Answer(503, b"")] * 4)
    client, sleeps = make_client(server, max_retries=4, rng=lambda: 1.0)
    client.list_jobs(RESOURCE)
    assert sleeps.calls == [0.5, 1.0, 2.0, 4.0]
    server.queue(*[Answer(503, b"")] * 2)
    client, sleeps = make_client(server, max_retries=4, rng=lambda: 0.25)
    client.list_jobs(RESOURCE)
    assert sleeps.calls == [0.125, 0.25]


def test_retry_after_is_honoured(server):
    server.queue(Answer(429, flat_error("APIGW.0308", "The throttling threshold has been reached"), {"Retry-After": "7"}),
                 jobs(EXAMPLE_JOB))
    client, sleeps = make_client(server)
    client.list_jobs(RESOURCE)
    assert sleeps.calls == [7.0]


def test_throttle_error_is_flagged(server):
    server.queue(*[Answer(429, flat_error("APIGW.0308", "The throttling threshold has been reached"))] * 2)
    client, dummy = make_client(server, max_retries=1)
    with pytest.raises(DbssApiError) as caught:
        client.list_jobs(RESOURCE)
    assert caught.value.throttled and caught.value.transient


def test_deadline_stops_retries_early(server):
    server.queue(*[Answer(503, b"")] * 10)
    client, sleeps = make_client(server, max_retries=10, rng=lambda: 1.0)
    with pytest.raises(DbssApiError):
        client.list_jobs(RESOURCE, deadline=2.0)
    # 0.5 and 1.0 fit before the deadline at 2.0; the next 2.0 s backoff would not.
    assert sleeps.calls == [0.5, 1.0]


def test_read_timeout_is_transient_and_retried(server):
    server.queue(Answer(stall=1.0), jobs(EXAMPLE_JOB))
    client, sleeps = make_client(server, timeout=0.2)
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB]
    assert len(sleeps.calls) == 1


def test_read_timeout_exhausted_names_the_timeout(server):
    server.queue(Answer(stall=1.0), Answer(stall=1.0))
    client, dummy = make_client(server, timeout=0.2, max_retries=1)
    with pytest.raises(DbssTransportError) as caught:
        client.list_jobs(RESOURCE)
    assert "timeout" in str(caught.value) and caught.value.transient


def test_connection_reset_is_retried(server):
    server.queue(Answer(reset=True), jobs(EXAMPLE_JOB))
    client, dummy = make_client(server)
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB]


def test_connection_refused_is_a_transport_error():
    class Closed:
        url = "http://127.0.0.1:9"
    client, dummy = make_client(Closed(), max_retries=1)
    with pytest.raises(DbssTransportError) as caught:
        client.list_jobs(RESOURCE)
    assert "127.0.0.1:9" in str(caught.value)


@pytest.mark.parametrize("body,problem", [
    (b'{"jobs": [{"job_id": "x"', "not valid JSON"),
    (b"[]", "not a JSON object"),
    (b'{"jobs": "nope"}', "no 'jobs' list"),
    (b'{"jobs": [1, 2]}', "not an object"),
])
def test_malformed_success_bodies_are_retried_then_reported(server, body, problem):
    server.queue(*[Answer(200, body, {"X-Request-Id": "m1"})] * 2)
    client, dummy = make_client(server, max_retries=1)
    with pytest.raises(DbssApiError) as caught:
        client.list_jobs(RESOURCE)
    assert problem in str(caught.value) and "m1" in str(caught.value)
    assert caught.value.transient, "a broken 200 body is worth asking again"
    assert RESOURCE in str(caught.value)
    assert len(server.requests) == 2


def test_redirect_is_not_followed(server):
    server.queue(Answer(302, b"", {"Location": "http://127.0.0.2:1/steal"}))
    client, dummy = make_client(server)
    with pytest.raises(DbssApiError) as caught:
        client.list_jobs(RESOURCE)
    assert caught.value.status == 302
    assert len(server.requests) == 1


def test_missing_fields_become_null_and_extra_fields_stay():
    job = normalise_job({"job_id": "j", "status": "RUNNING", "new_field": 1})
    assert [job[name] for name in JOB_FIELDS] == ["j", "RUNNING"] + [None] * 11
    assert job["new_field"] == 1


class RenewingAuth:
    kind = "password"

    def __init__(self):
        self.token = "old"
        self.renewals = 0

    def headers_for(self, method, url, headers, body, send):
        return {"X-Auth-Token": self.token}

    def refresh_after_401(self, send):
        self.renewals += 1
        self.token = "new"
        return True


def test_401_is_retried_once_after_a_renewed_credential(server):
    server.queue(Answer(401, flat_error("DBSS.10020100", "The token must be updated")), jobs(EXAMPLE_JOB))
    auth = RenewingAuth()
    client, dummy = make_client(server, auth=auth)
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB]
    assert [r["headers"]["X-Auth-Token"] for r in server.requests] == ["old", "new"]


def test_401_twice_fails_after_one_renewal(server):
    server.queue(*[Answer(401, flat_error("DBSS.10020100", "The token must be updated"))] * 3)
    auth = RenewingAuth()
    client, dummy = make_client(server, auth=auth)
    with pytest.raises(DbssApiError) as caught:
        client.list_jobs(RESOURCE)
    assert caught.value.status == 401 and auth.renewals == 1
    assert "authentication failed (mode: IAM password" in str(caught.value)
    assert len(server.requests) == 2


@pytest.mark.parametrize("value,expected", [
    ("5", 5.0), ("0", 0.0), ("1.5", 1.5), ("", None), (None, None), ("soon", None), ("-3", 0.0),
    ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now_epoch=1445412480.0) == expected


def test_error_body_without_codes_still_reads():
    error = parse_error_body(500, json.dumps({"unexpected": True}), request_id="x")
    assert "no error_code" in str(error) and error.status == 500


# -- a total time limit per exchange (dbss_transport.RequestWatchdog) -----------

def _trickled_jobs(seconds_per_byte):
    # Each byte comes well inside the read timeout, so only a total limit ends it:
    # the whole answer would take about 100 s.
    return Answer(200, {"jobs": [EXAMPLE_JOB]}, trickle=seconds_per_byte)


def test_a_trickling_answer_is_cut_at_the_request_timeout(server):
    server.queue(_trickled_jobs(0.1))
    client, dummy = make_client(server, timeout=0.5, max_retries=0)
    with pytest.raises(DbssTransportError) as caught:
        client.list_jobs(RESOURCE)
    assert caught.value.transient
    assert "no complete answer" in str(caught.value) and "within 0.5 s" in str(caught.value)


def test_after_a_cut_the_next_attempt_gets_its_answer(server):
    server.queue(_trickled_jobs(0.1), jobs(EXAMPLE_JOB))
    client, sleeps = make_client(server, timeout=0.5, max_retries=1)
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB]
    assert len(server.requests) == 2 and len(sleeps.calls) == 1


def test_a_body_cut_short_is_transient_and_retried(server):
    server.queue(Answer(200, {"jobs": [EXAMPLE_JOB]}, cut_after=10), jobs(EXAMPLE_JOB))
    client, sleeps = make_client(server, max_retries=1)
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB]
    assert len(sleeps.calls) == 1


def test_a_body_cut_short_every_time_ends_as_a_transient_error(server):
    server.queue(*[Answer(200, {"jobs": [EXAMPLE_JOB]}, cut_after=10) for dummy in range(2)])
    client, dummy = make_client(server, max_retries=1)
    with pytest.raises(DbssTransportError) as caught:
        client.list_jobs(RESOURCE)
    assert caught.value.transient and "cut short" in str(caught.value)


# -- IAM password login through the client ---------------------------------------

IAM_401 = {"error": {"code": 401, "message": "The username or password is wrong.", "title": "Unauthorized"}}


def password_client(server, **kwargs):
    auth = PasswordAuth(server.url + "/v3", "alice", "pw-SECRET-0123", "acme", PROJECT)
    return make_client(server, auth=auth, **kwargs)


def test_a_refused_login_is_not_tried_again(server):
    # A second login with the same wrong password only brings an account lockout closer.
    server.queue(Answer(401, IAM_401))
    client, dummy = password_client(server)
    with pytest.raises(DbssApiError) as caught:
        client.list_jobs(RESOURCE)
    assert caught.value.status == 401 and "authentication failed (mode: IAM password)" in str(caught.value)
    assert [r["path"] for r in server.requests] == ["/v3/auth/tokens"]


def test_the_login_keeps_to_the_callers_deadline(server):
    server.queue(*[Answer(503, {"error_code": "APIGW.0201", "error_msg": "busy"})] * 4)
    client, sleeps = password_client(server, max_retries=3)
    with pytest.raises(DbssApiError):
        client.list_jobs(RESOURCE, deadline=2.0)
    # 0.5 and 1.0 fit before the deadline at 2.0; the next 2.0 s backoff would not.
    assert sleeps.calls == [0.5, 1.0]
    assert all(r["path"] == "/v3/auth/tokens" for r in server.requests)


def test_without_a_deadline_retries_stop_where_the_longest_call_would(server):
    # timeout 1 s and 5 retries: 6 timed-out attempts and pauses of 0.5 + 1 + 2 + 4 + 8 s
    # make 21.5 s. Two Retry-After pauses of 10 s fit; a third would end at 30 s.
    throttled = Answer(429, {"error_code": "APIGW.0308", "error_msg": "throttled"}, {"Retry-After": "10"})
    server.queue(*[throttled] * 6)
    client, sleeps = make_client(server, timeout=1.0, max_retries=5)
    assert client.longest_call() == 21.5
    with pytest.raises(DbssApiError) as caught:
        client.list_jobs(RESOURCE)
    assert caught.value.status == 429
    assert sleeps.calls == [10.0, 10.0]


def test_without_a_deadline_every_retry_with_full_backoff_still_fits(server):
    # The worst case the budget is made of: every attempt times out... here every
    # answer is a 503 and every jittered pause is at its longest (rng 1.0).
    server.queue(*[Answer(503, {"error_code": "APIGW.0201", "error_msg": "busy"})] * 3)
    client, sleeps = make_client(server, timeout=1.0, max_retries=2, rng=lambda: 1.0)
    with pytest.raises(DbssApiError):
        client.list_jobs(RESOURCE)
    assert sleeps.calls == [0.5, 1.0] and len(server.requests) == 3
