# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""dbss_auth: choosing the mode, and the auth objects applied to real
prepared requests (the IAM login through a fake sender)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import hmac
import json
import threading
from collections import namedtuple

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_auth import (
    AkSkAuth,
    PasswordAuth,
    TokenAuth,
    project_from_list,
    select_auth,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssApiError, DbssConfigError

TOKEN = "MIIT0kenSecretValue-abc123"
AK = "AKEXAMPLEVALUE0000001"
SK = "SkSecretValue-never-printed-0123456789"
STS = "StsSecretValue-never-printed"
PASSWORD = "P@ssw0rd-never-printed!"
PID = "0123456789abcdef0123456789abcdef"
IAM = "https://iam.example.test/v3"
SECRETS = (TOKEN, SK, STS, PASSWORD)
FIXED = datetime.datetime(2024, 2, 29, 12, 30, 45)
JOBS_URL = "https://dbss.cn-north-4.myhuaweicloud.com/v1/%s/audit/r1/jobs" % PID
ENV = {"auth_token": ["HW_AUTH_TOKEN", "OS_AUTH_TOKEN"], "secret_key": ["HW_SECRET_KEY"],
       "access_key": ["HW_ACCESS_KEY"], "auth_url": ["HW_AUTH_URL"], "region": ["HW_REGION_NAME"]}
PASSWORD_SET = dict(user_name="alice", password=PASSWORD, domain_name="acme", project_id=PID, region="cn-north-4")


def params(**kwargs):
    base = dict.fromkeys(("auth_token", "access_key", "secret_key", "security_token", "auth_url", "user_name",
                          "password", "domain_name", "project_id", "project_name", "region", "cloud"))
    base.update(kwargs)
    return base


def config_error(**kwargs):
    with pytest.raises(DbssConfigError) as caught:
        select_auth(params(**kwargs), env_names=ENV)
    return caught.value


def password_set(**overrides):
    """PASSWORD_SET with some values replaced."""
    given = dict(PASSWORD_SET)
    given.update(overrides)
    return given


def applied(auth, method="GET", url=JOBS_URL, headers=None, data=None):
    """The request as requests would send it: prepared, session headers and all, auth applied."""
    session = requests.Session()
    return session.prepare_request(requests.Request(method, url, headers=headers, data=data, auth=auth))


# -- select_auth: precedence -----------------------------------------------------

@pytest.mark.parametrize("given,kind", [
    (dict(auth_token=TOKEN), "token"),
    (dict(auth_token=TOKEN, access_key=AK, secret_key=SK, **PASSWORD_SET), "token"),
    (dict(access_key=AK, secret_key=SK, **PASSWORD_SET), "aksk"),
    (dict(access_key=AK, secret_key=SK), "aksk"),
    (dict(PASSWORD_SET), "password"),
    (dict(auth_token="", access_key="", secret_key="", security_token="", auth_url="", **PASSWORD_SET), "password"),
    (dict(auth_token=TOKEN, auth_url=IAM, domain_name="acme"), "token"),
    (dict(access_key=AK, secret_key=SK, auth_url=IAM, domain_name="acme"), "aksk"),
])
def test_the_first_complete_mode_wins(given, kind):
    options = params(project_id=PID)
    options.update(given)
    assert select_auth(options).kind == kind


@pytest.mark.parametrize("complete", [dict(auth_token=TOKEN), dict(access_key=AK, secret_key=SK)])
@pytest.mark.parametrize("stray", [dict(user_name="admin"), dict(password=PASSWORD), dict(domain_name="acme"),
                                   dict(user_name="admin", password=PASSWORD)])
def test_a_stray_password_set_does_not_break_a_complete_token_or_aksk(complete, stray):
    """As the Terraform provider: OS_USERNAME / OS_PASSWORD of an OpenStack environment."""
    options = params(project_id=PID, **complete)
    options.update(stray)
    assert select_auth(options).kind == ("token" if "auth_token" in complete else "aksk")


def test_missing_keys_count_as_unset():
    assert select_auth({"auth_token": TOKEN, "project_id": PID}).kind == "token"


# -- the project: given, or found by name -------------------------------------------

def test_a_token_needs_project_id_and_says_why():
    err = config_error(auth_token=TOKEN, region="cn-north-4", project_name="cn-north-4")
    assert err.option == "project_id" and "token" in err.rule


@pytest.mark.parametrize("given,name,option,iam", [
    (dict(region="cn-north-4"), "cn-north-4", "region", "https://iam.cn-north-4.myhuaweicloud.com/v3"),
    (dict(region="cn-north-4", project_name="cn-north-4_audit"), "cn-north-4_audit", "project_name",
     "https://iam.cn-north-4.myhuaweicloud.com/v3"),
    (dict(region="cn-south-4"), "cn-south-4", "region", "https://iam.myhuaweicloud.com/v3"),
    (dict(region="eu-west-101"), "eu-west-101", "region", "https://iam.eu-west-101.myhuaweicloud.eu/v3"),
    (dict(project_name="p1", auth_url="http://127.0.0.1:9/"), "p1", "project_name", "http://127.0.0.1:9/v3"),
])
def test_aksk_without_project_id_finds_it_by_name(given, name, option, iam):
    auth = select_auth(params(access_key=AK, secret_key=SK, **given))
    assert (auth.project_id, auth.project_name, auth.project_option, auth.iam_url) == (None, name, option, iam)
    assert select_auth(params(access_key=AK, secret_key=SK, project_id=PID, **given)).project_name is None


NO_PROJECT_SETS = [dict(access_key=AK, secret_key=SK), dict(PASSWORD_SET, project_id=None, region=None, auth_url=IAM)]


@pytest.mark.parametrize("given", NO_PROJECT_SETS)
def test_no_project_and_nothing_to_find_it_by(given):
    err = config_error(**given)
    assert err.option == "project_id" and "project_name nor region" in err.rule


def test_a_project_name_is_checked():
    err = config_error(access_key=AK, secret_key=SK, project_name="a b", region="cn-north-4")
    assert err.option == "project_name"


def test_password_login_scoped_by_name_takes_the_tokens_project():
    answers = []

    def iam(method, url, headers, body):
        answers.append(json.loads(body)["auth"]["scope"])
        return Answer(201, CaseInsensitiveDict({"X-Subject-Token": "tok-1"}),
                      {"token": {"project": {"id": PID, "name": "cn-north-4"}}})

    auth = select_auth(params(**password_set(project_id=None)))
    auth.bind(iam)
    assert auth.project_id is None and auth.token() == "tok-1" and auth.project_id == PID
    assert answers == [{"project": {"name": "cn-north-4"}}]


@pytest.mark.parametrize("data", [None, {}, {"token": {}}, {"token": {"project": {"id": "short"}}}, [1]])
def test_a_token_without_a_usable_project_id(data):
    auth = select_auth(params(**password_set(project_id=None)))
    auth.bind(lambda *args: Answer(201, CaseInsensitiveDict({"X-Subject-Token": "tok-1"}), data))
    with pytest.raises(DbssApiError) as caught:
        auth.token()
    assert "token.project.id" in str(caught.value) and "cn-north-4" in str(caught.value)


OTHER = "fedcba9876543210fedcba9876543210"


@pytest.mark.parametrize("body,found", [
    ({"projects": [{"id": PID, "name": "cn-north-4"}]}, PID),
    ({"projects": [{"id": OTHER, "name": "cn-north-4_x"}, {"id": PID, "name": "cn-north-4"}]}, PID),
])
def test_project_from_list(body, found):
    assert project_from_list(body, "cn-north-4", "region") == found


@pytest.mark.parametrize("body,words", [
    ({"projects": []}, "no project named cn-north-4"),
    ({"projects": [{"id": OTHER, "name": "cn-north-1"}]}, "no project named cn-north-4"),
    ({"projects": [{"id": PID}]}, "IAM at iam.example.test knows no project named cn-north-4"),
    ({"projects": [{"id": PID, "name": "cn-north-4"}, {"id": OTHER, "name": "cn-north-4"}]},
     "2 projects named cn-north-4 (%s, %s)" % (PID, OTHER)),
])
def test_project_from_list_none_or_several(body, words):
    with pytest.raises(DbssConfigError) as caught:
        project_from_list(body, "cn-north-4", "region", "iam.example.test")
    assert caught.value.option == "region" and words in caught.value.rule


@pytest.mark.parametrize("body", [None, [], {}, {"projects": {}}, {"projects": [1]}, {"projects": [{"id": 5, "name": "cn-north-4"}]},
                                  {"projects": [{"id": "x y", "name": "cn-north-4"}]}])
def test_project_from_list_malformed(body):
    with pytest.raises(ValueError) as caught:
        project_from_list(body, "cn-north-4", "region")
    assert caught.value.final  # no retry makes such an answer usable


def test_password_mode_builds_the_iam_url():
    auth = select_auth(params(**PASSWORD_SET))
    assert (auth.auth_url, auth.user_name, auth.domain_name, auth.project_id) == (
        "https://iam.cn-north-4.myhuaweicloud.com/v3", "alice", "acme", PID)
    eu = password_set(cloud="myhuaweicloud.eu", region="eu-west-101")
    assert select_auth(params(**eu)).auth_url == "https://iam.eu-west-101.myhuaweicloud.eu/v3"
    given = password_set(auth_url="http://127.0.0.1:35357/v3//")
    assert select_auth(params(**given)).auth_url == "http://127.0.0.1:35357/v3"


# -- select_auth: incomplete sets, named with their environment variables ---------

def test_messages_name_the_environment_variables_given():
    assert config_error(access_key=AK).rule == ("is required when access_key is set (AK/SK signing); set it or the "
                                                "HW_SECRET_KEY environment variable")
    with pytest.raises(DbssConfigError) as caught:
        select_auth(params(access_key=AK))
    assert caught.value.rule == "is required when access_key is set (AK/SK signing); set it"
    err = config_error(**password_set(region=None))
    assert err.option == "auth_url" and "auth_url (HW_AUTH_URL) or region (HW_REGION_NAME)" in err.rule


@pytest.mark.parametrize("given,missing", [
    (dict(access_key=AK), "secret_key"),
    (dict(secret_key=SK), "access_key"),
    (dict(auth_token=TOKEN, access_key=AK), "secret_key"),
    (dict(security_token=STS), "access_key"),
    (dict(security_token=STS, auth_token=TOKEN), "access_key"),
    (dict(security_token=STS, secret_key=SK), "access_key"),
    (dict(security_token=STS, access_key=AK), "secret_key"),
    (dict(user_name="alice"), "password"),
    (dict(password=PASSWORD), "user_name"),
    (dict(user_name="alice", password=PASSWORD), "domain_name"),
    (dict(user_name="alice", domain_name="acme"), "password"),
    (dict(domain_name="acme"), "user_name"),
    (dict(auth_url=IAM), "user_name"),
    (dict(), "auth_token"),
    (password_set(project_id=None, region=None, auth_url=IAM), "project_id"),
    (dict(auth_token=TOKEN, project_id=None), "project_id"),
])
def test_incomplete_sets_name_the_missing_option(given, missing):
    assert config_error(**dict(dict(project_id=PID, region="cn-north-4"), **given)).option == missing


@pytest.mark.parametrize("bad", ["ftp://iam.example.test/v3", "iam.example.test/v3", "https:///v3",
                                 "https://iam.example.test:99999/v3", "https://iam.example.test/v3?x=1",
                                 "https://bob:UrlSecret@iam.example.test/v3"])
def test_auth_url_must_be_a_plain_http_url(bad):
    err = config_error(auth_url=bad, **PASSWORD_SET)
    assert err.option == "auth_url" and "UrlSecret" not in str(err)


@pytest.mark.parametrize("option", ["auth_token", "access_key", "security_token"])
def test_header_credentials_with_line_breaks_are_refused_unshown(option):
    given = dict(access_key=AK, secret_key=SK)
    given[option] = "abc\ndef-secret"
    err = config_error(**given)
    assert err.option == option and "def-secret" not in str(err)


# -- the auth objects on prepared requests -----------------------------------------

def test_token_auth():
    assert applied(TokenAuth(TOKEN)).headers["X-Auth-Token"] == TOKEN


def test_aksk_signature_by_hand():
    """The signature recomputed from the documented steps, for what requests sends."""
    auth = AkSkAuth(AK, SK, project_id=PID, security_token=STS, utcnow=lambda: FIXED)
    sent = applied(auth, url="https://h.example.test/v1/x?b=2&a=1").headers
    assert sent["X-Sdk-Date"] == "20240229T123045Z" and sent["Host"] == "h.example.test"
    assert sent["X-Project-Id"] == PID and sent["X-Security-Token"] == STS
    names = "accept;host;user-agent;x-project-id;x-sdk-date;x-security-token"
    lines = "".join("%s:%s\n" % (name, sent[name]) for name in names.split(";"))
    canonical = "\n".join(("GET", "/v1/x/", "a=1&b=2", lines, names, hashlib.sha256(b"").hexdigest()))
    to_sign = "SDK-HMAC-SHA256\n20240229T123045Z\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = hmac.new(SK.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    assert sent["Authorization"] == "SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s" % (AK, names, signature)


def test_aksk_leaves_transport_headers_unsigned_and_signs_the_body():
    auth = AkSkAuth(AK, SK, utcnow=lambda: FIXED)
    sent = applied(auth, "POST", headers={"Content-Type": "application/json", "X_Skip": "1"}, data=b'{"a": 1}').headers
    assert "SignedHeaders=accept;content-type;host;user-agent;x-sdk-date," in sent["Authorization"]
    other = applied(auth, "POST", headers={"Content-Type": "application/json"}, data=b'{"a": 2}').headers
    assert other["Authorization"] != sent["Authorization"]


def test_aksk_replaces_a_previous_attempts_headers():
    auth = AkSkAuth(AK, SK, utcnow=lambda: FIXED)
    fresh = applied(auth).headers
    stale = {"x-sdk-date": "20000101T000000Z", "authorization": "old", "host": "elsewhere"}
    again = applied(auth, headers=stale).headers
    assert again == fresh


def test_aksk_clocks():
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    aware = AkSkAuth(AK, SK, utcnow=lambda: datetime.datetime(2024, 2, 29, 14, 30, 45, tzinfo=plus_two))
    assert applied(aware).headers["X-Sdk-Date"] == "20240229T123045Z"
    datetime.datetime.strptime(applied(AkSkAuth(AK, SK)).headers["X-Sdk-Date"], "%Y%m%dT%H%M%SZ")


# -- PasswordAuth, its login through a bound sender ----------------------------------

Reply = namedtuple("Reply", "status headers")
Answer = namedtuple("Answer", "status headers data")


class FakeIam:
    """A bound sender: issues token-<n> for the n-th login, or raises what it is told."""

    def __init__(self, errors=(), latency=0.0):
        self.errors = list(errors)
        self.calls = []
        self.latency = latency
        self._lock = threading.Lock()

    def __call__(self, method, url, headers, body):
        threading.Event().wait(self.latency)  # a slow IAM widens the race window
        with self._lock:
            self.calls.append((method, url, headers, body))
            if self.errors:
                raise self.errors.pop(0)
            return Reply(201, CaseInsensitiveDict({"X-Subject-Token": "token-%d" % len(self.calls)}))


def password_auth(iam):
    auth = PasswordAuth(IAM + "/", "alice", PASSWORD, "acme", PID)
    auth.bind(iam)
    return auth


def test_login_request_and_cached_token():
    iam = FakeIam()
    auth = password_auth(iam)
    assert [applied(auth).headers["X-Auth-Token"] for _count in range(3)] == ["token-1"] * 3
    method, url, headers, body = iam.calls[0]
    assert (method, url, len(iam.calls)) == ("POST", IAM + "/auth/tokens", 1)
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {"auth": {
        "identity": {"methods": ["password"],
                     "password": {"user": {"name": "alice", "password": PASSWORD, "domain": {"name": "acme"}}}},
        "scope": {"project": {"id": PID}}}}


def test_a_refused_login_is_remembered_not_repeated():
    refused = DbssApiError(401, error_msg="wrong password", login_refused=True)
    iam = FakeIam([refused])
    auth = password_auth(iam)
    for _count in range(3):
        with pytest.raises(DbssApiError) as caught:
            applied(auth)
        assert caught.value is refused
    assert len(iam.calls) == 1


def test_a_failed_login_that_was_not_a_refusal_is_tried_again():
    iam = FakeIam([DbssApiError(503, error_msg="busy")])
    auth = password_auth(iam)
    with pytest.raises(DbssApiError):
        applied(auth)
    assert applied(auth).headers["X-Auth-Token"] == "token-2"


@pytest.mark.parametrize("headers", [{}, {"X-Subject-Token": ""}, {"X-Subject-Token": "two words"}])
def test_a_login_answer_without_a_usable_token(headers):
    auth = password_auth(lambda *args: Reply(201, CaseInsensitiveDict(headers)))
    with pytest.raises(DbssApiError) as caught:
        applied(auth)
    assert "X-Subject-Token" in str(caught.value) and "IAM password" in str(caught.value)


def test_concurrent_first_requests_log_in_once():
    iam = FakeIam(latency=0.1)
    auth = password_auth(iam)
    start, seen = threading.Barrier(16, timeout=10), []

    def worker():
        start.wait()
        seen.append(applied(auth).headers["X-Auth-Token"])

    run_threads(worker, 16)
    assert len(iam.calls) == 1 and seen == ["token-1"] * 16


def test_a_burst_of_401_to_one_token_logs_in_once():
    iam = FakeIam(latency=0.05)
    auth = password_auth(iam)
    sent, seen = threading.Barrier(8, timeout=10), []

    def worker():
        request = applied(auth)
        sent.wait()  # every thread sent token-1 before anyone renews
        assert auth.renew(request) is True
        seen.append(applied(auth).headers["X-Auth-Token"])

    run_threads(worker, 8)
    assert len(iam.calls) == 2 and seen == ["token-2"] * 8
    assert auth.renew(applied(auth)) and applied(auth).headers["X-Auth-Token"] == "token-3"


def run_threads(target, count):
    threads = [threading.Thread(target=target) for _count in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads)


# -- no secret in any repr or message -----------------------------------------------

def test_reprs_hold_no_secret():
    objects = [TokenAuth(TOKEN), AkSkAuth(AK, SK, security_token=STS, project_id=PID),
               PasswordAuth(IAM, "alice", PASSWORD, "acme", PID), select_auth(params(access_key=AK, secret_key=SK, region="cn-north-4"))]
    for obj in objects:
        for secret in SECRETS:
            assert secret not in repr(obj) and secret not in str(obj)


@pytest.mark.parametrize("kwargs", [
    dict(access_key=AK), dict(secret_key=SK), dict(security_token=STS), dict(security_token=STS, secret_key=SK),
    dict(auth_token=TOKEN, password=PASSWORD), dict(password=PASSWORD, domain_name="acme"),
    dict(user_name="alice", password=PASSWORD, domain_name="acme"),
    dict(user_name="alice", password=PASSWORD, domain_name="acme", project_id=PID, auth_url="ftp://x"),
])
def test_config_errors_never_contain_secrets(kwargs):
    err = config_error(**kwargs)
    for secret in SECRETS:
        assert secret not in str(err) and secret not in repr(err) and secret not in str(err.to_result())
