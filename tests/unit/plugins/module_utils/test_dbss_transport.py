# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Bounded exchanges, through the client and real sockets: time (trickling
servers, stalls, name lookups that never end), memory (size cap, compression
bombs, deep JSON) and the environment requests reads (~/.netrc, proxies, CA
bundles)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import itertools
import json
import socket
import threading
import time
import tracemalloc
import zlib

import pytest
import requests

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_auth import AkSkAuth, PasswordAuth, TokenAuth
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_client import DbssClient
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssApiError, DbssTransportError
from ansible_collections.hwcloud.dbss.plugins.module_utils import dbss_transport as transport
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_transport import MAX_BODY_BYTES

from ansible_collections.hwcloud.dbss.tests.unit.scripted_server import (
    EXAMPLE_JOB,
    Answer,
    ScriptedServer,
    gzip_bomb,
    jobs,
    make_certificates,
)

PROJECT = "0123456789abcdef0123456789abcdef"
RESOURCE = EXAMPLE_JOB["resource_id"]
# Generous: the limits under test are 0.5 s; this only catches "did not stop at all".
SOON = 5.0


@pytest.fixture
def server():
    srv = ScriptedServer()
    yield srv
    srv.close()


def make_client(url, clock, auth=None, timeout=5.0, max_retries=0, **kwargs):
    return DbssClient(url, PROJECT, auth or TokenAuth("tok-0123456789"), timeout=timeout, max_retries=max_retries,
                      clock=clock, sleep=clock.sleep, rng=lambda: 0.0, **kwargs)


def failure(client, resource_id=RESOURCE, **kwargs):
    """The error of one list_jobs call and the real seconds it took."""
    start = time.monotonic()
    with pytest.raises((DbssApiError, DbssTransportError)) as caught:
        client.list_jobs(resource_id, **kwargs)
    return caught.value, time.monotonic() - start


# -- time ---------------------------------------------------------------------------

@pytest.mark.parametrize("answer", [
    # every byte, headers included, well inside the read timeout: only a total limit ends it
    Answer(200, {"jobs": [EXAMPLE_JOB]}, trickle=0.05),
    # headers at once, then an endless chunked body, one small chunk at a time
    Answer(200, chunks=itertools.repeat(b" "), pause=0.05),
])
def test_a_trickling_answer_is_cut_at_the_limit(server, clock, answer):
    server.queue(answer)
    error, took = failure(make_client(server.url, clock, timeout=0.5))
    assert isinstance(error, DbssTransportError) and error.transient and not error.from_api
    assert "timeout" in str(error) and took < SOON


def test_the_callers_deadline_bounds_the_exchange_too(server, clock):
    server.queue(Answer(200, {"jobs": [EXAMPLE_JOB]}, trickle=0.05))
    error, took = failure(make_client(server.url, clock, timeout=300.0), deadline=clock() + 0.5)
    assert "timeout" in str(error) and took < SOON


def test_after_a_cut_the_next_attempt_gets_its_answer(server, clock):
    server.queue(Answer(stall=1.0), jobs(EXAMPLE_JOB))
    client = make_client(server.url, clock, timeout=0.3, max_retries=1)
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB] and len(clock.sleeps) == 1


def test_a_name_lookup_that_never_ends_is_abandoned(clock, monkeypatch):
    resolving = socket.getaddrinfo
    entered, release = threading.Event(), threading.Event()

    def blocked(host, *args, **kwargs):
        if host == "dbss.blocked.test":
            entered.set()
            release.wait(60)
        return resolving(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", blocked)
    try:
        client = make_client("http://dbss.blocked.test", clock, timeout=300.0)
        error, took = failure(client, deadline=clock() + 0.5)
        assert isinstance(error, DbssTransportError) and error.transient and not error.from_api
        assert "name lookup of dbss.blocked.test" in str(error) and "timeout" in str(error)
        assert entered.is_set() and not release.is_set(), "the call ended while the lookup still hung"
        assert took < SOON
    finally:
        release.set()


def test_a_name_that_does_not_resolve(clock, monkeypatch):
    def unknown(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    error, _took = failure(make_client("http://dbss.nowhere.test", clock))
    assert isinstance(error, DbssTransportError) and error.transient and not error.from_api
    assert "name lookup of dbss.nowhere.test failed" in str(error)


def test_refused_and_reset_connections(server, clock):
    error, _took = failure(make_client("http://127.0.0.1:9", clock))
    assert "127.0.0.1:9" in str(error) and "refused" in str(error) and not error.from_api
    server.queue(Answer(reset=True))
    error, _took = failure(make_client(server.url, clock))
    assert "reset" in str(error) and error.transient
    server.queue(Answer(reset=True), jobs(EXAMPLE_JOB))
    assert make_client(server.url, clock, max_retries=1).list_jobs(RESOURCE) == [EXAMPLE_JOB]


@pytest.mark.parametrize("answer", [
    Answer(200, {"jobs": [EXAMPLE_JOB]}, {"Connection": "close"}, pause=0.05),
    Answer(200, {"jobs": [EXAMPLE_JOB]}, close=True, pause=0.05),
], ids=["with-length", "ended-by-close"])
def test_answers_on_a_connection_the_server_closes_are_read_whole(server, clock, answer):
    server.queue(answer, answer)
    client = make_client(server.url, clock)
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB]
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB]  # on a new connection


def test_a_body_cut_short_is_transient(server, clock):
    server.queue(Answer(200, {"jobs": [EXAMPLE_JOB]}, cut_after=10), jobs(EXAMPLE_JOB))
    assert make_client(server.url, clock, max_retries=1).list_jobs(RESOURCE) == [EXAMPLE_JOB]
    server.queue(Answer(200, {"jobs": [EXAMPLE_JOB]}, cut_after=10))
    error, _took = failure(make_client(server.url, clock))
    assert error.transient and "cut short" in str(error) and not error.from_api


# -- memory -------------------------------------------------------------------------

def _gzip(data):
    return gzip.compress(data)


def _deflate(data):
    return zlib.compress(data)


BOMB = gzip_bomb(1)


@pytest.mark.parametrize("answer", [
    Answer(200, b" " * (MAX_BODY_BYTES + 1)),
    Answer(200, b" " * (MAX_BODY_BYTES + 1), close=True),
    Answer(200, chunks=itertools.repeat(b" " * 65536)),
    Answer(200, BOMB, {"Content-Encoding": "gzip"}),
    Answer(200, chunks=(BOMB[i:i + 8192] for i in range(0, len(BOMB), 8192)), headers={"Content-Encoding": "gzip"}),
    Answer(502, chunks=itertools.repeat(b"<html>" * 10000)),
], ids=["length", "ended-by-close", "endless-chunked", "gzip-bomb", "chunked-gzip-bomb", "endless-error-page"])
def test_an_answer_over_the_cap_is_refused_while_it_streams(server, clock, answer):
    server.queue(answer)
    tracemalloc.start()
    try:
        error, _took = failure(make_client(server.url, clock))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(error, DbssApiError) and error.malformed and error.transient and not error.from_api
    assert "larger than 4 MiB" in str(error)
    assert peak < 8 * MAX_BODY_BYTES


def test_a_refused_credential_with_an_oversized_body_is_not_asked_again(server, clock):
    server.default = Answer(401, chunks=itertools.repeat(b"x" * 65536))
    error, _took = failure(make_client(server.url, clock, max_retries=3))
    assert error.auth_failure and not error.transient and len(server.requests) == 1


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip, br", "compress"])
def test_an_encoding_this_code_does_not_read_is_malformed(server, clock, encoding):
    server.queue(Answer(200, b"\x00\x01garbage", {"Content-Encoding": encoding}))
    error, _took = failure(make_client(server.url, clock))
    assert error.malformed and error.transient and "encoding" in str(error)


@pytest.mark.parametrize("encoding,pack", [("gzip", _gzip), ("x-gzip", _gzip), ("deflate", _deflate)])
def test_compressed_answers_are_read(server, clock, encoding, pack):
    body = pack(json.dumps({"jobs": [EXAMPLE_JOB] * 50}).encode())
    server.queue(Answer(200, body, {"Content-Encoding": encoding}),
                 Answer(200, chunks=[body[:7], body[7:]], headers={"Content-Encoding": encoding}))
    client = make_client(server.url, clock)
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB] * 50
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB] * 50


@pytest.mark.parametrize("body", [_gzip(b'{"jobs": []}')[:-12], b"\x1f\x8b\x08garbage"])
def test_a_garbled_or_truncated_compressed_answer_is_malformed(server, clock, body):
    server.queue(Answer(200, body, {"Content-Encoding": "gzip"}))
    error, _took = failure(make_client(server.url, clock))
    assert error.malformed and error.transient


@pytest.mark.parametrize("status", [200, 400])
@pytest.mark.parametrize("body", [
    b"[" * 100000 + b"]" * 100000,
    b'{"jobs": [' + b'{"a": ' * 100000 + b"1" + b"}" * 100000 + b"]}",
    json.dumps({"jobs": [dict(EXAMPLE_JOB, extra=json.loads("[" * 40 + "]" * 40))]}).encode(),
    b'{"jobs": [], "n": ' + b"7" * 1000000 + b"}",
    b'{"jobs": [], "n": 1.' + b"5" * 1000000 + b"}",
], ids=["list-100k-deep", "object-100k-deep", "40-deep", "million-digit-integer", "million-digit-decimal"])
def test_json_that_would_exhaust_the_parser_is_malformed(server, clock, status, body):
    server.queue(Answer(status, body))
    error, took = failure(make_client(server.url, clock))
    assert isinstance(error, DbssApiError) and error.status == status and took < SOON
    assert error.malformed and error.transient and not error.from_api


# -- what requests reads from the environment ---------------------------------------

@pytest.fixture
def netrc_home(tmp_path, monkeypatch):
    """A HOME whose ~/.netrc has a default entry, as a developer's machine may."""
    netrc = tmp_path / ".netrc"
    netrc.write_text("default login intruder password netrc-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))
    return netrc


def test_netrc_is_read_by_plain_requests(server, netrc_home):
    # The hazard this guards against: requests adds Basic auth from ~/.netrc.
    requests.get(server.url + "/probe", timeout=5)
    assert server.requests[-1]["headers"]["Authorization"].startswith("Basic ")


@pytest.mark.parametrize("mode", ["aksk", "token", "password"])
def test_netrc_never_adds_or_replaces_credentials(server, clock, netrc_home, mode):
    if mode == "aksk":
        auth = AkSkAuth("HPUAEXAMPLEACCESSKEY1", "exampleSecretKey0123456789")
    elif mode == "token":
        auth = TokenAuth("tok-0123456789")
    else:
        auth = PasswordAuth(server.url + "/v3", "alice", "pw-0123456789", "acme", PROJECT)
        server.queue(Answer(201, b"{}", {"X-Subject-Token": "token-1"}))
    make_client(server.url, clock, auth=auth).list_jobs(RESOURCE)
    sent = [r["headers"].get("Authorization") for r in server.requests]
    expected = [None] * len(sent) if mode != "aksk" else sent
    assert sent == expected and all(value is None or value.startswith("SDK-HMAC-SHA256 ") for value in sent)


def test_proxy_variables_still_apply(server, clock, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = make_client("http://dbss.proxied.test", clock)
    assert client.list_jobs(RESOURCE) == [EXAMPLE_JOB]
    assert server.requests[-1]["path"] == "http://dbss.proxied.test/v1/%s/audit/%s/jobs" % (PROJECT, RESOURCE)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert make_client(server.url, clock).list_jobs(RESOURCE) == [EXAMPLE_JOB]


@pytest.fixture
def tls_server(tmp_path):
    ca_file, cert_file, key_file = make_certificates(tmp_path, names=("localhost",))
    srv = ScriptedServer(tls=(cert_file, key_file))
    srv.ca_file = ca_file
    yield srv
    srv.close()


def test_tls_verifies_the_real_host_name_with_the_ca_bundle_variables(tls_server, clock, monkeypatch):
    url = "https://localhost:%d" % tls_server.port
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls_server.ca_file)
    assert make_client(url, clock).list_jobs(RESOURCE) == [EXAMPLE_JOB]
    assert "localhost" in tls_server.sni
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.setenv("CURL_CA_BUNDLE", tls_server.ca_file)
    assert make_client(url, clock).list_jobs(RESOURCE) == [EXAMPLE_JOB]
    # The certificate names localhost, not the address the name resolved to.
    error, _took = failure(make_client("https://127.0.0.1:%d" % tls_server.port, clock, max_retries=3))
    assert "TLS verification of 127.0.0.1" in str(error) and not error.transient and not error.from_api
    monkeypatch.delenv("CURL_CA_BUNDLE")
    error, _took = failure(make_client(url, clock))
    assert "TLS verification of localhost" in str(error) and not error.transient


def test_https_through_a_proxy_still_verifies_the_real_host(tls_server, server, clock, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", server.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls_server.ca_file)
    for name in ("NO_PROXY", "no_proxy", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    url = "https://localhost:%d" % tls_server.port
    assert make_client(url, clock).list_jobs(RESOURCE) == [EXAMPLE_JOB]
    assert server.requests[-1]["method"] == "CONNECT" and server.requests[-1]["path"] == "localhost:%d" % tls_server.port
    assert "localhost" in tls_server.sni


@pytest.mark.parametrize("body", [b'{"jobs":[' + b",".join([b"{}"] * 60000) + b"]}",
                                  b'{"error_code":"X","details":[' + b",".join([b"[]"] * 60000) + b"]}"])
def test_many_small_values_are_refused_before_they_become_python_objects(body):
    with pytest.raises(transport.MalformedBody) as caught:
        transport.decode_json(body)
    assert "more than %d values" % transport.MAX_JSON_ITEMS in str(caught.value)


def test_a_realistic_answer_is_read():
    body = json.dumps({"jobs": [dict(EXAMPLE_JOB, job_id=str(i)) for i in range(1000)]}).encode()
    assert len(transport.decode_json(body)["jobs"]) == 1000
