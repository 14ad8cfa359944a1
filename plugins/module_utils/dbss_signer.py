# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""SDK-HMAC-SHA256, the AK/SK signature of Huawei Cloud, as pure functions.

``sign_request`` reproduces ``huaweicloudsdkcore.signer.signer.Signer``
(test_dbss_signer_sdk.py compares the two). The signed request must be the
request sent: ``Host`` is signed (added from the URL unless given: the caller
must send it); the query is read with percent-decoding only (``+`` is a plus,
as in the SDK); header values are signed stripped, names with ``_`` are not
signed; a ``Content-Type`` other than JSON or BSON adds
``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` and leaves the body unsigned.
Header names are compared without regard to letter case.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import hmac

from urllib.parse import quote, unquote, urlsplit

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
HEADER_DATE = "X-Sdk-Date"
HEADER_CONTENT_SHA256 = "X-Sdk-Content-Sha256"

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _encode(text):
    """Percent-encode everything but unreserved characters (``~`` stays)."""
    return quote(text, safe="~")


def _lowered(headers):
    return dict((str(key).lower(), value) for key, value in (headers or {}).items())


def format_date(sdk_date):
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


def canonical_uri(path):
    """The path decoded, each segment re-encoded (safe ``~``), ending in ``/``."""
    encoded = "/".join(_encode(segment) for segment in unquote(path or "").split("/"))
    return encoded if encoded.endswith("/") else encoded + "/"


def canonical_query(query):
    """The query's pairs percent-decoded (``a`` and ``a=`` alike), sorted by
    name then value, each part encoded."""
    pairs = [item.partition("=") for item in (query or "").split("&") if item]
    return "&".join("%s=%s" % (_encode(name), _encode(value))
                    for name, value in sorted((unquote(name), unquote(value)) for name, _eq, value in pairs))


def signed_header_names(headers):
    """Lower-case names of the headers to sign: all but names with ``_``."""
    return sorted(set(name for name in _lowered(headers) if "_" not in name))


def payload_hash(headers, body):
    """hex(sha256(body)); the empty-body hash for no body; the value of
    ``X-Sdk-Content-Sha256`` when that header is set and the body is not empty."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not isinstance(body, (bytes, bytearray, type(None))):
        raise TypeError("body to sign must be str, bytes or None, not %s" % type(body).__name__)
    if not body:
        return EMPTY_BODY_SHA256
    return _lowered(headers).get(HEADER_CONTENT_SHA256.lower()) or hashlib.sha256(body).hexdigest()


def canonical_request(method, url, headers, body):
    """The six lines the signature covers; ``headers`` is the full set to sign."""
    parts = urlsplit(url)
    values = _lowered(headers)
    names = signed_header_names(values)
    return "\n".join((
        method.upper(),
        canonical_uri(parts.path),
        canonical_query(parts.query),
        "".join("%s:%s\n" % (name, str(values[name]).strip()) for name in names),
        ";".join(names),
        payload_hash(values, body),
    ))


def sign_request(method, url, headers, body, access_key, secret_key, sdk_date=None):
    """The headers to add to sign one request: ``Authorization`` and, when
    ``headers`` (those sent and signed) lack them, ``X-Sdk-Date`` (from
    ``sdk_date``: a datetime, naive meaning UTC, or a ``%Y%m%dT%H%M%SZ``
    string), ``Host`` and ``X-Sdk-Content-Sha256``. A given ``X-Sdk-Date`` is
    used as is (``sdk_date`` must then be None or the same instant). Raises
    ValueError for a missing or malformed date, TypeError for a body that is
    not str, bytes or None."""
    given = _lowered(headers)
    added = {}
    if HEADER_DATE.lower() in given:
        date_text = format_date(given[HEADER_DATE.lower()])
        if sdk_date is not None and format_date(sdk_date) != date_text:
            raise ValueError("sdk_date differs from the X-Sdk-Date header already set")
    elif sdk_date is None:
        raise ValueError("sdk_date is required when headers carry no X-Sdk-Date")
    else:
        date_text = added[HEADER_DATE] = format_date(sdk_date)
    if "host" not in given:
        added["Host"] = host_header(url)
    content_type = given.get("content-type")
    if content_type and not str(content_type).startswith(("application/json", "application/bson")):
        added[HEADER_CONTENT_SHA256] = UNSIGNED_PAYLOAD

    full = dict(given)
    full.update(_lowered(added))
    digest = hashlib.sha256(canonical_request(method, url, full, body).encode("utf-8")).hexdigest()
    to_sign = "%s\n%s\n%s" % (ALGORITHM, date_text, digest)
    signature = hmac.new(secret_key.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    added["Authorization"] = "%s Access=%s, SignedHeaders=%s, Signature=%s" % (
        ALGORITHM, access_key, ";".join(signed_header_names(full)), signature)
    return added
