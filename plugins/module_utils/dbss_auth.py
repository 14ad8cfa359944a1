# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Authentication for hwcloud.dbss: token, IAM password login and AK/SK signing.

Choosing a mode (``select_auth``)
=================================

Three modes exist. When the options of more than one mode are complete, the
first of this list wins:

1. ``auth_token``: the token is sent as ``X-Auth-Token``. An expired or
   revoked token cannot be renewed, so a 401 answer fails the task.
2. ``access_key`` + ``secret_key`` (optionally ``security_token`` for
   temporary credentials): every request is signed with SDK-HMAC-SHA256, the
   algorithm of the Huawei Cloud SDKs. ``project_id``, when set, is sent as
   ``X-Project-Id``.
3. ``user_name`` + ``password`` + ``domain_name``: the collection logs in to
   IAM (``POST {auth_url}/auth/tokens``, scoped to ``project_id``), caches the
   token and logs in once more when the API answers 401.

Incomplete sets are errors, whatever other mode is complete, because a half
given mode is almost always a typing mistake:

* ``access_key`` without ``secret_key``, or ``secret_key`` without ``access_key``;
* ``security_token`` without ``access_key`` and ``secret_key``;
* ``user_name`` or ``password`` without the other two of
  ``user_name``, ``password``, ``domain_name``.

``auth_url`` and ``domain_name`` alone are the exception: environments set up
for the Terraform provider often export ``HW_AUTH_URL`` and ``HW_DOMAIN_NAME``
whatever the mode, so they are ignored when a token or an AK/SK pair is used.
When no mode is complete they are reported as an incomplete password login.

With no credentials at all the error names ``auth_token``.

Password login needs ``project_id`` (the token is scoped to it). ``auth_url``
defaults to ``https://iam.{region}.{cloud}/v3`` (``cloud`` defaults to
``myhuaweicloud.com``); without ``auth_url`` and ``region`` the error names
``auth_url``. ``auth_url`` must be an ``http`` or ``https`` URL with a host,
without user information, query or fragment; trailing ``/`` are removed.

An empty string counts as not set, so an empty environment variable does not
select a mode.

The auth objects (the client's single seam)
===========================================

Every auth object has ``kind`` (``"token"``, ``"aksk"`` or ``"password"``) and:

``headers_for(method, url, headers, body, send)``
    The headers to add to one request; called before every attempt,
    retries included. Merge them with ``merge_headers(headers, extra)`` so a
    header the caller set in another letter case is replaced, not doubled.

``refresh_after_401(send)``
    ``True`` when a fresh credential was obtained and the request is worth
    sending once more, ``False`` when a 401 cannot be cured.

``send(method, url, headers, body)`` performs one HTTP request (timeout and
retries included) and returns an object with ``status_code``, ``headers`` (a
case-insensitive mapping) and ``text``.

AK/SK signing
=============

``sign_request`` reproduces ``huaweicloudsdkcore.signer.signer.Signer``
(SDK-HMAC-SHA256). The signed request must be the request that is sent:

* ``Host`` is signed; ``sign_request`` adds it (from the URL: lower-case
  host, port only when it is not the scheme's default) unless ``headers``
  already carry one, and the caller must send it explicitly.
* The query string is read with percent-decoding only (a ``+`` is a literal
  plus sign, as in the SDK). Build query strings with ``%20`` for spaces;
  ``canonical_query`` gives the exact form the SDK itself puts on the wire.
* Header values are signed with surrounding white space removed; header
  names containing ``_`` are sent but not signed.
* A ``Content-Type`` other than JSON or BSON adds
  ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` and leaves a non-empty body
  unsigned, as the SDK does.

No message, exception or ``repr`` made here contains a token, password,
secret key or security token.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import hmac
import json
import threading

from urllib.parse import quote, unquote, urlsplit

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import (
    DbssApiError,
    DbssConfigError,
    parse_error_body,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_settings import validate_header_secret, validate_http_url

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
DEFAULT_CLOUD = "myhuaweicloud.com"

HEADER_DATE = "X-Sdk-Date"
HEADER_HOST = "Host"
HEADER_AUTHORIZATION = "Authorization"
HEADER_CONTENT_SHA256 = "X-Sdk-Content-Sha256"
HEADER_PROJECT_ID = "X-Project-Id"
HEADER_SECURITY_TOKEN = "X-Security-Token"
HEADER_AUTH_TOKEN = "X-Auth-Token"
HEADER_SUBJECT_TOKEN = "X-Subject-Token"

_DEFAULT_PORTS = {"http": 80, "https": 443}
_MASK = "********"


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

def _encode(text):
    """Percent-encode everything but unreserved characters (``~`` stays)."""
    return quote(text, safe="~")


def _get_header(headers, name):
    """The value of header ``name`` in ``headers``, any letter case, or None."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def merge_headers(headers, extra):
    """A new dict: ``headers`` with ``extra`` laid over it, names compared
    without regard to letter case (an ``extra`` name replaces any spelling)."""
    replaced = set(key.lower() for key in extra)
    merged = dict((key, value) for key, value in (headers or {}).items() if key.lower() not in replaced)
    merged.update(extra)
    return merged


def _body_bytes(body):
    """The body as bytes (str is UTF-8 encoded); None for an empty body."""
    if body is None:
        return None
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not isinstance(body, (bytes, bytearray)):
        raise TypeError("body to sign must be str, bytes or None, not %s" % type(body).__name__)
    return bytes(body) if body else None


def _format_date(sdk_date):
    """``sdk_date`` (a datetime, naive meaning UTC, or a ``%Y%m%dT%H%M%SZ``
    string) as the ``X-Sdk-Date`` text; a string is checked, not changed."""
    if isinstance(sdk_date, datetime.datetime):
        if sdk_date.tzinfo is not None:
            sdk_date = sdk_date.astimezone(datetime.timezone.utc)
        return sdk_date.strftime(DATE_FORMAT)
    text = str(sdk_date).strip()
    try:
        datetime.datetime.strptime(text, DATE_FORMAT)
    except ValueError:
        raise ValueError("X-Sdk-Date must look like 20240131T235959Z (UTC), got %r" % text) from None
    return text


def host_header(url):
    """The ``Host`` value a client sends for ``url``: lower-case host (IDNA
    encoded, IPv6 in brackets), with the port only when it is not the
    scheme's default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    if ":" in host:
        host = "[%s]" % host
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = "%s:%d" % (host, port)
    return host


# ---------------------------------------------------------------------------
# SDK-HMAC-SHA256, one step per function
# ---------------------------------------------------------------------------

def canonical_uri(path):
    """The path decoded, each segment re-encoded (safe ``~``), ending in ``/``."""
    segments = unquote(path or "").split("/")
    encoded = "/".join(_encode(segment) for segment in segments)
    return encoded if encoded.endswith("/") else encoded + "/"


def query_pairs(query):
    """``(name, value)`` pairs of a raw query string, percent-decoded, in
    order; ``a`` and ``a=`` both give an empty value."""
    pairs = []
    for item in (query or "").split("&"):
        if not item:
            continue
        name, _sep, value = item.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def canonical_query(query):
    """The query sorted by decoded name then value, each part encoded."""
    return "&".join("%s=%s" % (_encode(name), _encode(value)) for name, value in sorted(query_pairs(query)))


def signed_header_names(headers):
    """Lower-case names of the headers to sign: all but names with ``_``."""
    return sorted(set(key.lower() for key in headers if "_" not in key))


def canonical_headers(headers, names):
    """``name:value\\n`` for each signed name; values stripped of white space."""
    values = dict((key.lower(), str(value).strip()) for key, value in headers.items())
    return "".join("%s:%s\n" % (name, values[name]) for name in names)


def payload_hash(headers, body):
    """hex(sha256(body)); the empty-body hash for no body; the value of
    ``X-Sdk-Content-Sha256`` when that header is set and the body is not empty."""
    data = _body_bytes(body)
    if data is None:
        return EMPTY_BODY_SHA256
    declared = _get_header(headers, HEADER_CONTENT_SHA256)
    if declared:
        return declared
    return hashlib.sha256(data).hexdigest()


def canonical_request(method, url, headers, body):
    """The six lines the signature covers; ``headers`` is the full set to send."""
    parts = urlsplit(url)
    names = signed_header_names(headers)
    return "\n".join((
        method.upper(),
        canonical_uri(parts.path),
        canonical_query(parts.query),
        canonical_headers(headers, names),
        ";".join(names),
        payload_hash(headers, body),
    ))


def string_to_sign(canonical, sdk_date):
    """Algorithm, date and the hex SHA-256 of the canonical request."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return "%s\n%s\n%s" % (ALGORITHM, sdk_date, digest)


def signature(secret_key, text):
    """hex(HMAC-SHA256(secret_key, text))."""
    return hmac.new(secret_key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def sign_request(method, url, headers, body, access_key, secret_key, sdk_date=None):
    """Sign one request with SDK-HMAC-SHA256 and return the headers to add.

    ``headers`` are the headers the caller will send. The returned dict holds
    ``Authorization`` and, when ``headers`` lack them, ``X-Sdk-Date`` (from
    ``sdk_date``: a datetime, naive meaning UTC, or a ``%Y%m%dT%H%M%SZ``
    string), ``Host`` (see ``host_header``) and ``X-Sdk-Content-Sha256``
    (for a body that is neither JSON nor BSON). Send
    ``merge_headers(headers, result)``: that is exactly the signed set.

    An ``X-Sdk-Date`` already in ``headers`` is used as is; ``sdk_date`` must
    then be None or the same instant. Raises ValueError for a missing or
    malformed date, TypeError for a body that is not str, bytes or None.
    """
    headers = dict(headers or {})
    added = {}

    present_date = _get_header(headers, HEADER_DATE)
    if present_date is not None:
        date_text = _format_date(present_date)
        if sdk_date is not None and _format_date(sdk_date) != date_text:
            raise ValueError("sdk_date differs from the X-Sdk-Date header already set")
    elif sdk_date is None:
        raise ValueError("sdk_date is required when headers carry no X-Sdk-Date")
    else:
        date_text = _format_date(sdk_date)
        added[HEADER_DATE] = date_text

    if _get_header(headers, HEADER_HOST) is None:
        added[HEADER_HOST] = host_header(url)

    content_type = _get_header(headers, "Content-Type")
    if content_type and not str(content_type).startswith(("application/json", "application/bson")):
        added[HEADER_CONTENT_SHA256] = UNSIGNED_PAYLOAD

    full = merge_headers(headers, added)
    canonical = canonical_request(method, url, full, body)
    names = signed_header_names(full)
    added[HEADER_AUTHORIZATION] = "%s Access=%s, SignedHeaders=%s, Signature=%s" % (
        ALGORITHM, access_key, ";".join(names), signature(secret_key, string_to_sign(canonical, date_text)))
    return added


# ---------------------------------------------------------------------------
# Auth strategies
# ---------------------------------------------------------------------------

class TokenAuth:
    """A token given by the user, sent as ``X-Auth-Token``."""

    kind = "token"

    def __init__(self, token):
        self._token = token

    def headers_for(self, method, url, headers, body, send):  # pylint: disable=unused-argument
        return {HEADER_AUTH_TOKEN: self._token}

    def refresh_after_401(self, send):  # pylint: disable=unused-argument
        return False

    def __repr__(self):
        return "TokenAuth(token=%s)" % _MASK


class AkSkAuth:
    """AK/SK request signing (SDK-HMAC-SHA256), as the Huawei Cloud SDKs do.

    ``utcnow`` is a callable returning the current UTC time (tests inject a
    fixed clock)."""

    kind = "aksk"

    def __init__(self, access_key, secret_key, security_token=None, project_id=None, utcnow=None):
        self._access_key = access_key
        self._secret_key = secret_key
        self._security_token = security_token or None
        self.project_id = project_id or None
        self._utcnow = utcnow or _utcnow

    def headers_for(self, method, url, headers, body, send):  # pylint: disable=unused-argument
        extra = {HEADER_DATE: _format_date(self._utcnow()), HEADER_HOST: host_header(url)}
        if self.project_id:
            extra[HEADER_PROJECT_ID] = self.project_id
        if self._security_token:
            extra[HEADER_SECURITY_TOKEN] = self._security_token
        # Headers set here replace any spelling of them in the caller's set,
        # e.g. an X-Sdk-Date or Authorization left over from an earlier attempt.
        base = dict((key, value) for key, value in merge_headers(headers, extra).items()
                    if key.lower() != HEADER_AUTHORIZATION.lower())
        extra.update(sign_request(method, url, base, body, self._access_key, self._secret_key))
        return extra

    def refresh_after_401(self, send):  # pylint: disable=unused-argument
        return False

    def __repr__(self):
        return "AkSkAuth(access_key=%s, secret_key=%s, security_token=%s, project_id=%r)" % (
            _MASK, _MASK, _MASK if self._security_token else None, self.project_id)


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


class PasswordAuth:
    """IAM password login; the token is cached and shared by all threads.

    Concurrency: the first request of any thread logs in while holding a
    lock, so many threads starting together trigger one login. Each thread
    remembers the token generation it sent; ``refresh_after_401`` logs in
    again only if no other thread has already done so since then, so a burst
    of 401 answers to the same old token causes one new login.
    """

    kind = "password"
    MODE = "IAM password"

    def __init__(self, auth_url, user_name, password, domain_name, project_id):
        self.auth_url = auth_url.rstrip("/")
        self.user_name = user_name
        self._password = password
        self.domain_name = domain_name
        self.project_id = project_id
        self.login_count = 0
        self._token = None
        self._generation = 0
        self._lock = threading.Lock()
        self._local = threading.local()

    @property
    def operation(self):
        """What a failed login reports it was doing (no secret in it)."""
        return "IAM password login to %s as user %s in domain %s" % (self.auth_url, self.user_name, self.domain_name)

    def login_body(self):
        """The JSON body of the login request (contains the password: never log it)."""
        return json.dumps({"auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {
                    "name": self.user_name,
                    "password": self._password,
                    "domain": {"name": self.domain_name},
                }},
            },
            "scope": {"project": {"id": self.project_id}},
        }})

    def headers_for(self, method, url, headers, body, send):  # pylint: disable=unused-argument
        with self._lock:
            if self._token is None:
                self._login(send)
            token, generation = self._token, self._generation
        self._local.generation = generation
        return {HEADER_AUTH_TOKEN: token}

    def refresh_after_401(self, send):
        seen = getattr(self._local, "generation", None)
        with self._lock:
            if seen is not None and seen != self._generation and self._token is not None:
                # Another thread logged in after this thread's request was built.
                return True
            self._login(send)
        return True

    def _login(self, send):
        """Log in once (the caller holds the lock); raises DbssApiError."""
        self.login_count += 1
        response = send("POST", self.auth_url + "/auth/tokens",
                        {"Content-Type": "application/json;charset=utf8"}, self.login_body())
        request_id = response.headers.get("X-Request-Id")
        if response.status_code != 201:
            raise self._login_error(response, request_id)
        token = response.headers.get(HEADER_SUBJECT_TOKEN)
        if not token:
            raise DbssApiError(
                response.status_code, request_id=request_id, operation=self.operation,
                error_msg="IAM answered 201 without an X-Subject-Token header, so no token was issued (mode: %s)" % self.MODE)
        self._token = token
        self._generation += 1

    def _login_error(self, response, request_id):
        """A DbssApiError for a failed login that reads well and leaks nothing."""
        status = response.status_code
        parsed = parse_error_body(status, response.text, request_id=request_id,
                                  retry_after=response.headers.get("Retry-After"), operation=self.operation)
        # IAM's own body is {"error": {"code": 401, "message": ..., "title": ...}}:
        # its numeric code only repeats the HTTP status.
        error_code = parsed.error_code if parsed.error_code != str(status) else None
        if status in (400, 401, 403):
            prefix = "authentication failed (mode: %s)" % self.MODE
        else:
            prefix = "IAM did not issue a token (mode: %s)" % self.MODE
        message = "%s: %s" % (prefix, parsed.error_msg) if parsed.error_msg else prefix
        return DbssApiError(
            status, error_code=self._scrub(error_code), error_msg=self._scrub(message),
            details=[dict((k, self._scrub(v)) for k, v in d.items()) for d in parsed.details],
            encoded_authorization_message=parsed.encoded_authorization_message,
            request_id=request_id, retry_after=parsed.retry_after, operation=self.operation,
            login_refused=True)

    def _scrub(self, text):
        """Mask the password should a server ever echo it back."""
        if text and self._password and self._password in text:
            return text.replace(self._password, _MASK)
        return text

    def __repr__(self):
        return "PasswordAuth(auth_url=%r, user_name=%r, password=%s, domain_name=%r, project_id=%r)" % (
            self.auth_url, self.user_name, _MASK, self.domain_name, self.project_id)


# ---------------------------------------------------------------------------
# Choosing the mode
# ---------------------------------------------------------------------------

_ENV = {
    "auth_token": "HW_AUTH_TOKEN",
    "access_key": "HW_ACCESS_KEY",
    "secret_key": "HW_SECRET_KEY",
    "security_token": "HW_SECURITY_TOKEN",
    "auth_url": "HW_AUTH_URL",
    "user_name": "HW_USER_NAME",
    "password": "HW_USER_PASSWORD",
    "domain_name": "HW_DOMAIN_NAME",
    "project_id": "HW_PROJECT_ID",
    "region": "HW_REGION_NAME",
}


def _required(option, when):
    return DbssConfigError(option, "is required when %s; set it or the %s environment variable" % (when, _ENV[option]))


def _given(params, name):
    value = params.get(name)
    return value if value not in (None, "") else None


def _check_aksk_set(p):
    if p["access_key"] and not p["secret_key"]:
        raise _required("secret_key", "access_key is set (AK/SK signing)")
    if p["secret_key"] and not p["access_key"]:
        raise _required("access_key", "secret_key is set (AK/SK signing)")
    if p["security_token"] and not p["access_key"]:
        raise _required("access_key", "security_token is set (temporary AK/SK credentials need access_key and secret_key)")


def _check_password_set(p):
    if not (p["user_name"] or p["password"]):
        return
    for option in ("user_name", "password", "domain_name"):
        if not p[option]:
            raise _required(option, "user_name or password is set (IAM password login needs user_name, password and domain_name)")


def _no_mode_error(p):
    """No mode is complete: auth_url or domain_name given alone is an
    incomplete password login, anything else means no credentials at all."""
    for option in ("auth_url", "domain_name"):
        if p[option]:
            return _required("user_name", "%s is set (IAM password login needs user_name, password and domain_name)" % option)
    return DbssConfigError(
        "auth_token",
        "no credentials: set auth_token, or access_key and secret_key, or user_name, password and domain_name "
        "(or their HW_* environment variables)")


def resolve_auth_url(auth_url, region, cloud):
    """The IAM endpoint: ``auth_url`` checked, or built from region and cloud."""
    if not auth_url:
        if not region:
            raise DbssConfigError(
                "auth_url", "is required for IAM password login when region is not set; "
                "set auth_url (HW_AUTH_URL) or region (HW_REGION_NAME)")
        auth_url = "https://iam.%s.%s/v3" % (region, cloud or DEFAULT_CLOUD)
    return validate_http_url(auth_url, "auth_url")


def select_auth(params, utcnow=None):
    """The auth object for the task's options; raises DbssConfigError.

    ``params`` holds auth_token, access_key, secret_key, security_token,
    auth_url, user_name, password, domain_name, project_id, region and cloud
    (missing keys count as not set). The rules are in the module docstring.
    ``utcnow`` is handed to AkSkAuth (tests)."""
    names = ("auth_token", "access_key", "secret_key", "security_token", "auth_url", "user_name", "password",
             "domain_name", "project_id", "region", "cloud")
    p = dict((name, _given(params, name)) for name in names)

    # These travel in HTTP headers: refuse a stray newline or a typographic
    # quote here, naming the option, rather than as an obscure requests error.
    for option in ("auth_token", "access_key", "security_token"):
        if p[option]:
            validate_header_secret(p[option], option)
    _check_aksk_set(p)
    _check_password_set(p)

    if p["auth_token"]:
        return TokenAuth(p["auth_token"])
    if p["access_key"]:
        return AkSkAuth(p["access_key"], p["secret_key"], security_token=p["security_token"],
                        project_id=p["project_id"], utcnow=utcnow)
    if p["user_name"]:
        if not p["project_id"]:
            raise _required("project_id", "logging in with user_name and password (the IAM token is scoped to the project)")
        auth_url = resolve_auth_url(p["auth_url"], p["region"], p["cloud"])
        return PasswordAuth(auth_url, p["user_name"], p["password"], p["domain_name"], p["project_id"])
    raise _no_mode_error(p)
