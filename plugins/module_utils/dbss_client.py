# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""DbssClient: one keep-alive HTTP session to the DBSS API: bounded exchanges
(dbss_transport.py), retries by the policy of dbss_policy.py within the call's
deadline, the auth object (dbss_auth.py), every failure as a ``DbssError``.

* Redirects are never followed (one could hand ``X-Auth-Token`` to another host).
* Every request carries an auth object, so requests adds none from ``~/.netrc``.
* A refused credential (a 401 no re-login cures, a 403, a refused login, a
  locked key) is latched: later calls raise it unsent, so a wrong key reaches
  the API once per run. ``authenticated``: an answer proved the credential.
* Server text is masked (``masker``, then the auth's secrets), then shortened.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.cookiejar
import json
import logging
import random
import threading
import time

from collections import namedtuple
from urllib.parse import quote, urlsplit

try:
    import requests
    import urllib3
    from urllib3.exceptions import HTTPError as UrllibError
    from urllib3.util import Timeout
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by the sanity import test
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_auth import NO_AUTH, project_from_list
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import (
    DbssApiError,
    DbssConfigError,
    DbssError,
    DbssTransportError,
    error_from_body,
    quote_text,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs import jobs_from_body
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_policy import (
    RETRY_AFTER_CAP,
    longest_retry_pauses,
    parse_retry_after,
    retry_pause,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_secrets import NO_SECRETS
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_settings import refuse_dot_segments
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_transport import (
    BoundedAdapter,
    MalformedBody,
    decode_json,
    exchange_error,
    read_body,
)

COLLECTION_NAME = "hwcloud.dbss"
COLLECTION_VERSION = "0.1.0"

# One answer, read: ``problem`` says why its body was refused (too large, ...).
Reply = namedtuple("Reply", "status headers data problem")
# The gateway's "API not published in this environment".
UNPUBLISHED_CODES = frozenset(("APIGW.0101", "APIG.0101"))
# Outside a wait, throttled answers are retried for a gateway's one-minute
# quota window, whatever max_retries (unless 0).
THROTTLE_WINDOW = 61.0


class _Masks:
    """The caller's masker, then the auth's (which learns the IAM token it obtains)."""

    def __init__(self, masker, auth):
        self.text = lambda value: auth.masker.text(masker.text(value))
        self.data = lambda value: auth.masker.data(masker.data(value))


_LOG_MASKS = set()  # the maskers of the open clients


def _mask_record(record):
    """urllib3 logs what it could not parse (a header line, say) as it came:
    its records are masked with every open client's maskers, tracebacks dropped."""
    if _LOG_MASKS:
        text = record.getMessage()
        for masks in list(_LOG_MASKS):
            text = masks.text(text)
        record.msg, record.args, record.exc_info, record.exc_text = text, (), None, None
    return True


for _logger in ("urllib3.connection", "urllib3.connectionpool", "urllib3.response", "urllib3.poolmanager"):
    logging.getLogger(_logger).addFilter(_mask_record)


class DbssClient:
    """A client of the DBSS API bound to one project. ``auth``: an object of
    dbss_auth.py; ``verify``: requests' (True, False or a CA bundle path);
    ``masker``: a SecretMasker of the run's secrets; clock, sleep and random
    source injectable (tests never sleep)."""

    def __init__(self, base_url, project_id, auth, timeout=30.0, max_retries=5, verify=True, masker=NO_SECRETS,
                 rate_limiter=None, clock=time.monotonic, sleep=time.sleep, rng=random.random, log=None):
        self.base_url = base_url.rstrip("/")
        refuse_dot_segments(self.base_url, "endpoint")
        self.project_id = project_id
        self.auth = auth
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.verify = verify
        self.rate_limiter = rate_limiter
        self.clock = clock
        self.sleep = sleep
        self.rng = rng
        self.log = log
        self.requests_sent = 0
        self.authenticated = False
        self._masks = _Masks(masker, auth)
        self._refusal = None
        self._lock = threading.Lock()
        self._project_lock = threading.Lock()
        self._project_error = None
        self.legacy_path = False  # the provider's path, after a 404 APIGW.0101 on the documented one
        self.warnings = []
        self._local = threading.local()
        self.session = _new_session()
        if verify is False:
            # The module warns once; urllib3's per-request warning would only repeat it.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        auth.bind(self._login)
        _LOG_MASKS.add(self._masks)

    def close(self):
        _LOG_MASKS.discard(self._masks)
        self.session.close()

    # -- the API -------------------------------------------------------------

    def jobs_url(self, resource_id, legacy=False):
        if resource_id in (".", ".."):  # quote() keeps them: a path segment urllib3 would drop
            raise DbssConfigError("resource_id", "must not be '.' or '..' (the request would not be sent as signed)")
        form = "%s/v1/%s/dbss/audit/jobs/%s" if legacy else "%s/v1/%s/audit/%s/jobs"
        return form % (self.base_url, quote(self.project_id, safe=""), quote(resource_id, safe=""))

    def list_jobs(self, resource_id, deadline=None, retries=None):
        """The normalised, masked JobBean dicts of one audit instance. Where
        the documented path is not published (404 APIGW.0101), the path the
        Terraform provider uses serves the rest of the run, with a warning."""
        self.find_project(deadline)
        legacy = self.legacy_path
        try:
            return self._list_jobs(resource_id, deadline, retries, legacy)
        except DbssApiError as error:
            if legacy or error.status != 404 or error.error_code not in UNPUBLISHED_CODES:
                raise
            with self._lock:
                if not self.legacy_path:
                    self.legacy_path = True
                    self.warnings.append("%s answered 404 %s to GET /v1/{project_id}/audit/{resource_id}/jobs (not "
                                         "published in this region); using GET /v1/{project_id}/dbss/audit/jobs/"
                                         "{resource_id} instead" % (self.base_url, error.error_code))
        return self._list_jobs(resource_id, deadline, retries, True)

    def _list_jobs(self, resource_id, deadline, retries, legacy):
        return self.request("GET", self.jobs_url(resource_id, legacy), deadline=deadline, retries=retries,
                            operation="listing DBSS audit jobs of resource %s" % resource_id,
                            parse=lambda data: jobs_from_body(data, resource_id))

    def find_project(self, deadline=None):
        """The project id: the one given, else found once by name through IAM
        (AK/SK: a signed GET /v3/projects?name=; password: the login's token)."""
        with self._project_lock:
            if self.project_id is None and self._project_error is not None:
                raise self._project_error.with_traceback(None)  # asked once per run
            if self.project_id is None:
                try:
                    self.project_id = self._find_project(self.auth, deadline)
                except DbssError as error:
                    self._project_error = error
                    raise
        return self.project_id

    def _find_project(self, auth, deadline):
        if auth.kind == "password":
            self._local.deadline = deadline
            auth.token()
            return auth.project_id
        name, found, proved = auth.project_name, [], self.authenticated
        url = "%s/projects?name=%s" % (auth.iam_url, quote(name, safe=""))
        # The id as IAM sent it: request() returns values masked, and a masked id would route elsewhere.
        self.request("GET", url, deadline=deadline, operation="finding IAM project %s at %s" % (name, _host(url)),
                     parse=lambda body: found.append(project_from_list(body, name, auth.project_option, _host(url))))
        # IAM accepting the credential proves nothing to DBSS: its first poll still goes alone.
        self.authenticated = proved
        auth.project_id = found[-1]
        return auth.project_id

    def request(self, method, url, deadline=None, operation=None, parse=None, body=None, retries=None):
        """One API call: ``parse(json)`` of the 2xx answer, masked (a ValueError
        from ``parse``: a malformed, transient answer). ``deadline``: a time of
        ``clock`` (default: ``longest_call()`` from now). ``retries`` (default
        max_retries): a wait passes 0, as it retries each resource itself."""
        if self._refusal is not None:
            raise self._refusal.with_traceback(None)  # the same error, without piling up tracebacks
        refuse_dot_segments(url, "url")
        if deadline is None:
            deadline = self.clock() + self.longest_call()
        self._local.deadline = deadline  # an IAM login this call needs keeps to it
        data = headers = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers = {"Content-Type": "application/json;charset=utf-8"}
        try:
            value = self._call(method, url, data, deadline, operation or "%s %s" % (method, url), self.auth,
                               parse or _same, headers, retries=self.max_retries if retries is None else retries)
        except DbssApiError as error:
            if error.auth_failure:
                self._refusal = error
            elif error.from_api and error.status < 500 and not error.throttled:
                self.authenticated = True
            raise
        self.authenticated = True
        return value

    def longest_call(self):
        """Seconds one call may take when the caller gives no deadline: every
        attempt timing out and every retry pause at its longest, and at least
        a throttling window and one more attempt when retries are allowed."""
        longest = self.timeout * (self.max_retries + 1) + longest_retry_pauses(self.max_retries)
        return max(longest, THROTTLE_WINDOW + self.timeout) if self.max_retries else longest

    # -- one call: retries, 401 renewal -------------------------------------

    def _login(self, method, url, headers, body):
        """PasswordAuth's way out: the 2xx answer to its login, sent without
        credentials within the deadline of the call that needs the token."""
        deadline = getattr(self._local, "deadline", None)
        if deadline is None:
            deadline = self.clock() + self.longest_call()
        return self._call(method, url, body, deadline, self.auth.operation, NO_AUTH, None, headers, login=True,
                          retries=self.max_retries)

    def _call(self, method, url, data, deadline, operation, auth, parse, headers, login=False, retries=0):
        attempt, renewed, error, self._local.throttled_since = 0, False, None, None
        while True:
            if self.rate_limiter is not None and not self.rate_limiter.acquire(deadline):
                # Report what made us wait (often a 429), not the wait itself.
                raise error or DbssTransportError(
                    "%s: the wait deadline passed while waiting for the request-rate limit" % operation)
            prepared = self._prepare(method, url, data, headers, auth)  # signs, or logs in first
            try:
                return self._accept(self._send(prepared, deadline, operation), operation, parse, login)
            except (DbssApiError, DbssTransportError) as exc:
                error = exc
            if not renewed and getattr(error, "status", None) == 401 and not error.locked and auth.renew(prepared):
                renewed = True
                self._debug("401 answered; the credential was renewed, sending again")
                continue
            pause = self._retry_pause(error, attempt, deadline, retries)
            if pause is None:
                raise error
            self._debug("transient failure (%s); retry %d of %d in %.2f s" % (error, attempt + 1, retries, pause))
            self.sleep(pause)
            attempt += 1

    def _retry_pause(self, error, attempt, deadline, retries):
        """Seconds to wait before asking again, or None when the call ends here
        (a Retry-After longer than the cap or than the deadline allows included).
        Throttling is retried through a quota window even past max_retries."""
        if not error.transient or retries == 0:
            return None
        if getattr(error, "throttled", False):
            since = self._local.throttled_since = self._local.throttled_since or self.clock()
            if attempt >= retries and self.clock() - since >= THROTTLE_WINDOW:
                return None
        elif attempt >= retries:
            return None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None and retry_after > RETRY_AFTER_CAP:
            return None
        pause = retry_pause(attempt, self.rng) if retry_after is None else retry_after
        return pause if self.clock() + pause < deadline else None

    # -- one exchange --------------------------------------------------------

    def _prepare(self, method, url, data, headers, auth):
        try:
            return self.session.prepare_request(requests.Request(method, url, headers=headers, data=data, auth=auth))
        except requests.RequestException as exc:
            raise DbssTransportError("a request to %s cannot be built (%s)" % (_host(url), type(exc).__name__),
                                     transient=False)

    def _send(self, prepared, deadline, operation):
        """One exchange within min(timeout, what is left of the deadline); a Reply.
        A failure names the operation (which resource), then what went wrong."""
        limit = min(self.timeout, deadline - self.clock())
        host = _host(prepared.url)
        if limit <= 0:
            raise DbssTransportError("no time was left before the deadline to ask %s" % host)
        # What requests.Session.request would add: proxies, CA bundle variables.
        settings = self.session.merge_environment_settings(prepared.url, {}, True, self.verify, None)
        with self._lock:
            self.requests_sent += 1
        try:
            response = self.session.send(prepared, timeout=Timeout(total=limit), allow_redirects=False, **settings)
            try:
                return Reply(response.status_code, response.headers, read_body(response), None)
            except MalformedBody as problem:
                return Reply(response.status_code, response.headers, b"", str(problem))
        except (requests.RequestException, UrllibError, OSError) as exc:
            error = exchange_error(exc, host, limit, lambda text: quote_text(text, self._masks, 300))
            raise DbssTransportError("%s failed: %s" % (operation, error), transient=error.transient)

    def _accept(self, reply, operation, parse, login):
        """The value of a 2xx answer; raises the DbssApiError of any other."""
        masks = self._masks
        fields = dict(request_id=quote_text(_request_id(reply.headers), masks, 200), operation=operation)
        body, problem, refused = None, reply.problem, reply.problem is not None
        if 300 <= reply.status < 400:
            # Never followed (it could hand a credential to another host), never worth asking again;
            # a login answered so is not tried again either.
            target = quote_text(_host(reply.headers.get("Location") or "") or "nowhere", masks, 200)
            raise DbssApiError(reply.status, error_msg="a redirect to %s, not followed; set endpoint or auth_url to "
                               "the URL that answers" % target, login_refused=login, **fields)
        if problem is None:
            try:
                body = decode_json(reply.data)
            except MalformedBody as exc:
                problem, refused = str(exc), exc.refused
        if 200 <= reply.status < 300:
            if self.rate_limiter is not None:
                self.rate_limiter.on_success()
            if parse is None:
                return reply._replace(data=body)  # the IAM login reads a header and the token's project
            if problem is not None:
                raise DbssApiError(reply.status, error_msg=quote_text(problem, masks), malformed=True, **fields)
            try:
                return masks.data(parse(body))
            except (ValueError, RecursionError) as exc:  # dbss_jobs.MalformedJobs included
                # Malformed, so transient, unless the parser knows no answer of that kind will do.
                raise DbssApiError(reply.status, error_msg=quote_text(str(exc), masks),
                                   malformed=not getattr(exc, "final", False), from_api=isinstance(body, dict),
                                   **fields)
        error = error_from_body(reply.status, body, quote_text(problem, masks), masks, auth_label=self.auth.label,
                                retry_after=parse_retry_after(reply.headers.get("Retry-After")),
                                login_refused=login and reply.status in (400, 401, 403),
                                malformed=refused, **fields)
        if error.throttled and self.rate_limiter is not None:
            # The gateway's quota is per user: its Retry-After pauses the shared limit too.
            self.rate_limiter.on_throttled(error.retry_after)
        raise error

    def _debug(self, message):
        if self.log is not None:
            self.log(message)


def _new_session():
    session = requests.Session()
    # Our own retries own the policy; urllib3's must not add hidden ones.
    adapter = BoundedAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    # Every request carries an auth object, so requests never adds one from ~/.netrc.
    session.auth = NO_AUTH
    # The API needs no cookie; kept ones would grow every request (and memory) without bound.
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    session.headers.clear()
    # gzip and deflate only: dbss_transport decompresses them within its cap.
    agent = "%s/%s (Ansible collection; python-requests/%s)" % (COLLECTION_NAME, COLLECTION_VERSION, requests.__version__)
    session.headers.update({"User-Agent": agent, "Accept": "application/json", "Accept-Encoding": "gzip, deflate"})
    return session


def _same(value):
    return value


def _request_id(headers):
    return headers.get("X-Request-Id") or headers.get("X-Openstack-Request-Id") or headers.get("X-Trace-Id")


def _host(url):
    return urlsplit(url).netloc or url
