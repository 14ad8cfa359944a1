# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Parse the duration options of hwcloud.dbss (``wait_timeout``, ``wait_delay`` ...).

Accepted forms, all returned as a float number of seconds:

==========================  ==========================================
Form                        Examples
==========================  ==========================================
int or float                ``90``, ``1.5``
numeric string              ``"90"``, ``"1.5"``, ``" 30 "``
Terraform / Go duration     ``"20m"``, ``"1h30m"``, ``"90s"``, ``"500ms"``, ``"2h0m5s"``, ``"1.5h"``
==========================  ==========================================

Units of the duration form: ``h``, ``m``, ``s``, ``ms``, ``us`` (or ``\u00b5s``), ``ns``;
several may follow each other without spaces, as in Terraform's ``timeouts`` blocks.
Signs, exponents (``"1e3"``), ``inf``/``nan``, booleans, spaces inside a duration and
unknown units (``"20M"``, ``"1d"``) are refused with a ``DbssConfigError`` naming the option.
Zero is refused unless ``allow_zero=True`` (for ``wait_delay`` and ``wait_not_found_timeout``);
negatives always are, and so is anything above ``maximum`` (every duration has an upper bound:
a typo such as ``999999999h`` must fail naming the option, not overflow later).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssConfigError

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
