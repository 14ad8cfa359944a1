# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AK/SK request signatures, algorithm SDK-HMAC-SHA256: build them and verify them.

The canonical request is rebuilt from what was received: method, path, query,
the headers named in SignedHeaders and the body hash.  Messages returned by
``verify`` never contain the keys, the signature or the security token.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import hashlib
import hmac
import time
from urllib.parse import parse_qsl, quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_HEADER = "x-sdk-date"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
CONTENT_HASH_HEADER = "x-sdk-content-sha256"
SECURITY_TOKEN_HEADER = "x-security-token"
EMPTY_HASH = hashlib.sha256(b"").hexdigest()
MAX_SKEW_SECONDS = 15 * 60


def _encode(text):
    return quote(text, safe="~")


def canonical_uri(raw_path):
    """Each path segment percent-encoded (only ``~`` kept), with a trailing slash."""
    uri = "/".join(_encode(segment) for segment in unquote(raw_path).split("/"))
    if not uri.endswith("/"):
        uri += "/"
    return uri


def canonical_query(raw_query):
    """Query parameters sorted by name then value, each part percent-encoded."""
    pairs = sorted(parse_qsl(raw_query or "", keep_blank_values=True))
    return "&".join("%s=%s" % (_encode(key), _encode(value)) for key, value in pairs)


def payload_hash(body, headers):
    if not body:
        return EMPTY_HASH
    declared = headers.get(CONTENT_HASH_HEADER)
    if declared:
        return declared
    return hashlib.sha256(body).hexdigest()


def canonical_request(method, raw_path, raw_query, headers, signed_headers, body):
    """``headers`` maps lower-case names to stripped values; all signed names must be present."""
    canonical_headers = "".join("%s:%s\n" % (name, headers[name]) for name in signed_headers)
    return "\n".join([
        method.upper(),
        canonical_uri(raw_path),
        canonical_query(raw_query),
        canonical_headers,
        ";".join(signed_headers),
        payload_hash(body, headers),
    ])


def string_to_sign(sdk_date, canonical):
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return "%s\n%s\n%s" % (ALGORITHM, sdk_date, digest)


def signature(secret_key, text):
    return hmac.new(secret_key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def sign(method, raw_path, raw_query, headers, body, access_key, secret_key, now=None):
    """Sign a request the way the SDK does; return the headers to send (a new dict).

    ``headers`` must contain ``Host``.  Used by tests to craft good and bad requests.
    """
    now = time.time() if now is None else now
    out = dict(headers)
    out["X-Sdk-Date"] = time.strftime(DATE_FORMAT, time.gmtime(now))
    lowered = dict((name.lower(), str(value).strip()) for name, value in out.items())
    signed = sorted(name for name in lowered if "_" not in name)
    canonical = canonical_request(method, raw_path, raw_query, lowered, signed, body)
    sig = signature(secret_key, string_to_sign(out["X-Sdk-Date"], canonical))
    out["Authorization"] = "%s Access=%s, SignedHeaders=%s, Signature=%s" % (ALGORITHM, access_key, ";".join(signed), sig)
    return out


def parse_authorization(value):
    """Return (access_key, [signed header names], signature) or None when malformed."""
    if not value or not value.startswith(ALGORITHM + " "):
        return None
    parts = {}
    for item in value[len(ALGORITHM) + 1:].split(","):
        name, sep, val = item.strip().partition("=")
        if not sep:
            return None
        parts[name.strip()] = val.strip()
    if not parts.get("Access") or not parts.get("SignedHeaders") or not parts.get("Signature"):
        return None
    names = [name.strip().lower() for name in parts["SignedHeaders"].split(";") if name.strip()]
    return parts["Access"], names, parts["Signature"]


def parse_sdk_date(value):
    """Epoch seconds of an ``X-Sdk-Date`` value, or None."""
    try:
        return calendar.timegm(time.strptime(value, DATE_FORMAT))
    except (TypeError, ValueError):
        return None


def verify(method, raw_path, raw_query, headers, body, secret_for, security_token=None, now=None):
    """Check an SDK-HMAC-SHA256 signed request.

    ``headers`` maps lower-case names to stripped values.  ``secret_for(access_key)``
    returns the secret key or None.  When ``security_token`` is set the request must
    carry the same ``X-Security-Token``.  Returns (ok, reason); reason holds no secret.
    """
    now = time.time() if now is None else now
    parsed = parse_authorization(headers.get("authorization"))
    if parsed is None:
        return False, "malformed Authorization header"
    access_key, signed_headers, received = parsed
    secret_key = secret_for(access_key)
    if secret_key is None:
        return False, "Get secretKey failed, err:ak not exist"
    sdk_date = headers.get(DATE_HEADER)
    when = parse_sdk_date(sdk_date)
    if when is None:
        return False, "X-Sdk-Date header missing or malformed"
    if abs(now - when) > MAX_SKEW_SECONDS:
        return False, "X-Sdk-Date is more than 15 minutes away from the server time"
    missing = [name for name in signed_headers if name not in headers]
    if missing:
        return False, "a header listed in SignedHeaders is missing: %s" % missing[0]
    canonical = canonical_request(method, raw_path, raw_query, headers, signed_headers, body)
    expected = signature(secret_key, string_to_sign(sdk_date, canonical))
    if not hmac.compare_digest(expected.encode("ascii"), received.encode("utf-8", "replace")):
        return False, "verify aksk signature fail"
    if security_token is not None:
        presented = headers.get(SECURITY_TOKEN_HEADER)
        if presented is None or not hmac.compare_digest(presented.encode("utf-8"), security_token.encode("utf-8")):
            return False, "security token missing or invalid"
    return True, ""
