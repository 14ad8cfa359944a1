# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A request-rate limit shared by every thread that talks to one DBSS endpoint:
each caller reserves the next free slot under a lock, then sleeps outside it
(arrival order, no spinning). It adapts to the gateway (additive increase,
multiplicative decrease, like botocore's adaptive mode):

``acquire(deadline)`` waits for a slot (True), or returns False at once when the
slot lies after ``deadline``. ``on_throttled()`` (a 429 / APIG(W).0308) halves the
rate (floor ``MIN_RATE``, once per burst of 429s) and the next request waits one
interval at it; a Retry-After pauses only the call it came with. ``on_success()``
adds a fiftieth of the configured rate back, up to it.

``rate`` is validated by dbss_settings; ``clock`` and ``sleep`` are injected.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

MIN_RATE = 0.5
DECREASE_FACTOR = 0.5
# 429s that arrive within this many seconds of a slow-down (or one interval, if
# longer) answer requests sent before it, so they do not slow down again.
DECREASE_WINDOW = 1.0


class RateLimiter:
    """Thread-safe, adaptive request-rate limit (see the module docstring)."""

    def __init__(self, rate, clock=time.monotonic, sleep=time.sleep):
        self.configured_rate = float(rate)
        self.min_rate = min(MIN_RATE, self.configured_rate)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rate = self.configured_rate
        self._next_slot = None
        self._last_decrease = None
        self.throttle_count = 0
        self.granted = 0

    @property
    def rate(self):
        """The current (possibly reduced) rate in requests per second."""
        with self._lock:
            return self._rate

    def acquire(self, deadline=None):
        """Block until a request may be sent; False if that cannot happen by ``deadline``."""
        with self._lock:
            now = self._clock()
            slot = now if self._next_slot is None else max(self._next_slot, now)
            if deadline is not None and slot > deadline:
                return False
            self._next_slot = slot + 1.0 / self._rate
            self.granted += 1
        if slot > now:
            self._sleep(slot - now)
        return True

    def on_throttled(self):
        """Record a throttled answer: slow down."""
        with self._lock:
            now = self._clock()
            self.throttle_count += 1
            if self._last_decrease is None or now - self._last_decrease >= max(DECREASE_WINDOW, 1.0 / self._rate):
                self._rate = max(self.min_rate, self._rate * DECREASE_FACTOR)
                self._last_decrease = now
            # The next request waits at least one interval at the new rate.
            self._next_slot = max(self._next_slot or now, now + 1.0 / self._rate)

    def on_success(self):
        """Record a successful answer: creep back towards the configured rate."""
        with self._lock:
            self._rate = min(self.configured_rate, self._rate + self.configured_rate / 50.0)
