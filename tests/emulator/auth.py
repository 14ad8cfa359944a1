# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Authentication of DBSS requests: a token or a verified AK/SK signature.

Failure answers (401, flat DBSS body; nested on the legacy path):

* no credentials, unknown or revoked token: ``DBSS.10020100`` "token authentication failed"
* an issued token past its expiry: ``APIGW.0307`` "The token must be updated."
* any AK/SK problem: ``APIGW.0301`` "Incorrect IAM authentication information: <reason>"
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hmac

from . import signing


def credential_kind(headers):
    """What the request presents: "aksk", "token" or "none" (never the value)."""
    if headers.get("authorization", "").startswith("SDK-"):
        return "aksk"
    if headers.get("x-auth-token"):
        return "token"
    return "none"


def check(config, state, method, raw_path, raw_query, headers, body, now):
    """Return None when authenticated, else (status, error_code, error_msg)."""
    kind = credential_kind(headers)
    if kind == "aksk":
        if not headers["authorization"].startswith(signing.ALGORITHM + " "):
            return 401, "APIGW.0301", "Incorrect IAM authentication information: unsupported signing algorithm"
        ok, reason = signing.verify(method, raw_path, raw_query, headers, body, config.secret_for,
                                    config.security_token, now)
        if ok:
            return None
        return 401, "APIGW.0301", "Incorrect IAM authentication information: %s" % reason
    if kind == "token":
        token = headers["x-auth-token"]
        for static in config.tokens:
            if hmac.compare_digest(token.encode("utf-8"), static.encode("utf-8")):
                return None
        info = state.token_info(token)
        if info is None:
            return 401, "DBSS.10020100", "token authentication failed"
        if now >= info["expires"]:
            return 401, "APIGW.0307", "The token must be updated."
        return None
    return 401, "DBSS.10020100", "token authentication failed"
