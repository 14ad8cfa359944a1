# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Answers the emulator sends: a small value type and the error body shapes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

JSON_TYPE = "application/json;charset=UTF-8"
HTML_TYPE = "text/html;charset=UTF-8"

# Default (error_code, error_msg) per HTTP status for DBSS-style errors.
DEFAULT_ERRORS = {
    400: ("DBSS.10000001", "Invalid request."),
    401: ("DBSS.10020100", "token authentication failed"),
    403: ("APIGW.0302", "The IAM user is not authorized to access the API."),
    404: ("APIGW.0101", "The API does not exist or has not been published in the environment."),
    405: ("APIGW.0101", "The API does not exist."),
    429: ("APIGW.0308", "The throttling threshold has been reached."),
    500: ("DBSS.11000000", "Internal error."),
    502: ("APIGW.0201", "Backend unavailable."),
    503: ("APIGW.0201", "Backend unavailable."),
    504: ("APIGW.0201", "Backend timeout."),
}

IAM_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error"}


class Reply:
    """One HTTP answer: status, body bytes, content type, extra headers and an action.

    ``action`` is None for a normal answer or ``"reset"`` to drop the connection without one.
    """

    def __init__(self, status, body=b"", content_type=None, headers=None, action=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = list(headers or [])
        self.action = action


def json_reply(status, data, headers=None):
    return Reply(status, json.dumps(data).encode("utf-8"), JSON_TYPE, headers)


def default_error(status):
    return DEFAULT_ERRORS.get(status, ("EMULATOR.%d" % status, "Emulated error."))


def flat_error_body(status, error_code=None, error_msg=None, details=None, encoded=None):
    code, msg = default_error(status)
    return {
        "error_code": error_code or code,
        "error_msg": error_msg or msg,
        "details": list(details or []),
        "encoded_authorization_message": encoded,
    }


def nested_error_body(status, error_code=None, error_msg=None):
    code, msg = default_error(status)
    return {"error": {"error_code": error_code or code, "error_msg": error_msg or msg}}


# Error body shapes a fault can ask for with ``body_style`` ("flat": documented path, "nested": legacy).
BODY_STYLES = ("flat", "nested", "wrapped", "camel", "error_message")
WRAPPER_KEY = "dbss_error"


def error_body(status, style="flat", error_code=None, error_msg=None, details=None, encoded=None):
    """The error body in one of BODY_STYLES (details / encoded only exist in the flat shape)."""
    if style == "flat":
        return flat_error_body(status, error_code, error_msg, details, encoded)
    if style == "nested":
        return nested_error_body(status, error_code, error_msg)
    code, msg = default_error(status)
    code, msg = error_code or code, error_msg or msg
    if style == "wrapped":
        return {WRAPPER_KEY: {"error_code": code, "error_msg": msg}}
    if style == "camel":
        return {"errorCode": code, "errorMsg": msg}
    if style == "error_message":
        return {"error_code": code, "error_message": msg}
    raise ValueError("unknown error body style %r" % (style,))


def dbss_error(status, style="flat", error_code=None, error_msg=None, details=None, encoded=None, headers=None):
    """A DBSS error answer; ``style`` is one of BODY_STYLES ("flat" current path, "nested" legacy)."""
    return json_reply(status, error_body(status, style, error_code, error_msg, details, encoded), headers)


def gateway_error(status, error_code, error_msg, headers=None):
    """An answer of the API gateway itself: ``{"error_code", "error_msg"}`` only."""
    return json_reply(status, {"error_code": error_code, "error_msg": error_msg}, headers)


def iam_error(status, message):
    title = IAM_TITLES.get(status, "Error")
    return json_reply(status, {"error": {"code": status, "message": message, "title": title}})


def html_reply(status):
    text = (
        "<html>\r\n<head><title>{0} Gateway Error</title></head>\r\n"
        "<body>\r\n<center><h1>{0} Gateway Error</h1></center>\r\n"
        "<hr><center>emulated gateway</center>\r\n</body>\r\n</html>\r\n"
    ).format(status)
    return Reply(status, text.encode("utf-8"), HTML_TYPE)
