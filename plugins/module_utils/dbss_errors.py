# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The error types of hwcloud.dbss, so callers decide without parsing text:
``DbssConfigError`` (an option breaks a rule, before any request),
``DbssApiError`` (an error answer, or an unusable success body) and
``DbssTransportError`` (no usable answer). Each says whether asking again may
cure it (``transient``) and whether the API itself answered (``from_api``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_secrets import NO_SECRETS, shorten

# Statuses a retry may cure (the gateway or the service is busy or restarting).
TRANSIENT_STATUSES = frozenset((429, 500, 502, 503, 504))
THROTTLE_CODES = frozenset(("APIG.0308", "APIGW.0308"))
# Huawei's gateways put the error code and message under several names.
CODE_KEYS = ("error_code", "errorCode", "code")
MESSAGE_KEYS = ("error_msg", "errorMsg", "error_message", "errorMessage", "message")
TEXT_LIMIT = 500
ENCODED_LIMIT = 4000
MAX_DETAILS = 20
# The gateway's words for an AK/SK pair it has locked (APIG.0301 / APIGW.0301).
LOCKED_TEXT = "ak access failed to reach the limit"
HINTS = (
    (LOCKED_TEXT, "the access key is locked for five minutes after repeated failed signatures; not retried: "
                  "fix secret_key, then wait five minutes"),
    ("verify aksk signature fail", "the likely causes: secret_key does not belong to access_key, or this "
                                   "machine's clock is more than 15 minutes off"),
)


class DbssError(Exception):
    """Base class of every error this collection raises on purpose."""

    # Warnings of the failed run (for example an unverified TLS certificate),
    # reported with the failure as they would be with a success.
    warnings = ()
    transient = False
    from_api = False

    def to_result(self):
        """Fields to merge into a module's failure result."""
        return {}


class DbssConfigError(DbssError):
    """An option value breaks a rule; names the option and the rule."""

    def __init__(self, option, rule):
        self.option = option
        self.rule = rule
        super(DbssConfigError, self).__init__("%s: %s" % (option, rule))

    def to_result(self):
        return {"option": self.option}


class DbssTransportError(DbssError):
    """No HTTP answer: connection, name lookup, TLS or timeout. Transient
    except for what retrying cannot cure (TLS verification failures)."""

    def __init__(self, message, transient=True):
        self.transient = transient
        super(DbssTransportError, self).__init__(message)


class DbssApiError(DbssError):
    """An HTTP error answer, or a success answer that cannot be used
    (``malformed``: cut short, too large, not JSON; as curable as a 503).
    ``auth_label`` names the credentials, quoted by a 401 or 403;
    ``login_refused``: IAM refused the login itself."""

    def __init__(self, status, error_code=None, error_msg=None, details=None,
                 encoded_authorization_message=None, request_id=None, retry_after=None,
                 operation=None, malformed=False, login_refused=False, from_api=False, auth_label=None):
        self.status = status
        self.error_code = error_code
        self.error_msg = error_msg
        self.details = details or []
        self.encoded_authorization_message = encoded_authorization_message
        self.request_id = request_id
        self.retry_after = retry_after
        self.operation = operation
        self.malformed = malformed
        self.login_refused = login_refused
        self.from_api = from_api
        self.auth_label = auth_label
        super(DbssApiError, self).__init__(self._describe())

    @property
    def throttled(self):
        return self.status == 429 or self.error_code in THROTTLE_CODES

    @property
    def locked(self):
        """The gateway locked the access key after failed signatures."""
        return LOCKED_TEXT in (self.error_msg or "").lower()

    @property
    def transient(self):
        return not self.auth_failure and (self.status in TRANSIENT_STATUSES or self.malformed or self.throttled)

    @property
    def auth_failure(self):
        """The credential itself was refused: asking again cannot help."""
        return not self.throttled and (self.login_refused or self.locked or self.status in (401, 403))

    def _describe(self):
        text = "%s failed: " % self.operation if self.operation else ""
        text += "HTTP %s" % self.status
        if self.error_code:
            text += " " + self.error_code
        said = []
        if self.auth_failure and self.auth_label:
            said.append("%s (mode: %s)" % ("access denied" if self.status == 403 else "authentication failed",
                                           self.auth_label))
        if self.error_msg:
            said.append(self.error_msg)
        if said:
            text += ": " + ": ".join(said)
        for needle, hint in HINTS:
            if needle in (self.error_msg or "").lower():
                text += " (%s)" % hint
                break
        for detail in self.details:
            if detail.get("error_code") or detail.get("error_msg"):
                text += " [%s: %s]" % (detail.get("error_code"), detail.get("error_msg"))
        return text + " (request id: %s)" % (self.request_id or "none")

    def to_result(self):
        return {
            "status_code": self.status,
            "error_code": self.error_code,
            "error_msg": self.error_msg,
            "details": self.details,
            "encoded_authorization_message": self.encoded_authorization_message,
            "request_id": self.request_id,
        }


class DbssFailure(DbssError):
    """A finished operation that failed with a verdict (for example a wait that
    saw a FAIL job); ``fields`` go into the module's failure result."""

    def __init__(self, message, fields=None):
        self.fields = fields or {}
        super(DbssFailure, self).__init__(message)

    def to_result(self):
        return dict(self.fields)


def quote_text(value, masker=NO_SECRETS, limit=TEXT_LIMIT):
    """An untrusted value from a server as one masked, shortened line, or None.
    Masked whole first, shortened after, so a cut never keeps part of a secret."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
    return shorten(masker.text(value), limit) or None


def _first(source, keys, masker, limit=TEXT_LIMIT):
    for key in keys:
        if source.get(key) not in (None, ""):
            return quote_text(source[key], masker, limit)
    return None


def _error_object(body):
    """The object holding the error fields: the body itself, its ``error``
    member, or what a single-key wrapper holds (a few levels at most)."""
    for _level in range(4):
        if not isinstance(body, dict):
            return {}
        if any(key in body for key in CODE_KEYS + MESSAGE_KEYS):
            return body
        inner = body.get("error")
        if not isinstance(inner, dict) and len(body) == 1:
            inner = next(iter(body.values()))
        body = inner
    return {}


def error_from_body(status, body, problem=None, masker=NO_SECRETS, **fields):
    """A DbssApiError for an error answer; never raises while reading it.

    ``body`` is the decoded JSON (None when the body was not JSON, then
    ``problem`` says what it was). ``fields`` are the other DbssApiError
    arguments (request_id, retry_after, operation, auth_label, ...)."""
    outer = body if isinstance(body, dict) else {}
    source = _error_object(outer)
    code = _first(source, CODE_KEYS, masker)
    if code == str(status):
        code = None  # IAM's numeric code only repeats the HTTP status
    message = _first(source, MESSAGE_KEYS, masker)
    if not isinstance(body, dict):
        message = problem or "error body is not a JSON object"
    elif not code and not message:
        message = "error body has no error code or message"
    details = source.get("details", outer.get("details"))
    details = [{"error_code": _first(d, CODE_KEYS, masker, 200), "error_msg": _first(d, MESSAGE_KEYS, masker, 300)}
               for d in (details if isinstance(details, list) else [])[:MAX_DETAILS] if isinstance(d, dict)]
    encoded = source.get("encoded_authorization_message", outer.get("encoded_authorization_message"))
    return DbssApiError(status, error_code=code, error_msg=message, details=details,
                        encoded_authorization_message=quote_text(encoded, masker, ENCODED_LIMIT),
                        from_api=isinstance(body, dict), **fields)
