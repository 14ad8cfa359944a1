# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A request-rate limit shared by every thread that talks to one DBSS endpoint.

``RateLimiter`` is a token bucket kept as a schedule of send times (each caller
reserves the next free slot under a lock, then sleeps outside it, so callers
are served in arrival order and never spin).  It adapts to the gateway:

=====================  ==================================================================
Event                  Effect
=====================  ==================================================================
``acquire(deadline)``  Waits (with the injected ``sleep``) for a slot and returns True;
                       returns False at once, without sleeping, when the slot it would get
                       lies after ``deadline`` (``None``: no deadline).
``on_throttled(ra)``   An HTTP 429 / APIGW.0308: the current rate is multiplied by
                       ``decrease_factor`` (default 0.5, floor ``min_rate``, default 0.5 rps;
                       at most once per max(1 s, 1/rate), so one burst of 429s counts as
                       one); with ``ra`` (Retry-After seconds) nobody is let through before
                       now + ``ra``.
``on_success()``       The current rate grows by ``increase_step`` (default rate / 50) up to
                       the configured rate: additive increase, multiplicative decrease.
=====================  ==================================================================

``clock`` and ``sleep`` are injected; tests pass a fake clock whose ``sleep``
advances time, so they never wait for real.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import threading
import time

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssConfigError

DEFAULT_RATE = 10.0
DEFAULT_MIN_RATE = 0.5
# 429s that arrive within this many seconds of a slow-down (or one interval, if
# longer) answer requests sent before it, so they do not slow down again.
DECREASE_WINDOW = 1.0


def _positive(value, option):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or math.isinf(value) or value <= 0:
        raise DbssConfigError(option, "must be a number greater than zero; got %r" % (value,))
    return float(value)


class RateLimiter:
    """Thread-safe, adaptive request-rate limit (see the module docstring)."""

    def __init__(self, rate=DEFAULT_RATE, burst=1, min_rate=DEFAULT_MIN_RATE, decrease_factor=0.5,
                 increase_step=None, clock=time.monotonic, sleep=time.sleep, option="rate_limit"):
        self.configured_rate = _positive(rate, option)
        self.burst = _positive(burst, option + " burst")
        self.min_rate = min(_positive(min_rate, option + " floor"), self.configured_rate)
        self.decrease_factor = _positive(decrease_factor, option + " decrease factor")
        if self.decrease_factor >= 1:
            raise DbssConfigError(option + " decrease factor", "must be below 1; got %r" % (decrease_factor,))
        if increase_step is None:
            increase_step = self.configured_rate / 50.0
        self.increase_step = _positive(increase_step, option + " increase step")
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rate = self.configured_rate
        # Theoretical arrival time of the next request (GCRA): a request may go at
        # time t when t >= _tat - (burst - 1) / rate.
        self._tat = None
        self._blocked_until = None
        self._last_decrease = None
        self.throttle_count = 0
        self.granted = 0

    @property
    def rate(self):
        """The current (possibly reduced) rate in requests per second."""
        with self._lock:
            return self._rate

    @property
    def blocked_until(self):
        """Clock time before which nobody is let through (Retry-After), or None."""
        with self._lock:
            return self._blocked_until

    def _reserve(self, deadline):
        """Under the lock: the slot reserved for this caller, or None if past deadline."""
        now = self._clock()
        interval = 1.0 / self._rate
        tat = now if self._tat is None else max(self._tat, now)
        slot = max(now, tat - (self.burst - 1.0) * interval)
        if self._blocked_until is not None and slot < self._blocked_until:
            slot = self._blocked_until
            tat = max(tat, slot)
        if deadline is not None and slot > deadline:
            return now, None
        self._tat = max(tat, slot) + interval
        return now, slot

    def acquire(self, deadline=None):
        """Block until a request may be sent; False if that cannot happen by ``deadline``."""
        while True:
            with self._lock:
                now, slot = self._reserve(deadline)
            if slot is None:
                return False
            if slot > now:
                self._sleep(slot - now)
            with self._lock:
                blocked = self._blocked_until
                if blocked is None or self._clock() >= blocked:
                    self.granted += 1
                    return True
            # A 429 arrived while we slept and pushed everyone back: queue again.

    def on_throttled(self, retry_after=None):
        """Record a throttled answer: slow down, and honour ``retry_after`` seconds."""
        with self._lock:
            now = self._clock()
            self.throttle_count += 1
            if self._last_decrease is None or now - self._last_decrease >= max(DECREASE_WINDOW, 1.0 / self._rate):
                self._rate = max(self.min_rate, self._rate * self.decrease_factor)
                self._last_decrease = now
            # The next request waits at least one interval at the new rate.
            nxt = now + 1.0 / self._rate
            self._tat = nxt if self._tat is None else max(self._tat, nxt)
            if retry_after is not None and not isinstance(retry_after, bool):
                try:
                    pause = float(retry_after)
                except (TypeError, ValueError):
                    pause = 0.0
                if pause > 0 and not math.isinf(pause) and not math.isnan(pause):
                    until = now + pause
                    if self._blocked_until is None or until > self._blocked_until:
                        self._blocked_until = until

    def on_success(self):
        """Record a successful answer: creep back towards the configured rate."""
        with self._lock:
            if self._rate < self.configured_rate:
                self._rate = min(self.configured_rate, self._rate + self.increase_step)
