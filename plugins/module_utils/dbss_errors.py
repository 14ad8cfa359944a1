# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The error types of hwcloud.dbss.

Three families, so callers can decide what to do without parsing text:

* ``DbssConfigError``: the task's options are wrong; raised before any request.
* ``DbssApiError``: the API (or a gateway in front of it) answered with an error.
* ``DbssTransportError``: no usable answer arrived (connection refused or reset,
  read timeout, TLS failure).

No error message here ever contains a credential: messages are built from the
option name, the HTTP status and the parsed error body only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Statuses a retry may cure (the gateway or the service is busy or restarting).
TRANSIENT_STATUSES = frozenset((429, 500, 502, 503, 504))


class DbssError(Exception):
    """Base class of every error this collection raises on purpose."""

    # Warnings of the failed run (for example an unverified TLS certificate),
    # reported with the failure as they would be with a success.
    warnings = ()

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
    """No HTTP answer: connection error, TLS error or timeout. Always transient
    except for TLS verification failures, which retrying cannot cure."""

    def __init__(self, message, transient=True):
        self.transient = transient
        super(DbssTransportError, self).__init__(message)


class DbssApiError(DbssError):
    """An HTTP error answer, parsed from any of the body shapes DBSS and its
    gateway send: flat ``{"error_code", "error_msg", "details", ...}``, nested
    ``{"error": {"error_code", "error_msg"}}``, or a body that is not JSON
    at all (an HTML page, an empty or truncated body)."""

    def __init__(self, status, error_code=None, error_msg=None, details=None,
                 encoded_authorization_message=None, request_id=None,
                 retry_after=None, operation=None, malformed=False, login_refused=False):
        self.status = status
        self.error_code = error_code
        self.error_msg = error_msg
        self.details = details or []
        self.encoded_authorization_message = encoded_authorization_message
        self.request_id = request_id
        self.retry_after = retry_after
        self.operation = operation
        # A 200 whose body is not the documented shape (cut mid-transfer, or a
        # confused gateway): as curable by asking again as a 503.
        self.malformed = malformed
        # IAM refused the login itself: logging in again would only repeat it
        # (and bring an account lockout closer).
        self.login_refused = login_refused
        super(DbssApiError, self).__init__(self._describe())

    @property
    def transient(self):
        return self.status in TRANSIENT_STATUSES or self.malformed

    @property
    def throttled(self):
        return self.status == 429 or (self.error_code or "") == "APIGW.0308"

    def _describe(self):
        parts = []
        if self.operation:
            parts.append("%s failed:" % self.operation)
        parts.append("HTTP %s" % self.status)
        if self.error_code:
            parts.append(self.error_code)
        text = " ".join(parts)
        if self.error_msg:
            text += ": %s" % self.error_msg
        for detail in self.details:
            if isinstance(detail, dict) and (detail.get("error_code") or detail.get("error_msg")):
                text += " [%s: %s]" % (detail.get("error_code"), detail.get("error_msg"))
        text += " (request id: %s)" % (self.request_id or "none")
        return text

    def to_result(self):
        return {
            "status_code": self.status,
            "error_code": self.error_code,
            "error_msg": self.error_msg,
            "details": self.details,
            "encoded_authorization_message": self.encoded_authorization_message,
            "request_id": self.request_id,
        }


def _text(value, limit=500):
    """A short, printable rendering of an untrusted value from a body."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    value = value.strip()
    return value[:limit] if value else None


def describe_non_json_body(body_text):
    """One line that tells the user what came back when it was not JSON."""
    if not body_text or not body_text.strip():
        return "empty response body"
    stripped = body_text.strip()
    if stripped.startswith("<"):
        return "non-JSON response body (an HTML page, likely from a gateway or proxy)"
    return "response body is not valid JSON (%d bytes, possibly truncated)" % len(body_text)


def parse_error_body(status, body_text, request_id=None, retry_after=None, operation=None):
    """Build a DbssApiError from any error body; never raises while parsing."""
    import json

    fields = {}
    try:
        data = json.loads(body_text) if body_text else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        nested = data.get("error")
        source = nested if isinstance(nested, dict) else data
        fields["error_code"] = _text(source.get("error_code") or source.get("code"))
        fields["error_msg"] = _text(source.get("error_msg") or source.get("message"))
        details = source.get("details", data.get("details"))
        if isinstance(details, list):
            fields["details"] = [
                {"error_code": _text(d.get("error_code")), "error_msg": _text(d.get("error_msg"))}
                for d in details if isinstance(d, dict)
            ]
        fields["encoded_authorization_message"] = _text(
            source.get("encoded_authorization_message", data.get("encoded_authorization_message")), limit=4000)
        if not fields["error_code"] and not fields["error_msg"]:
            fields["error_msg"] = "error body has no error_code or error_msg"
    else:
        fields["error_msg"] = describe_non_json_body(body_text)
    return DbssApiError(status, request_id=request_id, retry_after=retry_after, operation=operation, **fields)


class DbssFailure(DbssError):
    """A finished operation that failed with a verdict (for example a wait that
    saw a FAIL job); ``fields`` go into the module's failure result."""

    def __init__(self, message, fields=None):
        self.fields = fields or {}
        super(DbssFailure, self).__init__(message)

    def to_result(self):
        return dict(self.fields)
