# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Our SDK-HMAC-SHA256 signatures against the Huawei Cloud SDK's own Signer.

Each case is signed twice: by ``dbss_signer`` (directly, and through
``dbss_signer.AkSkAuth`` on the request requests prepares) and by
``huaweicloudsdkcore`` (``BasicCredentials.sign_request``, which adds
X-Project-Id and X-Security-Token and then runs ``Signer.sign``). The
``SdkRequest`` is built the way ``huaweicloudsdkcore.client.Client.build_future_request``
builds it: the resource path as it is on the wire, the query as
``(name, value)`` tuples and the host in ``host``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
import requests

from ansible_collections.hwcloud.dbss.plugins.module_utils import dbss_signer
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_auth import AkSkAuth

sdk_request_mod = pytest.importorskip("huaweicloudsdkcore.sdk_request")
sdk_credentials = pytest.importorskip("huaweicloudsdkcore.auth.credentials")
sdk_signer = pytest.importorskip("huaweicloudsdkcore.signer.signer")

AK = "HPUAEXAMPLEACCESSKEY1"
SK = "exampleSecretKey0123456789abcdefghijklmn"
STS = "temporary-security-token-value/with+odd=chars"
PID = "0123456789abcdef0123456789abcdef"
BASE = "https://dbss.cn-north-4.myhuaweicloud.com"
JOBS = "/v1/%s/audit/0b5e8a4e-7c4e-4a36-9b2c-3c9f5f7a1c11/jobs" % PID
DATE = datetime.datetime(2024, 1, 31, 23, 59, 58)


def encoded_query(pairs):
    """A query string for decoded ``(name, value)`` pairs, percent-encoded
    (``%20`` for a space) independently of the code under test."""
    return "?" + urlencode(pairs, quote_via=quote)


# (id, method, url, headers, body, date, security_token, project_id)
CASES = [
    ("plain-get", "GET", BASE + JOBS, {}, None, DATE, None, PID),
    ("json-content-type", "GET", BASE + JOBS, {"Content-Type": "application/json"}, None, DATE, None, PID),
    ("no-project-id", "GET", BASE + JOBS, {}, None, DATE, None, None),
    ("security-token", "GET", BASE + JOBS, {}, None, DATE, STS, PID),
    ("space-in-path", "GET", BASE + "/v1/a%20b/c d/", {}, None, DATE, None, PID),
    ("tilde-in-path", "GET", BASE + "/v1/~user/%7Eother", {}, None, DATE, None, PID),
    ("percent-in-path", "GET", BASE + "/v1/100%25/x%2541", {}, None, DATE, None, PID),
    ("unicode-in-path", "GET", BASE + "/v1/caf\u00e9/%E4%B8%AD%E6%96%87", {}, None, DATE, None, PID),
    ("colon-in-path", "GET", BASE + "/v1/a:b/c%3Ad", {}, None, DATE, None, PID),
    ("root-path", "GET", BASE + "/", {}, None, DATE, None, None),
    ("reserved-in-path", "DELETE", BASE + "/v1/a+b/!$&'()*,;=@", {}, None, DATE, None, PID),
    ("simple-query", "GET", BASE + JOBS + encoded_query([("limit", "10"), ("offset", "0")]), {}, None, DATE, None, PID),
    ("repeated-keys", "GET",
     BASE + JOBS + encoded_query([("status", "RUNNING"), ("status", "FAIL"), ("status", "INIT"), ("a", "2"), ("a", "1")]), {}, None, DATE, None, PID),
    ("empty-values", "GET", BASE + JOBS + encoded_query([("a", ""), ("b", ""), ("c", "3")]), {}, None, DATE, None, PID),
    ("special-query", "GET",
     BASE + JOBS + encoded_query([("q", "a b+c"), ("x", "&=?#"), ("t", "~"), ("p", "100%"), ("path", "/a/b:c"), ("u", "https://x/y?z=1")]),
     {}, None, DATE, None, PID),
    ("unicode-query", "GET", BASE + JOBS + encoded_query([("name", "\u4e2d\u6587"), ("z", "\u00e9"), ("y", "~")]), {}, None, DATE, None, PID),
    ("query-sort-order", "GET",
     BASE + JOBS + encoded_query([("b", "1"), ("B", "2"), ("a_b", "3"), ("a-b", "4"), ("a.b", "5"), ("a~", "6"), ("\u00e9", "7"), ("a b", "8")]),
     {}, None, DATE, None, PID),
    ("other-date", "GET", BASE + JOBS, {}, None, datetime.datetime(1999, 12, 31, 0, 0, 1), None, PID),
    ("date-as-string", "GET", BASE + JOBS, {}, None, "20250615T120000Z", STS, PID),
    ("extra-headers", "GET", BASE + JOBS, {"Accept": "application/json", "X-Language": "en-us", "User-Agent": "hwcloud.dbss/1.0"},
     None, DATE, None, PID),
    ("header-with-underscore", "GET", BASE + JOBS, {"X_Custom_Thing": "not signed", "X-Custom": "signed"}, None, DATE, None, PID),
    # requests refuses such values; the signer still strips them as the SDK does (a string date: signer only).
    ("header-whitespace", "GET", BASE + JOBS, {"X-Padded": "  value with spaces  ", "X-Tab": "\tx\t"}, None,
     "20240131T235958Z", None, PID),
    ("non-default-port", "GET", "https://127.0.0.1:8443" + JOBS, {}, None, DATE, None, PID),
    ("http-scheme-port", "GET", "http://127.0.0.1:8080" + JOBS + encoded_query([("x", "1")]), {}, None, DATE, STS, PID),
    ("json-body-str", "POST", BASE + JOBS, {"Content-Type": "application/json;charset=UTF-8"},
     json.dumps({"name": "job", "tags": [1, 2, 3]}), DATE, None, PID),
    ("json-body-unicode", "PUT", BASE + JOBS, {"Content-Type": "application/json"}, json.dumps({"n": "\u4e2d\u6587"}, ensure_ascii=False),
     DATE, STS, PID),
    ("bytes-body", "POST", BASE + JOBS, {"Content-Type": "application/json"}, b'{"a": 1}', DATE, None, PID),
    ("empty-str-body", "POST", BASE + JOBS, {"Content-Type": "application/json"}, "", DATE, None, PID),
    ("empty-bytes-body", "POST", BASE + JOBS, {"Content-Type": "application/json"}, b"", DATE, None, PID),
    ("unsigned-payload", "POST", BASE + JOBS, {"Content-Type": "text/plain"}, "plain text body", DATE, None, PID),
    ("octet-body-bytes", "PUT", BASE + JOBS, {"Content-Type": "application/octet-stream"}, b"\x00\x01\xff", DATE, STS, None),
    ("lowercase-method", "get", BASE + JOBS + encoded_query([("a", "1")]), {}, None, DATE, None, PID),
]


def _sdk_query(query):
    """The SDK's query_params: decoded pairs, worked out without dbss_signer.
    (The table's query strings never hold a literal ``+``, so parse_qsl's
    plus-as-space rule does not apply.)"""
    assert "+" not in query
    return parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))


def _sdk_sign(method, url, headers, body, date_text, security_token, project_id, host):
    """Sign with the SDK; return its final header dict."""
    parts = urlsplit(url)
    header_params = dict(headers)
    header_params["X-Sdk-Date"] = date_text
    request = sdk_request_mod.SdkRequest(
        method=method, schema=parts.scheme, host=host, resource_path=parts.path,
        query_params=_sdk_query(parts.query), header_params=header_params, body=body)
    credentials = sdk_credentials.BasicCredentials(AK, SK, project_id)
    if security_token:
        credentials.with_security_token(security_token)
    signed = credentials.sign_request(request)
    return signed.header_params


def _date_text(date):
    return date.strftime("%Y%m%dT%H%M%SZ") if isinstance(date, datetime.datetime) else date


def _lowered(headers):
    """Header names lower-cased, values as the server reads them (stripped)."""
    return dict((k.lower(), str(v).strip()) for k, v in headers.items())


def test_table_is_large_enough():
    assert len(CASES) >= 20
    assert len(set(case[0] for case in CASES)) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_auth_headers_match_sdk(case):
    _id, method, url, headers, body, date, security_token, project_id = case
    if isinstance(date, str):
        # A string date exercises sign_request with headers the caller set itself.
        sent = dict(headers)
        if project_id:
            sent["X-Project-Id"] = project_id
        if security_token:
            sent["X-Security-Token"] = security_token
        sent.update(dbss_signer.sign_request(method, url, sent, body, AK, SK, date))
        given = headers
    else:
        # What requests sends: the URL requoted, session headers (User-Agent,
        # Accept, and the unsigned Accept-Encoding, Connection, Content-Length).
        auth = AkSkAuth(AK, SK, security_token=security_token, project_id=project_id, utcnow=lambda: date)
        prepared = requests.Session().prepare_request(requests.Request(method, url, headers=headers, data=body,
                                                                       auth=auth))
        sent, url = prepared.headers, prepared.url
        unsigned = ("authorization", "x-sdk-date", "host", "x-project-id", "x-security-token", "accept-encoding",
                    "connection", "content-length")
        given = dict((k, v) for k, v in sent.items() if k.lower() not in unsigned)

    sdk_headers = _sdk_sign(method, url, given, body, _date_text(date), security_token, project_id,
                            host=dbss_signer.host_header(url))

    assert sent["Authorization"] == sdk_headers["Authorization"]
    # The signed header set is exactly the set the SDK signs.
    transport = ("accept-encoding", "connection", "content-length")
    assert _lowered(dict((k, v) for k, v in sent.items() if k.lower() not in transport)) == _lowered(sdk_headers)


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_sign_request_matches_sdk_signer(case):
    """The bare function against the bare ``Signer``: no credentials class."""
    method, url, headers, body, date = case[1:6]
    date_text = _date_text(date)
    ours = dbss_signer.sign_request(method, url, headers, body, AK, SK, date)

    parts = urlsplit(url)
    request = sdk_request_mod.SdkRequest(
        method=method, schema=parts.scheme, host=dbss_signer.host_header(url), resource_path=parts.path,
        query_params=_sdk_query(parts.query), header_params=dict(headers, **{"X-Sdk-Date": date_text}), body=body)
    signed = sdk_signer.Signer(sdk_credentials.BasicCredentials(AK, SK)).sign(request)

    assert ours["Authorization"] == signed.header_params["Authorization"]
    assert ours["X-Sdk-Date"] == date_text
    assert ours["Host"] == signed.header_params["Host"]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_canonical_query_is_what_the_sdk_sends(case):
    """The SDK puts its canonical query on the wire; ours is the same text."""
    method, url, body = case[1], case[2], case[4]
    parts = urlsplit(url)
    request = sdk_request_mod.SdkRequest(
        method=method, schema=parts.scheme, host=dbss_signer.host_header(url), resource_path=parts.path,
        query_params=_sdk_query(parts.query), header_params={}, body=body)
    sdk_signer.Signer.process_request_uri(request)
    expected = parts.path + ("?" + dbss_signer.canonical_query(parts.query) if parts.query else "")
    assert request.uri == expected


# -- the pieces, where the SDK has no public counterpart ---------------------------

@pytest.mark.parametrize("url,host", [
    ("https://dbss.example.test/v1", "dbss.example.test"),
    ("https://DBSS.Example.Test:443/v1", "dbss.example.test"),
    ("http://127.0.0.1:80/v1", "127.0.0.1"),
    ("https://127.0.0.1:8443/v1", "127.0.0.1:8443"),
    ("http://127.0.0.1:443/v1", "127.0.0.1:443"),
    ("https://[::1]:8443/v1", "[::1]:8443"),
])
def test_host_header_keeps_only_non_default_ports(url, host):
    assert dbss_signer.host_header(url) == host


def test_canonical_pieces():
    assert dbss_signer.canonical_uri("/v1/a b/~x/%7E/caf%C3%A9") == "/v1/a%20b/~x/~/caf%C3%A9/"
    assert dbss_signer.canonical_uri("") == "/"
    assert dbss_signer.canonical_query("b=2&a=2&a=1&c&d=&&e=a+b%20c") == "a=1&a=2&b=2&c=&d=&e=a%2Bb%20c"
    empty = dbss_signer.EMPTY_BODY_SHA256
    assert [dbss_signer.payload_hash({}, body) for body in (None, "", b"")] == [empty] * 3
    assert dbss_signer.payload_hash({"x-sdk-content-sha256": "UNSIGNED-PAYLOAD"}, b"ab") == "UNSIGNED-PAYLOAD"


def test_sign_request_uses_the_date_and_host_already_set():
    given = {"x-sdk-date": "20240131T235958Z", "HOST": "dbss.cn-north-4.myhuaweicloud.com"}
    signed = dbss_signer.sign_request("GET", BASE + JOBS, given, None, AK, SK)
    assert list(signed) == ["Authorization"]
    assert signed == dbss_signer.sign_request("GET", BASE + JOBS, given, None, AK, SK, DATE)
    assert signed["Authorization"] == dbss_signer.sign_request("GET", BASE + JOBS, {}, None, AK, SK, DATE)["Authorization"]


@pytest.mark.parametrize("headers,date", [({}, None), ({}, "2024-02-29 12:30:45"),
                                          ({"X-Sdk-Date": "20240131T235958Z"}, "20240131T235959Z")])
def test_sign_request_refuses_a_missing_bad_or_conflicting_date(headers, date):
    with pytest.raises(ValueError):
        dbss_signer.sign_request("GET", BASE + JOBS, headers, None, AK, SK, date)


def test_sign_request_refuses_a_dict_body_without_showing_the_key():
    with pytest.raises(TypeError) as caught:
        dbss_signer.sign_request("POST", BASE + JOBS, {}, {"a": 1}, AK, SK, DATE)
    assert SK not in str(caught.value)
