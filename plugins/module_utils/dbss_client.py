# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""DbssClient: one keep-alive HTTP session to the DBSS API.

It owns everything about talking HTTP: the base URL, the per-request timeout,
TLS settings, bounded retries of transient failures (exponential backoff with
full jitter, ``Retry-After`` honoured, never past a caller's deadline), the
authentication seam (``auth.headers_for`` / ``auth.refresh_after_401``) and the
translation of every failure into a ``DbssError``.

Redirects are never followed: the DBSS API does not redirect, and following
one could hand ``X-Auth-Token`` to another host (requests only strips the
``Authorization`` header on cross-host redirects, not custom ones).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import random
import threading
import time

from urllib.parse import quote, urlsplit

try:
    import requests
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by the sanity import test
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_transport import RequestWatchdog, WatchedAdapter
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import (
    TRANSIENT_STATUSES,
    DbssApiError,
    DbssTransportError,
    describe_non_json_body,
    parse_error_body,
)

COLLECTION_NAME = "hwcloud.dbss"
COLLECTION_VERSION = "0.1.0"

# The 13 documented JobBean fields, in the API reference's order.
JOB_FIELDS = (
    "job_id", "status", "job_type", "server_id", "server_name", "resource_id",
    "begin_time", "end_time", "charge_mode", "error_code", "fail_reason",
    "ha_id", "ha_name",
)

# Backoff between retries of one request: full jitter over base * 2**attempt, capped.
RETRY_BASE_SECONDS = 0.5
RETRY_CAP_SECONDS = 20.0
# A Retry-After larger than this is not waited for inside one request's retries;
# the caller (a wait with a deadline) decides whether to come back later.
RETRY_AFTER_CAP_SECONDS = 120.0


def user_agent():
    req = getattr(requests, "__version__", "unknown")
    return "%s/%s (Ansible collection; python-requests/%s)" % (COLLECTION_NAME, COLLECTION_VERSION, req)


def parse_retry_after(value, now_epoch=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is None:
        try:
            from email.utils import parsedate_to_datetime
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        now = time.time() if now_epoch is None else now_epoch
        seconds = when.timestamp() - now
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def normalise_job(job):
    """Every documented field present (None when the API left it out); extra
    fields the API may add later are kept, values untouched."""
    out = dict((name, job.get(name)) for name in JOB_FIELDS)
    for key, value in job.items():
        if key not in out:
            out[key] = value
    return out


def parse_jobs_body(response_text, status, request_id, operation="listing DBSS audit jobs"):
    """The ``jobs`` list of a 200 answer, or a DbssApiError saying what is wrong
    with the body. A malformed success body is treated as transient: it is what
    a connection cut mid-body or a confused gateway produce."""
    problem = None
    try:
        data = json.loads(response_text)
    except ValueError:  # empty, an HTML page, or cut short
        data = None
        problem = describe_non_json_body(response_text)
    if problem is None:
        if not isinstance(data, dict):
            problem = "response body is not a JSON object"
        elif not isinstance(data.get("jobs"), list):
            problem = "response body has no 'jobs' list"
        elif not all(isinstance(job, dict) for job in data["jobs"]):
            problem = "'jobs' holds an entry that is not an object"
    if problem:
        return None, DbssApiError(status, error_msg=problem, request_id=request_id, operation=operation, malformed=True)
    return [normalise_job(job) for job in data["jobs"]], None


class DbssClient:
    """A client of the DBSS API bound to one project.

    ``auth`` is an object of plugins/module_utils/dbss_auth.py (token, AK/SK or
    IAM password); the clock, sleep and random source are injectable so the
    retry logic is unit-tested without sleeping.
    """

    def __init__(self, base_url, project_id, auth, timeout=30.0, max_retries=5,
                 validate_certs=True, ca_path=None, session=None, rate_limiter=None,
                 clock=time.monotonic, sleep=time.sleep, rng=random.random, log=None):
        self.base_url = base_url.rstrip("/")
        self.project_id = project_id
        self.auth = auth
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
        self.session = session if session is not None else self._new_session()
        if self.verify is False:
            # The module itself warns once; urllib3's per-request warning would
            # only repeat it on stderr.
            requests.packages.urllib3.disable_warnings(requests.packages.urllib3.exceptions.InsecureRequestWarning)
        self.rate_limiter = rate_limiter
        self.clock = clock
        self.sleep = sleep
        self.rng = rng
        self.log = log
        self._lock = threading.Lock()
        self.requests_sent = 0

    @staticmethod
    def _new_session():
        session = requests.Session()
        # Our own retries own the policy; urllib3's must not add hidden ones.
        # WatchedAdapter: a total time limit per exchange (see dbss_transport).
        adapter = WatchedAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.trust_env = True
        return session

    def close(self):
        self.session.close()

    # -- the API -------------------------------------------------------------

    def jobs_url(self, resource_id):
        return "%s/v1/%s/audit/%s/jobs" % (self.base_url, quote(self.project_id, safe=""), quote(resource_id, safe=""))

    def list_jobs(self, resource_id, deadline=None):
        """The JobBean dicts of one audit instance (``GET .../audit/{id}/jobs``)."""
        operation = "listing DBSS audit jobs of resource %s" % resource_id
        return self.request("GET", self.jobs_url(resource_id), deadline=deadline, operation=operation,
                            parse=lambda r: parse_jobs_body(r.text, r.status_code, _request_id(r), operation))

    # -- one call: auth, 401 refresh, retries --------------------------------

    def request(self, method, url, deadline=None, operation=None, parse=None, body=None):
        """Send one API call; returns ``parse(response)`` (or the response).

        Transient failures are retried up to ``max_retries`` times; a 401 is
        retried once after the auth strategy obtained a fresh credential."""
        if deadline is None:
            deadline = self.clock() + self.longest_call()
        refreshed = False
        # A login the auth strategy makes for this call keeps to its deadline.
        unsigned = self._unsigned_sender(deadline)
        while True:
            try:
                return self._send_with_retries(method, url, body, deadline, operation, parse, sign=True,
                                               unsigned=unsigned)
            except DbssApiError as error:
                if error.status != 401 or self.auth is None or error.login_refused:
                    raise
                if refreshed or not self.auth.refresh_after_401(unsigned):
                    raise _authentication_failed(error, self.auth)
                refreshed = True
                self._debug("401 answered; the credential was renewed, sending again")

    def longest_call(self):
        """Seconds one call may take when the caller gives no deadline (every
        retry loop has one): as long as it would take if every attempt timed
        out and every backoff pause were at its longest. A Retry-After longer
        than those pauses ends the call early instead of stretching it."""
        pauses = sum(min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * (2 ** attempt)) for attempt in range(self.max_retries))
        return self.timeout * (self.max_retries + 1) + pauses

    def send_unsigned(self, method, url, headers=None, body=None, deadline=None):
        """One request without API auth (used by IAM login); retried like any other.
        Returns the raw response for any HTTP status."""
        return self._send_with_retries(method, url, body, deadline, "IAM request", parse=None, sign=False,
                                       extra_headers=headers, raise_for_status=False)

    def _unsigned_sender(self, deadline):
        def send(method, url, headers=None, body=None):
            return self.send_unsigned(method, url, headers, body, deadline=deadline)
        return send

    def _send_with_retries(self, method, url, body, deadline, operation, parse, sign,
                           extra_headers=None, raise_for_status=True, unsigned=None):
        attempt = 0
        error = None
        while True:
            if self.rate_limiter is not None and not self.rate_limiter.acquire(deadline):
                # Report what made us wait (often a 429), not the wait itself.
                raise error or DbssTransportError(
                    "%s: the wait deadline passed while waiting for the request-rate limit" % (operation or "request"))
            error, retry_after = None, None
            try:
                response = self._send_once(method, url, body, sign, extra_headers, unsigned)
            except DbssTransportError as exc:
                if not exc.transient:
                    raise
                error = exc
            else:
                status = response.status_code
                if not 200 <= status < 300:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if status == 429 and self.rate_limiter is not None:
                    self.rate_limiter.on_throttled(retry_after)
                if not raise_for_status and status not in TRANSIENT_STATUSES:
                    return response
                if 200 <= status < 300:
                    if self.rate_limiter is not None:
                        self.rate_limiter.on_success()
                    if parse is None:
                        return response
                    value, error = parse(response)
                    if error is None:
                        return value
                else:
                    error = parse_error_body(status, response.text, request_id=_request_id(response),
                                             retry_after=retry_after, operation=operation)
                    if not error.transient:
                        raise error
            delay = self._backoff(attempt, retry_after)
            if attempt >= self.max_retries or not self._time_left(deadline, delay) or (
                    retry_after is not None and retry_after > RETRY_AFTER_CAP_SECONDS):
                if not raise_for_status and not isinstance(error, DbssTransportError):
                    return response
                raise error
            self._debug("transient failure (%s); retry %d of %d in %.2f s" % (error, attempt + 1, self.max_retries, delay))
            self.sleep(delay)
            attempt += 1

    def _backoff(self, attempt, retry_after):
        if retry_after is not None:
            return retry_after
        return self.rng() * min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * (2 ** attempt))

    def _time_left(self, deadline, delay):
        return deadline is None or self.clock() + delay < deadline

    def _send_once(self, method, url, body, sign, extra_headers, unsigned=None):
        # ``unsigned``: how a login the auth strategy needs for this call is sent
        # (request() binds it to the call's deadline); used only when ``sign``.
        headers = {
            "User-Agent": user_agent(),
            "Accept": "application/json",
        }
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            headers["Content-Type"] = "application/json;charset=utf-8"
        if extra_headers:
            headers.update(extra_headers)
        if sign and self.auth is not None:
            headers.update(self.auth.headers_for(method, url, headers, data or "", unsigned))
        with self._lock:
            self.requests_sent += 1
        watchdog = RequestWatchdog(self.timeout)
        try:
            with watchdog:
                response = self.session.request(method, url, headers=headers, data=data, timeout=self.timeout,
                                                verify=self.verify, allow_redirects=False)
        except requests.exceptions.RequestException as exc:
            raise self._transport_error(exc, url, watchdog.fired)
        if watchdog.fired:
            # The cut may have looked like the end of a body sent without a length.
            raise self._transport_error(None, url, True)
        return response

    def _transport_error(self, exc, url, cut_by_watchdog):
        """A DbssTransportError for an exchange that got no usable answer. Only
        TLS verification failures and malformed requests are permanent."""
        host, exceptions = _host_of(url), requests.exceptions
        if cut_by_watchdog:
            return DbssTransportError("no complete answer from %s within %s s (timeout; the server was still "
                                      "sending)" % (host, _fmt(self.timeout)))
        if isinstance(exc, exceptions.SSLError):
            return DbssTransportError(
                "TLS verification of %s failed; set ca_path to the CA bundle that signed its certificate "
                "(or validate_certs: false for a lab only)" % host, transient=False)
        if isinstance(exc, exceptions.Timeout):
            return DbssTransportError("no answer from %s within %s s (timeout)" % (host, _fmt(self.timeout)))
        if isinstance(exc, exceptions.ConnectionError):
            return DbssTransportError("connection to %s failed: %s" % (host, _reason(exc)))
        if isinstance(exc, (exceptions.ChunkedEncodingError, exceptions.ContentDecodingError)):
            # The connection broke, or the body came garbled, mid-answer: as
            # transient as a reset before the answer.
            return DbssTransportError("the answer from %s was cut short or garbled (%s)" % (host, type(exc).__name__))
        return DbssTransportError("request to %s failed: %s" % (host, type(exc).__name__), transient=False)

    def _debug(self, message):
        if self.log is not None:
            self.log(message)


AUTH_MODE_LABELS = {
    "token": "token (auth_token)",
    "aksk": "AK/SK signing (access_key, secret_key)",
    "password": "IAM password (user_name, password, domain_name)",
}


def _authentication_failed(error, auth):
    """The same 401 error, its message saying which credentials were refused."""
    label = AUTH_MODE_LABELS.get(getattr(auth, "kind", None), "unknown")
    error.auth_mode = getattr(auth, "kind", None)
    error.args = ("authentication failed (mode: %s): %s" % (label, error),)
    return error


def _request_id(response):
    headers = response.headers
    return headers.get("X-Request-Id") or headers.get("X-Openstack-Request-Id") or headers.get("X-Trace-Id")


def _host_of(url):
    return urlsplit(url).netloc or url


def _fmt(seconds):
    return ("%g" % seconds)


def _reason(exc):
    """The innermost reason of a connection error, without the URL repetition
    requests puts in front (it names the pool and the full path)."""
    text = str(exc)
    for marker in ("Caused by ", "Failed to establish a new connection: "):
        if marker in text:
            text = text.split(marker, 1)[1]
    text = text.strip(" ()'\"")
    if "Connection reset" in text or "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the connection was reset or closed without an answer"
    if "Connection refused" in text:
        return "connection refused"
    return text[:200]
