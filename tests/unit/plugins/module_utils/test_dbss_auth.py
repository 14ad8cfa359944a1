# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Unit tests of dbss_auth: mode selection, the three auth objects, signing helpers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import hmac
import json
import threading

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils import dbss_auth
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_auth import (
    AkSkAuth,
    PasswordAuth,
    TokenAuth,
    select_auth,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import (
    DbssApiError,
    DbssConfigError,
)

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
TIMEOUT = 10


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

class FakeHeaders(dict):
    """A case-insensitive header mapping, like requests' response headers."""

    def get(self, key, default=None):
        for name, value in self.items():
            if name.lower() == key.lower():
                return value
        return default


class FakeResponse:
    def __init__(self, status_code, headers=None, text=""):
        self.status_code = status_code
        self.headers = FakeHeaders(headers or {})
        self.text = text


class FakeIam:
    """A ``send`` callable answering IAM logins from a script of responses;
    after the script, it issues token-<n> for the n-th login."""

    def __init__(self, script=None, latency=0.0):
        self.script = list(script or [])
        self.calls = []
        self.latency = latency
        self._lock = threading.Lock()

    def __call__(self, method, url, headers, body):
        if self.latency:
            # A slow IAM widens the window in which other threads could log in too.
            threading.Event().wait(self.latency)
        with self._lock:
            self.calls.append((method, url, headers, body))
            if self.script:
                return self.script.pop(0)
            return FakeResponse(201, {"X-Subject-Token": "token-%d" % len(self.calls), "X-Request-Id": "req-%d" % len(self.calls)},
                                json.dumps({"token": {"expires_at": "2099-01-01T00:00:00.000000Z"}}))


def params(**kwargs):
    base = dict.fromkeys(("auth_token", "access_key", "secret_key", "security_token", "auth_url", "user_name",
                          "password", "domain_name", "project_id", "region", "cloud"))
    base.update(kwargs)
    return base


PASSWORD_SET = dict(user_name="alice", password=PASSWORD, domain_name="acme", project_id=PID, region="cn-north-4")


def password_set(**overrides):
    """PASSWORD_SET with some values replaced."""
    result = dict(PASSWORD_SET)
    result.update(overrides)
    return result


def config_error(**kwargs):
    with pytest.raises(DbssConfigError) as caught:
        select_auth(params(**kwargs))
    return caught.value


def run_threads(target, count):
    threads = [threading.Thread(target=target) for _i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)


def in_thread(func):
    """Run func in a new thread (a thread of its own for thread-local state)."""
    box = {}

    def target():
        try:
            box["value"] = func()
        except Exception as exc:  # pylint: disable=broad-except
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    if "error" in box:
        raise box["error"]
    return box["value"]


# ---------------------------------------------------------------------------
# select_auth: precedence
# ---------------------------------------------------------------------------

def test_token_alone():
    auth = select_auth(params(auth_token=TOKEN))
    assert isinstance(auth, TokenAuth) and auth.kind == "token"


def test_token_beats_aksk_and_password():
    auth = select_auth(params(auth_token=TOKEN, access_key=AK, secret_key=SK, **PASSWORD_SET))
    assert auth.kind == "token"


def test_aksk_beats_password():
    auth = select_auth(params(access_key=AK, secret_key=SK, **PASSWORD_SET))
    assert isinstance(auth, AkSkAuth) and auth.kind == "aksk"
    assert auth.project_id == PID


def test_aksk_alone_without_project_id():
    auth = select_auth(params(access_key=AK, secret_key=SK))
    assert auth.kind == "aksk" and auth.project_id is None


def test_aksk_with_security_token_sends_it():
    auth = select_auth(params(access_key=AK, secret_key=SK, security_token=STS), utcnow=lambda: FIXED)
    assert auth.headers_for("GET", JOBS_URL, {}, None, None)["X-Security-Token"] == STS


def test_password_mode():
    auth = select_auth(params(**PASSWORD_SET))
    assert isinstance(auth, PasswordAuth) and auth.kind == "password"
    assert auth.auth_url == "https://iam.cn-north-4.myhuaweicloud.com/v3"
    assert (auth.user_name, auth.domain_name, auth.project_id) == ("alice", "acme", PID)
    assert auth.login_count == 0


def test_empty_strings_count_as_unset():
    auth = select_auth(params(auth_token="", access_key="", secret_key="", security_token="", auth_url="", **PASSWORD_SET))
    assert auth.kind == "password"


def test_missing_keys_count_as_unset():
    assert select_auth({"auth_token": TOKEN}).kind == "token"


@pytest.mark.parametrize("leftover", [dict(auth_url=IAM), dict(domain_name="acme"), dict(auth_url=IAM, domain_name="acme")])
def test_leftover_auth_url_and_domain_name_are_ignored_by_other_modes(leftover):
    assert select_auth(params(auth_token=TOKEN, **leftover)).kind == "token"
    assert select_auth(params(access_key=AK, secret_key=SK, **leftover)).kind == "aksk"


# ---------------------------------------------------------------------------
# select_auth: incomplete sets
# ---------------------------------------------------------------------------

def test_access_key_without_secret_key():
    err = config_error(access_key=AK)
    assert err.option == "secret_key"
    assert err.rule == "is required when access_key is set (AK/SK signing); set it or the HW_SECRET_KEY environment variable"


def test_secret_key_without_access_key():
    err = config_error(secret_key=SK)
    assert err.option == "access_key"
    assert "HW_ACCESS_KEY" in err.rule and "secret_key is set" in err.rule


def test_incomplete_aksk_is_an_error_even_with_a_token():
    assert config_error(auth_token=TOKEN, access_key=AK).option == "secret_key"


@pytest.mark.parametrize("extra,reason", [({}, "security_token is set"), (dict(auth_token=TOKEN), "security_token is set"),
                                          (dict(secret_key=SK), "secret_key is set")])
def test_security_token_without_key_pair(extra, reason):
    err = config_error(security_token=STS, **extra)
    assert err.option == "access_key"
    assert reason in err.rule


def test_security_token_with_access_key_only_names_secret_key():
    assert config_error(security_token=STS, access_key=AK).option == "secret_key"


@pytest.mark.parametrize("given,missing", [
    (dict(user_name="alice"), "password"),
    (dict(password=PASSWORD), "user_name"),
    (dict(user_name="alice", password=PASSWORD), "domain_name"),
    (dict(user_name="alice", domain_name="acme"), "password"),
    (dict(password=PASSWORD, domain_name="acme"), "user_name"),
])
def test_incomplete_password_set(given, missing):
    err = config_error(project_id=PID, region="cn-north-4", **given)
    assert err.option == missing
    assert "IAM password login" in err.rule


def test_incomplete_password_set_is_an_error_even_with_a_token():
    assert config_error(auth_token=TOKEN, user_name="alice").option == "password"


@pytest.mark.parametrize("given,named", [(dict(domain_name="acme"), "domain_name"), (dict(auth_url=IAM), "auth_url")])
def test_domain_name_or_auth_url_alone(given, named):
    err = config_error(project_id=PID, **given)
    assert err.option == "user_name"
    assert named in err.rule


def test_no_credentials_at_all():
    err = config_error(project_id=PID, region="cn-north-4")
    assert err.option == "auth_token"
    assert err.rule == ("no credentials: set auth_token, or access_key and secret_key, or user_name, password and domain_name "
                        "(or their HW_* environment variables)")


def test_password_mode_needs_project_id():
    err = config_error(**password_set(project_id=None))
    assert err.option == "project_id"


# ---------------------------------------------------------------------------
# select_auth: auth_url
# ---------------------------------------------------------------------------

def test_auth_url_default_uses_cloud():
    auth = select_auth(params(**password_set(cloud="myhuaweicloud.eu", region="eu-west-101")))
    assert auth.auth_url == "https://iam.eu-west-101.myhuaweicloud.eu/v3"


def test_auth_url_given_wins_over_region_and_trailing_slashes_go():
    auth = select_auth(params(auth_url="https://iam.myhuaweicloud.com/v3//", **PASSWORD_SET))
    assert auth.auth_url == "https://iam.myhuaweicloud.com/v3"


def test_http_auth_url_with_port_is_accepted():
    auth = select_auth(params(auth_url="http://127.0.0.1:35357/v3/", **PASSWORD_SET))
    assert auth.auth_url == "http://127.0.0.1:35357/v3"


def test_no_auth_url_and_no_region():
    err = config_error(**password_set(region=None))
    assert err.option == "auth_url"
    assert "HW_AUTH_URL" in err.rule and "HW_REGION_NAME" in err.rule


@pytest.mark.parametrize("bad", ["ftp://iam.example.test/v3", "iam.example.test/v3", "https:///v3", "https://iam.example.test:99999/v3",
                                 "https://iam.example.test:0/v3", "https://iam.example.test/v3?x=1", "https://iam.example.test/v3#frag"])
def test_auth_url_must_be_a_plain_http_url(bad):
    err = config_error(auth_url=bad, **PASSWORD_SET)
    assert err.option == "auth_url"


def test_auth_url_with_user_info_is_refused_without_echoing_it():
    err = config_error(auth_url="https://bob:%s@iam.example.test/v3" % "UrlSecret", **PASSWORD_SET)
    assert err.option == "auth_url"
    assert "user information" in err.rule
    assert "UrlSecret" not in str(err)


# ---------------------------------------------------------------------------
# TokenAuth
# ---------------------------------------------------------------------------

def test_token_auth_headers_and_no_refresh():
    auth = TokenAuth(TOKEN)
    assert auth.headers_for("GET", JOBS_URL, {"Accept": "application/json"}, None, None) == {"X-Auth-Token": TOKEN}
    assert auth.refresh_after_401(None) is False


# ---------------------------------------------------------------------------
# AkSkAuth
# ---------------------------------------------------------------------------

def test_aksk_headers_with_fixed_clock():
    auth = AkSkAuth(AK, SK, project_id=PID, utcnow=lambda: FIXED)
    extra = auth.headers_for("GET", JOBS_URL, {}, None, None)
    assert set(extra) == {"X-Sdk-Date", "Host", "X-Project-Id", "Authorization"}
    assert extra["X-Sdk-Date"] == "20240229T123045Z"
    assert extra["Host"] == "dbss.cn-north-4.myhuaweicloud.com"
    assert extra["X-Project-Id"] == PID
    assert extra["Authorization"].startswith("SDK-HMAC-SHA256 Access=%s, SignedHeaders=host;x-project-id;x-sdk-date, Signature=" % AK)
    assert auth.refresh_after_401(None) is False


def test_aksk_signature_by_hand():
    """The signature recomputed from the documented steps."""
    auth = AkSkAuth(AK, SK, utcnow=lambda: FIXED)
    extra = auth.headers_for("GET", "https://h.example.test/v1/x?b=2&a=1", {}, None, None)
    canonical = "\n".join(("GET", "/v1/x/", "a=1&b=2", "host:h.example.test\nx-sdk-date:20240229T123045Z\n",
                           "host;x-sdk-date", hashlib.sha256(b"").hexdigest()))
    to_sign = "SDK-HMAC-SHA256\n20240229T123045Z\n" + hashlib.sha256(canonical.encode()).hexdigest()
    expected = hmac.new(SK.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    assert extra["Authorization"].endswith("Signature=" + expected)


def test_aksk_aware_clock_is_converted_to_utc():
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    auth = AkSkAuth(AK, SK, utcnow=lambda: datetime.datetime(2024, 2, 29, 14, 30, 45, tzinfo=plus_two))
    assert auth.headers_for("GET", JOBS_URL, {}, None, None)["X-Sdk-Date"] == "20240229T123045Z"


def test_aksk_default_clock_is_utc_now():
    extra = AkSkAuth(AK, SK).headers_for("GET", JOBS_URL, {}, None, None)
    datetime.datetime.strptime(extra["X-Sdk-Date"], "%Y%m%dT%H%M%SZ")


def test_aksk_replaces_stale_headers_from_an_earlier_attempt():
    auth = AkSkAuth(AK, SK, utcnow=lambda: FIXED)
    fresh = auth.headers_for("GET", JOBS_URL, {}, None, None)
    stale = {"x-sdk-date": "20000101T000000Z", "authorization": "old", "host": "elsewhere"}
    again = auth.headers_for("GET", JOBS_URL, stale, None, None)
    assert again == fresh
    sent = dbss_auth.merge_headers(stale, again)
    assert sorted(k.lower() for k in sent) == ["authorization", "host", "x-sdk-date"]


def test_aksk_signs_the_callers_headers_too():
    auth = AkSkAuth(AK, SK, utcnow=lambda: FIXED)
    extra = auth.headers_for("GET", JOBS_URL, {"Accept": "application/json", "X_Skip": "1"}, None, None)
    assert "SignedHeaders=accept;host;x-sdk-date," in extra["Authorization"]


@pytest.mark.parametrize("url,host", [
    ("https://dbss.example.test/v1", "dbss.example.test"),
    ("https://DBSS.Example.Test:443/v1", "dbss.example.test"),
    ("http://127.0.0.1:80/v1", "127.0.0.1"),
    ("https://127.0.0.1:8443/v1", "127.0.0.1:8443"),
    ("http://127.0.0.1:443/v1", "127.0.0.1:443"),
    ("https://[::1]:8443/v1", "[::1]:8443"),
])
def test_host_header_keeps_only_non_default_ports(url, host):
    assert dbss_auth.host_header(url) == host


# ---------------------------------------------------------------------------
# sign_request and the helpers
# ---------------------------------------------------------------------------

def test_sign_request_adds_date_and_host():
    extra = dbss_auth.sign_request("GET", JOBS_URL, {}, None, AK, SK, FIXED)
    assert set(extra) == {"X-Sdk-Date", "Host", "Authorization"}


def test_sign_request_uses_headers_already_set():
    given = {"x-sdk-date": "20240229T123045Z", "HOST": "dbss.cn-north-4.myhuaweicloud.com"}
    extra = dbss_auth.sign_request("GET", JOBS_URL, given, None, AK, SK)
    assert set(extra) == {"Authorization"}
    assert extra["Authorization"] == dbss_auth.sign_request("GET", JOBS_URL, {}, None, AK, SK, FIXED)["Authorization"]
    # The same instant given twice is fine.
    assert dbss_auth.sign_request("GET", JOBS_URL, given, None, AK, SK, FIXED) == extra


def test_sign_request_date_errors():
    with pytest.raises(ValueError):
        dbss_auth.sign_request("GET", JOBS_URL, {}, None, AK, SK)
    with pytest.raises(ValueError):
        dbss_auth.sign_request("GET", JOBS_URL, {}, None, AK, SK, "2024-02-29 12:30:45")
    with pytest.raises(ValueError):
        dbss_auth.sign_request("GET", JOBS_URL, {"X-Sdk-Date": "20240229T123045Z"}, None, AK, SK, "20240229T123046Z")


def test_sign_request_refuses_a_dict_body():
    with pytest.raises(TypeError) as caught:
        dbss_auth.sign_request("POST", JOBS_URL, {}, {"a": 1}, AK, SK, FIXED)
    assert SK not in str(caught.value)


def test_unsigned_payload_for_non_json_content():
    extra = dbss_auth.sign_request("POST", JOBS_URL, {"content-type": "text/plain"}, "x", AK, SK, FIXED)
    assert extra["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    assert "X-Sdk-Content-Sha256" not in dbss_auth.sign_request("POST", JOBS_URL, {"Content-Type": "application/json"}, "x", AK, SK, FIXED)


def test_canonical_uri():
    assert dbss_auth.canonical_uri("/v1/a b/~x/%7E/caf%C3%A9") == "/v1/a%20b/~x/~/caf%C3%A9/"
    assert dbss_auth.canonical_uri("/already/") == "/already/"
    assert dbss_auth.canonical_uri("") == "/"


def test_canonical_query():
    assert dbss_auth.canonical_query("b=2&a=2&a=1&c&d=&&e=a+b%20c") == "a=1&a=2&b=2&c=&d=&e=a%2Bb%20c"
    assert dbss_auth.canonical_query("") == ""


def test_payload_hash():
    empty = hashlib.sha256(b"").hexdigest()
    assert dbss_auth.payload_hash({}, None) == empty
    assert dbss_auth.payload_hash({}, "") == empty
    assert dbss_auth.payload_hash({}, b"") == empty
    assert dbss_auth.payload_hash({}, "\u00e9") == hashlib.sha256("\u00e9".encode("utf-8")).hexdigest()
    assert dbss_auth.payload_hash({}, bytearray(b"ab")) == hashlib.sha256(b"ab").hexdigest()
    assert dbss_auth.payload_hash({"x-sdk-content-sha256": "UNSIGNED-PAYLOAD"}, b"ab") == "UNSIGNED-PAYLOAD"


def test_merge_headers_replaces_any_letter_case():
    merged = dbss_auth.merge_headers({"host": "a", "Accept": "b"}, {"Host": "c"})
    assert merged == {"Accept": "b", "Host": "c"}
    assert dbss_auth.merge_headers(None, {"A": "1"}) == {"A": "1"}


# ---------------------------------------------------------------------------
# PasswordAuth
# ---------------------------------------------------------------------------

def password_auth():
    return PasswordAuth(IAM + "/", "alice", PASSWORD, "acme", PID)


def test_login_request_and_cached_token():
    auth = password_auth()
    iam = FakeIam()
    assert auth.headers_for("GET", JOBS_URL, {}, None, iam) == {"X-Auth-Token": "token-1"}
    assert auth.headers_for("GET", JOBS_URL, {}, None, iam) == {"X-Auth-Token": "token-1"}
    assert auth.login_count == 1 and len(iam.calls) == 1
    method, url, headers, body = iam.calls[0]
    assert (method, url) == ("POST", IAM + "/auth/tokens")
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {"auth": {
        "identity": {"methods": ["password"],
                     "password": {"user": {"name": "alice", "password": PASSWORD, "domain": {"name": "acme"}}}},
        "scope": {"project": {"id": PID}}}}


IAM_401 = json.dumps({"error": {"code": 401, "message": "The username or password is wrong.", "title": "Unauthorized"}})


def test_login_401_reads_well_and_hides_the_password():
    auth = password_auth()
    iam = FakeIam([FakeResponse(401, {"X-Request-Id": "rid-9"}, IAM_401)])
    with pytest.raises(DbssApiError) as caught:
        auth.headers_for("GET", JOBS_URL, {}, None, iam)
    err = caught.value
    text = str(err)
    assert err.status == 401 and err.request_id == "rid-9"
    assert err.error_code is None
    assert text == ("IAM password login to https://iam.example.test/v3 as user alice in domain acme failed: "
                    "HTTP 401: authentication failed (mode: IAM password): The username or password is wrong. (request id: rid-9)")
    assert PASSWORD not in text and PASSWORD not in repr(err) and PASSWORD not in json.dumps(err.to_result())


def test_login_flat_error_body_keeps_its_code():
    body = json.dumps({"error_code": "IAM.0101", "error_msg": "The account is locked."})
    with pytest.raises(DbssApiError) as caught:
        password_auth().headers_for("GET", JOBS_URL, {}, None, FakeIam([FakeResponse(403, {}, body)]))
    assert caught.value.error_code == "IAM.0101"
    assert "authentication failed (mode: IAM password): The account is locked." in str(caught.value)


def test_login_gateway_error_is_not_called_a_bad_password():
    with pytest.raises(DbssApiError) as caught:
        password_auth().headers_for("GET", JOBS_URL, {}, None, FakeIam([FakeResponse(503, {"Retry-After": "3"}, "<html>busy</html>")]))
    err = caught.value
    assert err.transient and err.retry_after == "3"
    assert "IAM did not issue a token (mode: IAM password): non-JSON response body" in str(err)


def test_login_echoing_the_password_is_scrubbed():
    body = json.dumps({"error": {"code": 400, "message": "bad value %s" % PASSWORD}})
    with pytest.raises(DbssApiError) as caught:
        password_auth().headers_for("GET", JOBS_URL, {}, None, FakeIam([FakeResponse(400, {}, body)]))
    assert PASSWORD not in str(caught.value)
    assert "bad value ********" in str(caught.value)


@pytest.mark.parametrize("headers", [{}, {"X-Subject-Token": ""}])
def test_login_201_without_token_header(headers):
    auth = password_auth()
    with pytest.raises(DbssApiError) as caught:
        auth.headers_for("GET", JOBS_URL, {}, None, FakeIam([FakeResponse(201, headers, "{}")]))
    assert caught.value.status == 201
    assert "X-Subject-Token" in str(caught.value) and "IAM password" in str(caught.value)
    # Nothing was cached: the next request logs in again.
    assert auth.headers_for("GET", JOBS_URL, {}, None, FakeIam()) == {"X-Auth-Token": "token-1"}
    assert auth.login_count == 2


def test_concurrent_first_requests_log_in_once():
    auth = password_auth()
    start = threading.Barrier(16, timeout=TIMEOUT)
    iam = FakeIam(latency=0.1)
    seen = []

    def worker():
        start.wait()
        seen.append(auth.headers_for("GET", JOBS_URL, {}, None, iam)["X-Auth-Token"])

    run_threads(worker, 16)
    assert auth.login_count == 1 and len(iam.calls) == 1
    assert seen == ["token-1"] * 16


def test_concurrent_401_burst_logs_in_once():
    """All threads sent token-1 and got 401; the one login is shared."""
    auth = password_auth()
    iam = FakeIam()
    sent = threading.Barrier(8, timeout=TIMEOUT)
    iam.latency = 0.1
    results = []

    def worker():
        auth.headers_for("GET", JOBS_URL, {}, None, iam)
        sent.wait()  # every thread has sent the old token before anyone refreshes
        results.append(auth.refresh_after_401(iam))
        results.append(auth.headers_for("GET", JOBS_URL, {}, None, iam)["X-Auth-Token"])

    run_threads(worker, 8)
    assert auth.login_count == 2
    assert sorted(r for r in results if r is True) == [True] * 8
    assert sorted(r for r in results if r is not True) == ["token-2"] * 8


def test_refresh_logs_in_again_and_returns_true():
    auth = password_auth()
    iam = FakeIam()
    assert auth.headers_for("GET", JOBS_URL, {}, None, iam) == {"X-Auth-Token": "token-1"}
    assert auth.refresh_after_401(iam) is True
    assert auth.login_count == 2
    assert auth.headers_for("GET", JOBS_URL, {}, None, iam) == {"X-Auth-Token": "token-2"}


def test_refresh_generation_logic():
    auth = password_auth()
    iam = FakeIam()
    a_ready, b_sent = threading.Event(), threading.Event()

    # Thread B sends token-1, then waits while A refreshes.
    def thread_b():
        auth.headers_for("GET", JOBS_URL, {}, None, iam)
        b_sent.set()
        assert a_ready.wait(TIMEOUT)
        first = auth.refresh_after_401(iam)  # A already logged in since B's request: no login
        count_after_first = auth.login_count
        token = auth.headers_for("GET", JOBS_URL, {}, None, iam)["X-Auth-Token"]
        second = auth.refresh_after_401(iam)  # a 401 to the new token: log in again
        return first, count_after_first, token, second, auth.login_count

    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("b", thread_b()))
    thread.start()
    assert b_sent.wait(TIMEOUT)
    in_thread(lambda: (auth.headers_for("GET", JOBS_URL, {}, None, iam), auth.refresh_after_401(iam)))
    assert auth.login_count == 2
    a_ready.set()
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    assert box["b"] == (True, 2, "token-2", True, 3)


def test_refresh_without_a_prior_request_logs_in():
    auth = password_auth()
    iam = FakeIam()
    assert in_thread(lambda: auth.refresh_after_401(iam)) is True
    assert auth.login_count == 1


def test_refresh_failure_raises_and_later_requests_retry_the_login():
    auth = password_auth()
    iam = FakeIam()
    auth.headers_for("GET", JOBS_URL, {}, None, iam)
    failing = FakeIam([FakeResponse(401, {}, IAM_401)])
    with pytest.raises(DbssApiError):
        auth.refresh_after_401(failing)
    assert auth.login_count == 2


# ---------------------------------------------------------------------------
# No secret in any repr or message
# ---------------------------------------------------------------------------

def test_reprs_mask_every_secret():
    objects = [
        TokenAuth(TOKEN),
        AkSkAuth(AK, SK, security_token=STS, project_id=PID),
        AkSkAuth(AK, SK),
        PasswordAuth(IAM, "alice", PASSWORD, "acme", PID),
        select_auth(params(auth_token=TOKEN)),
        select_auth(params(access_key=AK, secret_key=SK, security_token=STS)),
        select_auth(params(**PASSWORD_SET)),
    ]
    for obj in objects:
        for text in (repr(obj), str(obj)):
            assert "********" in text
            for secret in SECRETS + (AK,):
                assert secret not in text


@pytest.mark.parametrize("kwargs", [
    dict(access_key=AK), dict(secret_key=SK), dict(security_token=STS), dict(security_token=STS, secret_key=SK),
    dict(auth_token=TOKEN, password=PASSWORD), dict(password=PASSWORD, domain_name="acme"),
    dict(user_name="alice", password=PASSWORD, domain_name="acme"),
    dict(user_name="alice", password=PASSWORD, domain_name="acme", project_id=PID),
    dict(user_name="alice", password=PASSWORD, domain_name="acme", project_id=PID, auth_url="ftp://x"),
])
def test_config_errors_never_contain_secrets(kwargs):
    err = config_error(**kwargs)
    for secret in SECRETS:
        assert secret not in str(err) and secret not in repr(err) and secret not in str(err.to_result())
