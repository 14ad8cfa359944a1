# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""One HTTP exchange, bounded in time and in memory.

Time: each exchange has a limit (the timeout, or what is left of the caller's
deadline) and every stage keeps to what remains: the name lookup runs in a
daemon thread abandoned at the limit (``getaddrinfo`` cannot be interrupted),
connect and TLS get what is left, and every read sets the socket timeout to
what is left, so a server trickling a byte at a time is cut at the limit.

Memory: ``read_body`` reads at most ``MAX_BODY_BYTES`` (4 MiB after
decompression, some 8,000 JobBeans) and inflates gzip and deflate itself with
a bounded output. ``decode_json`` refuses JSON nested deeper than
``MAX_JSON_DEPTH``, with more than ``MAX_JSON_ITEMS`` values, or numbers longer
than ``MAX_NUMBER_DIGITS`` digits.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.client
import io
import json
import re
import socket
import threading
import time
import zlib

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import ConnectTimeoutError, HTTPError as UrllibError, NewConnectionError, ReadTimeoutError
    from urllib3.util.connection import allowed_gai_family
    HAS_URLLIB3 = True
except ImportError:  # pragma: no cover - the client reports the missing requests library
    HTTPAdapter = ConnectTimeoutError = object
    HAS_URLLIB3 = False

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssTransportError

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_JSON_DEPTH = 32
MAX_JSON_ITEMS = 50000  # some 3,500 JobBeans
MAX_NUMBER_DIGITS = 4300  # Python's own limit for int() (3.11+), for every version and floats too
CHUNK_BYTES = 64 * 1024


class MalformedBody(ValueError):
    """An unusable answer body; the message says why. ``refused``: this code
    would not read it (too large, too deep, ...), rather than it not being JSON."""

    def __init__(self, message, refused=True):
        super(MalformedBody, self).__init__(message)
        self.refused = refused


def _left(deadline):
    """Seconds until ``deadline`` (time.monotonic); socket.timeout once none are left."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise socket.timeout("the exchange's time limit passed")
    return left


def resolve(host, port, timeout):
    """``getaddrinfo`` for a TCP connection, or None when it did not finish
    within ``timeout`` seconds (the lookup is then abandoned to its thread)."""
    found = {}

    def lookup():
        try:
            found["addresses"] = socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
        except Exception as exc:  # pylint: disable=broad-except
            # handed to the waiting thread, which raises it
            found["error"] = exc

    thread = threading.Thread(target=lookup, name="dbss-resolve %s" % host, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return None
    if "error" in found:
        raise found["error"]
    return found["addresses"]


def _connect(addresses, deadline, source_address, options):
    """A socket connected to the first address that answers within the deadline."""
    error = OSError("the name resolved to no address")
    for family, kind, proto, _name, address in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            for option in options or ():
                sock.setsockopt(*option)
            if source_address:
                sock.bind(source_address)
            sock.settimeout(_left(deadline))
            sock.connect(address)
            # The TLS handshake that follows gets only what is left.
            sock.settimeout(_left(deadline))
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error


class _DeadlineReader(io.RawIOBase):
    """The socket as a file whose every read ends by the deadline. It holds
    the file http.client made, unread: that keeps the socket open until the
    answer is read, even when the connection lets go of it (``Connection: close``)."""

    def __init__(self, sock, deadline, plain):
        super(_DeadlineReader, self).__init__()
        self._sock = sock
        self._deadline = deadline
        self._plain = plain

    def readable(self):
        return True

    def readinto(self, buffer):
        self._sock.settimeout(_left(self._deadline))
        return self._sock.recv_into(buffer)

    def close(self):
        self._plain.close()
        super(_DeadlineReader, self).close()


class DeadlineResponse(http.client.HTTPResponse):
    """http.client's response, read through a _DeadlineReader. The limit is the
    socket timeout urllib3 set for the answer (what is left of the exchange's
    total), counted from now."""

    def __init__(self, sock, *args, **kwargs):
        http.client.HTTPResponse.__init__(self, sock, *args, **kwargs)
        limit = sock.gettimeout()
        if limit is not None:
            self.fp = io.BufferedReader(_DeadlineReader(sock, time.monotonic() + limit, self.fp))


class LookupTimeout(ConnectTimeoutError):
    """The name lookup did not finish within the exchange's limit."""


if HAS_URLLIB3:
    class _BoundedConnection:
        """Resolves and connects within the connect timeout, which urllib3 sets
        to what is left of the exchange's total."""

        response_class = DeadlineResponse

        def request(self, *args, **kwargs):  # pylint: disable=arguments-differ
            if self.sock is not None and isinstance(self.timeout, (int, float)):
                self.sock.settimeout(self.timeout)  # a reused socket keeps the last answer's short timeout
            return super(_BoundedConnection, self).request(*args, **kwargs)

        def _new_conn(self):
            limit = self.timeout if isinstance(self.timeout, (int, float)) else None
            deadline = None if limit is None else time.monotonic() + limit
            host = self._dns_host.strip("[]")
            try:
                addresses = resolve(host, self.port, limit)
            except (OSError, UnicodeError) as exc:
                raise NewConnectionError(self, "the name lookup of %s failed: %s" % (host, exc))
            if addresses is None:
                raise LookupTimeout(self, "the name lookup of %s did not finish within %.3g s" % (host, limit))
            try:
                return _connect(addresses, deadline, self.source_address, self.socket_options)
            except socket.timeout:
                raise ConnectTimeoutError(self, "connecting to %s timed out" % host)
            except OSError as exc:
                raise NewConnectionError(self, "Failed to establish a new connection: %s" % exc)

    class _HTTPConnection(_BoundedConnection, HTTPConnection):
        pass

    class _HTTPSConnection(_BoundedConnection, HTTPSConnection):
        pass

    class _HTTPPool(HTTPConnectionPool):
        ConnectionCls = _HTTPConnection

    class _HTTPSPool(HTTPSConnectionPool):
        ConnectionCls = _HTTPSConnection

    _PLAIN_POOLS = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}
    _BOUNDED_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


def _bounded(manager):
    """Swap a pool manager's plain pools for bounded ones (SOCKS managers keep theirs)."""
    if dict(manager.pool_classes_by_scheme) == _PLAIN_POOLS:
        manager.pool_classes_by_scheme = dict(_BOUNDED_POOLS)
    return manager


class BoundedAdapter(HTTPAdapter):
    """requests' HTTPAdapter whose connections keep to the exchange's limit."""

    def init_poolmanager(self, *args, **kwargs):
        super(BoundedAdapter, self).init_poolmanager(*args, **kwargs)
        _bounded(self.poolmanager)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        return _bounded(super(BoundedAdapter, self).proxy_manager_for(proxy, **proxy_kwargs))


def _decoder(content_encoding):
    """A bounded decompressor for the answer's Content-Encoding, None for none."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "identity":
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(32 + zlib.MAX_WBITS)  # a gzip or zlib header, detected
    raise MalformedBody("the answer is in an encoding this collection does not read (Content-Encoding: %.40s)"
                        % encoding)


def _too_large(cap):
    return MalformedBody("the answer is larger than %d MiB, the most this collection reads" % (cap // (1024 * 1024)))


def read_body(response, cap=MAX_BODY_BYTES):
    """The whole body of a streamed requests response, decompressed, at most
    ``cap`` bytes. Raises MalformedBody; network errors pass through (urllib3's
    or OSError). The connection goes back to the pool only after a complete read."""
    try:
        decoder = _decoder(response.headers.get("Content-Encoding"))
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise _too_large(cap)
        parts, size, received = [], 0, 0
        while True:
            chunk = response.raw.read(CHUNK_BYTES, decode_content=False)
            if not chunk:
                break
            received += len(chunk)
            if decoder is not None:
                # At most one byte more than the room left: enough to know it is too much.
                chunk = decoder.decompress(chunk, cap - size + 1)
            size += len(chunk)
            if size > cap or received > cap + CHUNK_BYTES:
                raise _too_large(cap)
            parts.append(chunk)
        if declared.isdigit() and received != int(declared):  # urllib3 1.x does not check
            raise MalformedBody("the answer was cut short after %d of %s bytes" % (received, declared))
        if decoder is not None and received and not decoder.eof:
            raise MalformedBody("the compressed answer was cut short")
    except zlib.error:
        response.close()
        raise MalformedBody("the compressed answer is garbled")
    except BaseException:
        response.close()
        raise
    response.raw.release_conn()
    return b"".join(parts)


def _short_number(convert):
    def parse(text):
        if len(text) > MAX_NUMBER_DIGITS:
            raise MalformedBody("the JSON answer holds a number of more than %d digits" % MAX_NUMBER_DIGITS)
        return convert(text)
    return parse


_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},]')


def _shape_problem(data):
    """Why the JSON text must not be parsed (measured on its strings, brackets
    and commas), or None: json.loads recurses, and 4 MiB of ``{},`` would make
    gigabytes of Python objects."""
    depth = items = 0
    for match in _JSON_TOKENS.finditer(data):
        token = match.group()
        if token in (b"[", b"{", b","):
            items += 1
            if items > MAX_JSON_ITEMS:
                return "the JSON answer holds more than %d values" % MAX_JSON_ITEMS
            depth += token != b","
            if depth > MAX_JSON_DEPTH:
                return "the JSON answer is nested deeper than %d levels" % MAX_JSON_DEPTH
        elif token in (b"]", b"}"):
            depth -= 1
    return None


def describe_non_json(data):
    """One line that tells the user what came back when it was not JSON."""
    stripped = (data or b"").strip()
    if not stripped:
        return "empty response body"
    if stripped.startswith(b"<"):
        return "non-JSON response body (an HTML page, likely from a gateway or proxy)"
    return "response body is not valid JSON (%d bytes, possibly truncated)" % len(data)


def decode_json(data):
    """The JSON value of a body; raises MalformedBody saying what it is instead."""
    problem = _shape_problem(data)
    if problem:
        raise MalformedBody(problem)
    try:
        value = json.loads(data, parse_int=_short_number(int), parse_float=_short_number(float))
    except MalformedBody:
        raise
    except ValueError:  # not JSON, not UTF-8, or an integer too long to read safely
        raise MalformedBody(describe_non_json(data), refused=False)
    return value


def exchange_error(exc, host, limit, quote):
    """A DbssTransportError for an exchange that got no usable answer (``quote``
    masks and shortens server text). Only TLS verification failures are permanent."""
    reason = quote(_reason(exc))
    if "CA certificate bundle" in str(exc):  # requests: REQUESTS_CA_BUNDLE or ca_path names no file
        return DbssTransportError("the CA bundle to verify %s cannot be read (%s); check ca_path, "
                                  "REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE" % (host, reason), transient=False)
    if isinstance(exc, requests.exceptions.SSLError):
        return DbssTransportError(
            "TLS verification of %s failed (%s); set ca_path to the CA bundle that signed its certificate "
            "(or validate_certs: false for a lab only)" % (host, reason), transient=False)
    if isinstance(_cause(exc), LookupTimeout):
        return DbssTransportError("%s (timeout)" % reason)
    if isinstance(exc, (requests.exceptions.Timeout, ReadTimeoutError, socket.timeout)):
        return DbssTransportError("no complete answer from %s within %.3g s (timeout)" % (host, limit))
    if isinstance(exc, requests.exceptions.ProxyError):
        return DbssTransportError("connection to %s through the proxy failed: %s" % (host, reason))
    if isinstance(exc, requests.exceptions.ConnectionError):
        return DbssTransportError("connection to %s failed: %s" % (host, reason))
    if isinstance(exc, (UrllibError, OSError)):
        return DbssTransportError("the answer from %s was cut short (%s)" % (host, type(exc).__name__))
    return DbssTransportError("request to %s failed: %s" % (host, type(exc).__name__), transient=False)


def _cause(exc):
    """The urllib3 error under a requests one (MaxRetryError.reason), or ``exc``."""
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return exc if reason is None else reason


def _reason(exc):
    """The innermost reason of a connection error, without the pool and URL
    repetition urllib3 and requests put in front."""
    cause = _cause(exc)
    texts = [arg for arg in getattr(cause, "args", ()) if isinstance(arg, str)]
    text = re.sub(r"^(<[^>]*>|\w+\([^)]*\)): ", "", texts[-1] if texts else str(cause))
    for marker in ("Caused by ", "Failed to establish a new connection: "):
        text = text.split(marker, 1)[-1]
    text = text.strip(" ()'\"")
    if "Connection reset" in text or "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the connection was reset or closed without an answer"
    if "Connection refused" in text:
        return "connection refused"
    return text
