# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""When to ask again: one backoff, one jitter and one Retry-After rule for the
client's retries, the waiter's polls and the EDA source.

Pure functions (the random source is passed in). The interval doubles up to a
cap; each pause is drawn from its top fifth (enough to keep many pollers out of
lockstep without asking early); a single request never sleeps longer than
``RETRY_AFTER_CAP`` for a Retry-After (a longer one ends the call, and a wait
decides whether to come back).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import time
from email.utils import parsedate_to_datetime

RETRY_BASE = 0.5
RETRY_CAP = 20.0
RETRY_AFTER_CAP = 120.0
JITTER_FRACTION = 0.2


def next_interval(interval, cap):
    """The next interval of an exponential backoff: doubled, at most ``cap``."""
    return min(interval * 2.0, cap)


def jittered(interval, rng):
    """``interval`` less up to a fifth of it, drawn with ``rng()`` in [0, 1)."""
    return interval * (1.0 - JITTER_FRACTION * rng())


def retry_pause(attempt, rng):
    """The pause before retry ``attempt`` (0-based) of one request."""
    return jittered(min(RETRY_CAP, RETRY_BASE * (2 ** min(attempt, 30))), rng)


def longest_retry_pauses(retries):
    """The most ``retries`` retry pauses can add up to (for a call's deadline)."""
    return sum(min(RETRY_CAP, RETRY_BASE * (2 ** min(attempt, 30))) for attempt in range(retries))


def parse_retry_after(value, now_epoch=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now_epoch is None else now_epoch)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)
