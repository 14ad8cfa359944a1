# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Validation of the options of hwcloud.dbss: IDs, URLs, regions and sites,
durations. Each check raises ``DbssConfigError(option, rule)`` before any
request is sent, so a typo fails at once naming the option, not later as an
HTTP error (or, worse, as a request to a wrong host).

Durations (``parse_duration``): a number of seconds (``90``, ``"1.5"``) or a
Terraform / Go duration (``"20m"``, ``"1h30m"``, ``"500ms"``; units h, m, s, ms,
us, ns). Signs, exponents, ``inf``/``nan``, booleans and unknown units are
refused naming the option; so are zero (unless allowed) and anything above the
option's upper bound (``999999999h`` must not overflow later).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import math
import os
import re

from urllib.parse import unquote, urlsplit

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssConfigError

# \Z, not $: "$" also matches before a final newline, and a YAML block scalar
# ("resource_id: |") ends with one.
PROJECT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}\Z")
PROJECT_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}\Z")
RESOURCE_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}\Z")
# Huawei's public regions (cn-north-4, eu-west-101) and private clouds' own names (region-a-1).
REGION_RE = re.compile(r"^[a-z][a-z0-9]{1,15}(-[a-z0-9]{1,20}){1,4}\Z")
CLOUD_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+\Z")
# What an HTTP header value may carry: visible ASCII, no spaces.
HEADER_TOKEN_RE = re.compile(r"^[\x21-\x7e]+\Z")

# Regions where Huawei's SDK knows a DBSS endpoint (huaweicloudsdkdbss DbssRegion).
DBSS_REGIONS = (
    "cn-north-1", "cn-north-2", "cn-north-4", "cn-north-9", "cn-north-11", "cn-north-12", "cn-east-2", "cn-east-3",
    "cn-east-4", "cn-east-5", "cn-south-1", "cn-south-2", "cn-south-4", "cn-southwest-2", "cn-southwest-3",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "af-south-1",
    "af-north-1", "la-north-2", "la-south-2", "sa-brazil-1", "me-east-1", "tr-west-1", "my-kualalumpur-1",
    "ru-northwest-2", "ru-moscow-1"
)
DEFAULT_CLOUD = "myhuaweicloud.com"
EUROPE_CLOUD = "myhuaweicloud.eu"
# The Europe site's regions are eu-west-1xx: the Terraform provider takes every region
# whose name starts with eu-west-1 there, and so do we.
EUROPE_PREFIX = "eu-west-1"
EUROPE_REGIONS = ("eu-west-101",)
KNOWN_REGIONS = DBSS_REGIONS + EUROPE_REGIONS
# Regions with an IAM endpoint of their own in Huawei's SDK (auth/endpoint.py); for the
# default site's other regions the SDK asks the global iam.myhuaweicloud.com, and so do we.
IAM_REGIONS = (
    "cn-north-1", "cn-north-2", "cn-north-4", "cn-north-9", "cn-north-12", "cn-east-2", "cn-east-3", "cn-east-4",
    "cn-east-5", "cn-south-1", "cn-south-2", "cn-southwest-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "af-south-1", "sa-brazil-1", "la-south-2", "la-north-2", "na-mexico-1", "eu-west-0",
    "my-kualalumpur-1", "ru-moscow-1", "me-east-1", "ae-ad-1", "tr-west-1"
)

MAX_TIMEOUT_SECONDS = 3600
MAX_RETRIES_LIMIT = 20
# Upper bounds of the wait's durations: a day for the wait, an hour between polls.
MAX_WAIT_SECONDS = 86400
MAX_SLEEP_SECONDS = 3600
MAX_RPS = 1000
# The default cap of the interval between two polls of a resource, in seconds.
DEFAULT_MAX_SLEEP = 4.0


def validate_project_id(value):
    if not isinstance(value, str) or not PROJECT_ID_RE.match(value):
        raise DbssConfigError("project_id", "must be 32 to 64 characters of A-Z, a-z, 0-9, '_' or '-' (got %s)" % _describe(value))
    return value


def validate_project_name(value):
    """An IAM project name: a region name, or region_subproject."""
    if not isinstance(value, str) or not PROJECT_NAME_RE.match(value):
        raise DbssConfigError("project_name", "must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '-' or '.', such "
                                              "as cn-north-4 or cn-north-4_audit (got %s)" % _describe(value))
    return value


def validate_resource_id(value, option="resource_id"):
    """A resource ID becomes a URL path segment: only the characters DBSS IDs use,
    and never '..' (which a proxy could resolve into another path)."""
    if not isinstance(value, str) or not value:
        raise DbssConfigError(option, "must be a non-empty string")
    # "." and ".." are dot segments: urllib3 removes them from the path, so the
    # request sent would not be the one validated and signed.
    if not RESOURCE_ID_RE.match(value) or ".." in value or value == ".":
        raise DbssConfigError(option, "must be 1 to 128 characters of A-Z, a-z, 0-9, '_', '-' or '.', not '.' and "
                                      "without '..' (no '/', '?', '#', '%%', whitespace or other characters; got %s)"
                                      % _describe(value))
    return value


def validate_resource_ids(resource_id, resource_ids, others=False):
    """One ID list from ``resource_id`` or ``resource_ids``; duplicates dropped,
    order kept. ``others``: instances are also given another way (by ID or name)."""
    if resource_id is not None:
        return [validate_resource_id(resource_id)]
    if not resource_ids and not others:
        raise DbssConfigError("resource_ids", "must hold at least one resource ID")
    seen, ids = set(), []
    for index, value in enumerate(resource_ids or ()):
        validate_resource_id(value, option="resource_ids[%d]" % index)
        if value not in seen:
            seen.add(value)
            ids.append(value)
    return ids


def validate_http_url(value, option):
    """An http(s) base URL without user info, query or fragment; returned
    without a trailing '/'."""
    if not isinstance(value, str) or not value.strip():
        raise DbssConfigError(option, "must be an http:// or https:// URL")
    value = value.strip()
    # The value itself is never quoted in these messages: it could hold a password.
    try:
        parts = urlsplit(value)
        if parts.port is not None and parts.port <= 0:
            raise ValueError("port out of range")
    except ValueError:
        raise DbssConfigError(option, "is not a valid URL (bad host or port)")
    if parts.scheme not in ("http", "https"):
        raise DbssConfigError(option, "must be an http:// or https:// URL (got scheme %s)" % _describe(parts.scheme or ""))
    if not parts.hostname:
        raise DbssConfigError(option, "must name a host")
    if "@" in parts.netloc:
        raise DbssConfigError(option, "must not contain user information ('user:password@'); pass credentials through the auth options")
    if parts.query or parts.fragment or value.endswith("?") or value.endswith("#"):
        raise DbssConfigError(option, "must not have a query string or fragment")
    if any(ch.isspace() for ch in value):
        raise DbssConfigError(option, "must not contain whitespace")
    refuse_dot_segments(value, option)
    return value.rstrip("/")


def refuse_dot_segments(url, option):
    """urllib3 removes '.' and '..' path segments (RFC 3986) after we sign, and
    requests decodes '%2E' to '.' first: such a URL would not be sent as signed."""
    if any(unquote(segment) in (".", "..") for segment in urlsplit(url).path.split("/")):
        raise DbssConfigError(option, "must not contain '.' or '..' path segments (the request would not be "
                                      "sent as signed)")


def validate_region(value):
    """A well-formed region name. One this release does not know is used as
    given (Huawei adds regions faster than we release); see region_warning."""
    if not isinstance(value, str) or not REGION_RE.match(value):
        raise DbssConfigError("region", "must look like a Huawei Cloud region such as cn-north-4 or eu-west-101 "
                                        "(got %s); or set endpoint to the DBSS URL" % _describe(value))
    return value


def region_warning(region):
    """A warning for a region this release does not know but that is close to
    one it knows (most often a typo), else None."""
    if region is None or region in KNOWN_REGIONS:
        return None
    close = difflib.get_close_matches(region, KNOWN_REGIONS, n=1, cutoff=0.8)
    if not close:
        return None
    return ("region %s is not one this collection knows; it is used as given. Did you mean %s?"
            % (region, close[0]))


def validate_cloud(value):
    if not isinstance(value, str) or not CLOUD_RE.match(value):
        raise DbssConfigError("cloud", "must be a domain name such as myhuaweicloud.com (got %s)" % _describe(value))
    return value


def site_cloud(region, cloud):
    """The site domain: ``cloud`` when given, else myhuaweicloud.eu for the
    Europe site's regions (eu-west-1xx) and myhuaweicloud.com for the others.
    A region of one public site with the other's domain builds hosts that do
    not exist: refused, naming both."""
    if cloud is None or cloud == "":
        return EUROPE_CLOUD if region and region.startswith(EUROPE_PREFIX) else DEFAULT_CLOUD
    validate_cloud(cloud)
    if region and cloud in (DEFAULT_CLOUD, EUROPE_CLOUD):
        expected = EUROPE_CLOUD if region.startswith(EUROPE_PREFIX) else DEFAULT_CLOUD
        if cloud != expected and (region in KNOWN_REGIONS or expected == EUROPE_CLOUD):
            raise DbssConfigError("cloud", "%s is not the site of region %s, which is on %s; leave cloud unset "
                                           "(it follows the region) or set it to %s" % (cloud, region, expected, expected))
    return cloud


def resolve_base_url(endpoint, region, cloud):
    """``endpoint`` when given (it wins over region), else https://dbss.{region}.{site}.
    A region given with an endpoint is checked too: it still builds the IAM URL."""
    if region:
        validate_region(region)
    cloud = site_cloud(region, cloud)
    if endpoint:
        return validate_http_url(endpoint, "endpoint")
    if not region:
        raise DbssConfigError("region", "is required when endpoint is not set (set region or its environment variable, or endpoint)")
    return "https://dbss.%s.%s" % (region, cloud)


def resolve_iam_url(auth_url, region, cloud):
    """The IAM v3 endpoint: ``auth_url`` (with or without its /v3 suffix), else
    built as Huawei's SDK and Terraform provider do: iam.{region}.{site}/v3
    where the SDK has a regional IAM endpoint (and on every other site), the
    global iam.myhuaweicloud.com/v3 for the other regions of the default site.
    None when neither auth_url nor region is given."""
    if auth_url:
        url = validate_http_url(auth_url, "auth_url")
        if url.lower().endswith("/auth/tokens"):  # the login URL itself, as some guides give it
            url = url[:-len("/auth/tokens")]
        path = urlsplit(url).path
        return url[:-3] + "/v3" if path.lower().endswith("/v3") else url + "/v3"
    if not region:
        return None
    cloud = site_cloud(region, cloud)
    if cloud == DEFAULT_CLOUD and region not in IAM_REGIONS:
        return "https://iam.%s/v3" % DEFAULT_CLOUD
    return "https://iam.%s.%s/v3" % (region, cloud)


def _number(value, kinds=(int, float)):
    """A number, given as such or as text, else None (the options are ``raw``:
    ansible-core's int and float conversions overflow on ``1e999``)."""
    if isinstance(value, str):
        try:
            value = int(value.strip()) if int in kinds and value.strip().isdigit() else float(value)
        except (ValueError, OverflowError):
            return None
    return value if isinstance(value, kinds) and not isinstance(value, bool) else None


def validate_timeout(value, option="timeout"):
    number = _number(value)
    if number is None or not 0 < number <= MAX_TIMEOUT_SECONDS:
        raise DbssConfigError(option, "must be a number of seconds above 0 and at most %d (got %s)" % (MAX_TIMEOUT_SECONDS, _describe(value)))
    return float(number)


def validate_max_retries(value):
    number = _number(value, (int,))
    if number is None or not 0 <= number <= MAX_RETRIES_LIMIT:
        raise DbssConfigError("max_retries", "must be an integer from 0 to %d (got %s)" % (MAX_RETRIES_LIMIT, _describe(value)))
    return number


def validate_header_secret(value, option):
    """A credential sent in an HTTP header (token, access key, security token):
    visible ASCII without spaces. The value is never shown: it is a secret."""
    if not HEADER_TOKEN_RE.match(value):
        raise DbssConfigError(option, "must be visible ASCII characters without spaces, tabs or line breaks "
                                      "(a copied credential often ends in a newline or holds a typographic "
                                      "quote); the value is not shown")
    return value


def validate_ca_path(value):
    if value is None:
        return None
    if not os.path.exists(value):
        raise DbssConfigError("ca_path", "names no file or directory: %s" % value)
    return value


def _describe(value):
    """A safe, short rendering of a rejected value for an error message (never
    used for options that hold secrets)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validate_wait(params):
    """The wait options as numbers and state tuples, every rule checked."""
    timeout = parse_duration(params.get("wait_timeout"), "wait_timeout", maximum=MAX_WAIT_SECONDS)
    delay = parse_duration(params.get("wait_delay"), "wait_delay", allow_zero=True, maximum=MAX_WAIT_SECONDS)
    if delay >= timeout:
        # The whole wait would pass before the first poll.
        raise DbssConfigError("wait_delay", "must be shorter than wait_timeout (%s); got %s"
                              % (format_seconds(timeout), format_seconds(delay)))
    sleep = parse_duration(params.get("wait_sleep"), "wait_sleep", maximum=MAX_SLEEP_SECONDS)
    if params.get("wait_max_sleep") is None:
        # Unset: the default cap, raised to wait_sleep (so raising wait_sleep alone works).
        max_sleep = max(DEFAULT_MAX_SLEEP, sleep)
    else:
        max_sleep = parse_duration(params.get("wait_max_sleep"), "wait_max_sleep", maximum=MAX_SLEEP_SECONDS)
    if sleep > max_sleep:
        raise DbssConfigError("wait_sleep", "must not exceed wait_max_sleep (%s); got %s"
                              % (format_seconds(max_sleep), format_seconds(sleep)))
    not_found = parse_duration(params.get("wait_not_found_timeout"), "wait_not_found_timeout", allow_zero=True,
                               maximum=MAX_WAIT_SECONDS)
    heartbeat = parse_duration(params.get("progress_interval", 30), "progress_interval", maximum=MAX_SLEEP_SECONDS)
    if heartbeat < 1:  # a log line a millisecond is no log
        raise DbssConfigError("progress_interval", "must be at least 1 s; got %s" % format_seconds(heartbeat))
    states = validate_states(params.get("target_states"), params.get("pending_states"), params.get("failure_states"))
    return dict(states, timeout=timeout, delay=delay, sleep=sleep, max_sleep=max_sleep, not_found_timeout=not_found,
                heartbeat=heartbeat)


def validate_states(target, pending, failure, prefix=""):
    """Three disjoint state lists, the target one not empty (the argument
    spec's choices already refused unknown states); keyed by their option
    names less ``prefix`` (``instance_`` for the instance's)."""
    lists = {"target_states": tuple(target or ()), "pending_states": tuple(pending or ()),
             "failure_states": tuple(failure or ())}
    if not lists["target_states"]:
        raise DbssConfigError(prefix + "target_states", "must name at least one state")
    for option, other in (("pending_states", "target_states"), ("failure_states", "target_states"),
                          ("failure_states", "pending_states")):
        common = sorted(set(lists[option]) & set(lists[other]))
        if common:
            raise DbssConfigError(prefix + option, "must not share states with %s%s; both name %s"
                                  % (prefix, other, ", ".join(common)))
    return lists


def validate_names(values, option):
    """A list of instance IDs or names: each a non-empty single line."""
    for index, value in enumerate(values or ()):
        if not isinstance(value, str) or not value.strip() or "\n" in value or len(value) > 256:
            raise DbssConfigError("%s[%d]" % (option, index), "must be a non-empty line of at most 256 characters")
    return list(dict.fromkeys(values or ()))


def validate_rate(value, option):
    """Requests per second: above 0, at most MAX_RPS."""
    number = _number(value)
    if number is None or not 0 < number <= MAX_RPS:
        raise DbssConfigError(option, "must be a number above 0 and at most %d (got %s)" % (MAX_RPS, _describe(value)))
    return float(number)


_UNITS = {
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "ns": 1e-9,
}

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_NUMERIC_RE = re.compile(r"^%s\Z" % _NUMBER, re.ASCII)
# Longer unit names first, so "ms" is not read as "m" followed by "s".
_PART_RE = re.compile("(%s)(ms|us|\u00b5s|ns|h|m|s)" % _NUMBER, re.ASCII)
_DURATION_RE = re.compile("^(?:%s(?:ms|us|\u00b5s|ns|h|m|s))+\\Z" % _NUMBER, re.ASCII)

_FORMS = 'a number of seconds or a duration such as "90", "1.5", "90s", "20m", "1h30m" or "500ms"'


def _shown(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_duration(value, option, allow_zero=False, maximum=None):
    """Return ``value`` as float seconds, or raise ``DbssConfigError(option, rule)``."""
    if isinstance(value, bool):
        raise DbssConfigError(option, "must be %s, not a boolean" % _FORMS)
    if isinstance(value, (int, float)):
        try:
            seconds = float(value)
        except OverflowError:  # an int beyond float's range, such as 10 ** 400
            raise DbssConfigError(option, "must be a finite duration; got an integer of %d digits" % len(str(abs(value))))
    elif isinstance(value, str):
        text = value.strip()
        if _NUMERIC_RE.match(text):
            seconds = float(text)
        elif _DURATION_RE.match(text):
            seconds = sum(float(number) * _UNITS[unit] for number, unit in _PART_RE.findall(text))
        else:
            raise DbssConfigError(option, "must be %s; got %s" % (_FORMS, _shown(value)))
    else:
        raise DbssConfigError(option, "must be %s; got a value of type %s" % (_FORMS, type(value).__name__))
    if math.isnan(seconds) or math.isinf(seconds):
        raise DbssConfigError(option, "must be a finite duration; got %s" % _shown(value))
    if seconds < 0:
        raise DbssConfigError(option, "must not be negative; got %s" % _shown(value))
    if seconds == 0 and not allow_zero:
        raise DbssConfigError(option, "must be greater than zero; got %s" % _shown(value))
    if maximum is not None and seconds > maximum:
        raise DbssConfigError(option, "must be at most %s; got %s" % (format_seconds(maximum), _shown(value)))
    return seconds


def format_seconds(value):
    """``1800 s`` for whole numbers, ``42.1 s`` otherwise."""
    value = float(value)
    if value == int(value):
        return "%d s" % int(value)
    return "%.1f s" % value
