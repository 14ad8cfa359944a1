# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Injected faults: which requests they hit, how many times, and what they answer."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import uuid

from .replies import BODY_STYLES, JSON_TYPE, Reply, dbss_error, html_reply

KINDS = ("status", "html", "empty", "truncated", "json", "delay", "reset", "throttle", "token_expired", "forbidden")
SPEC_KEYS = ("kind", "count", "resource_id", "path_contains", "status", "error_code", "error_msg", "details",
             "encoded_authorization_message", "body", "seconds", "retry_after", "body_style")
# Kinds that answer with a JSON error body, so ``body_style`` applies to them.
ERROR_KINDS = ("status", "throttle", "token_expired", "forbidden")
DEFAULT_STATUS = {"status": 500, "html": 502, "empty": 500, "truncated": 200, "json": 200}


class FaultError(ValueError):
    """A control-API fault description that cannot be used."""


class Fault:
    """A fault for the next ``count`` matching requests (``count`` -1: until cleared)."""

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise FaultError("a fault must be a JSON object")
        unknown = sorted(set(spec) - set(SPEC_KEYS))
        if unknown:
            raise FaultError("unknown fault keys: %s (allowed: %s)" % (", ".join(unknown), ", ".join(SPEC_KEYS)))
        self.kind = spec.get("kind")
        if self.kind not in KINDS:
            raise FaultError("kind must be one of: %s" % ", ".join(KINDS))
        self.count = spec.get("count", 1)
        if isinstance(self.count, bool) or not isinstance(self.count, int) or (self.count < 1 and self.count != -1):
            raise FaultError("count must be an integer >= 1, or -1 for every request until cleared")
        self.resource_id = spec.get("resource_id")
        self.path_contains = spec.get("path_contains")
        self.status = spec.get("status", DEFAULT_STATUS.get(self.kind))
        if self.status is not None and (isinstance(self.status, bool) or not isinstance(self.status, int) or not 100 <= self.status <= 599):
            raise FaultError("status must be an HTTP status code")
        self.error_code = spec.get("error_code")
        self.error_msg = spec.get("error_msg")
        self.details = spec.get("details")
        self.encoded = spec.get("encoded_authorization_message")
        self.has_body = "body" in spec
        self.body = spec.get("body")
        if self.kind == "json" and not self.has_body:
            raise FaultError("a json fault needs a body (any JSON value)")
        self.seconds = spec.get("seconds", 1.0)
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, (int, float)) or self.seconds < 0:
            raise FaultError("seconds must be a number >= 0")
        self.retry_after = spec.get("retry_after")
        self.body_style = spec.get("body_style")
        if self.body_style is not None:
            if self.body_style not in BODY_STYLES:
                raise FaultError("body_style must be one of: %s" % ", ".join(BODY_STYLES))
            if self.kind not in ERROR_KINDS:
                raise FaultError("body_style only applies to the kinds %s" % ", ".join(ERROR_KINDS))
        self.fault_id = uuid.uuid4().hex

    def describe(self):
        return {
            "fault_id": self.fault_id, "kind": self.kind, "remaining": self.count,
            "resource_id": self.resource_id, "path_contains": self.path_contains, "status": self.status,
            "body_style": self.body_style,
        }

    def matches(self, path, resource_id, is_dbss):
        if self.resource_id is None and self.path_contains is None:
            return is_dbss
        if self.resource_id is not None and self.resource_id != resource_id:
            return False
        if self.path_contains is not None and self.path_contains not in path:
            return False
        return True

    def consume(self):
        """Use the fault once; return True when it is used up."""
        if self.count == -1:
            return False
        self.count -= 1
        return self.count <= 0

    def reply(self, style, normal_body):
        """The answer for a matched request (None for ``delay``: answer normally).

        ``normal_body`` is a callable giving the bytes a normal 200 would carry; ``style``
        is the route's error body style, replaced by the fault's ``body_style`` when given.
        """
        kind = self.kind
        style = self.body_style or style
        if kind == "status":
            return dbss_error(self.status, style, self.error_code, self.error_msg, self.details, self.encoded)
        if kind == "html":
            return html_reply(self.status)
        if kind == "empty":
            return Reply(self.status, b"")
        if kind == "truncated":
            full = normal_body()
            return Reply(self.status, full[:max(1, len(full) // 2)], JSON_TYPE)
        if kind == "json":
            return Reply(self.status, json.dumps(self.body).encode("utf-8"), JSON_TYPE)
        if kind == "reset":
            return Reply(0, action="reset")
        if kind == "throttle":
            headers = [] if self.retry_after is None else [("Retry-After", str(self.retry_after))]
            return dbss_error(429, style, self.error_code or "APIGW.0308",
                              self.error_msg or "The throttling threshold has been reached.", headers=headers)
        if kind == "token_expired":
            return dbss_error(401, style, self.error_code or "APIGW.0307", self.error_msg or "The token must be updated.")
        if kind == "forbidden":
            details = self.details if self.details is not None else [
                {"error_code": "APIGW.0302", "error_msg": "Policy doesn't allow this action to be performed."}]
            encoded = self.encoded if self.encoded is not None else "emulated-encoded-authorization-message"
            return dbss_error(403, style, self.error_code, self.error_msg, details, encoded)
        return None
