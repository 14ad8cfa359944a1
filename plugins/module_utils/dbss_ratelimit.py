# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A request-rate limit shared by every thread that talks to one DBSS endpoint:
each caller reserves the next free slot under a lock, then sleeps outside it
(arrival order, no spinning). It adapts to the gateway, whose quota is per
user/project (often 60 calls a minute, a fixed window) and so shared by every thread.

``acquire(deadline)`` waits for a slot (True), or returns False at once when the
slot lies after ``deadline`` (nothing is reserved then).

``on_throttled(retry_after=None)`` records a 429 / APIG(W).0308:

* With a Retry-After (seconds until the gateway's window resets, capped at
  dbss_policy.RETRY_AFTER_CAP), the whole limiter pauses until then: every thread,
  not only the call that was answered, as the quota is spent for all of them. A
  caller already asleep on an earlier slot queues again after the pause. The rate
  it resumes at is learned: the gateway accepted our ``n`` successes since the last
  resume, and resets after ``elapsed + retry_after`` seconds, so it allows about
  ``n / (elapsed + retry_after)`` per second; the rate becomes ``SAFETY`` (0.9) times
  that (never more than it was, nor below ``MIN_RATE``). Under a fixed window that
  lands just under the quota at once (one window, not several halvings), instead of
  bursting into the quota again at every reset. 429s with no success since the last resume (answers
  to requests already in flight, or a window that had not reset yet) only extend
  the pause: they tell nothing new of the rate.
* Without a Retry-After (nothing is known of a window), the rate halves (floor
  ``MIN_RATE``, once per burst of 429s) and the next request waits one interval.

``on_success()`` lets the rate climb back from where it was cut, convexly in time:
``base * (1 + GROWTH * k**2)`` after ``k`` periods, a period being the window the
gateway revealed (``elapsed + retry_after``; 1 s without a Retry-After), up to the
configured rate. Like the cubic growth of botocore's adaptive mode, it stays close to
the learned rate for the first period or two (about two periods before it reaches
the quota again, so a steady load meets at most one 429 every few windows), then
probes upwards ever faster: a quota raised, or a rate learned while the demand
was low, is found again. Time-based, so it does not depend on how many calls succeed.

``pause_all=False`` (the EDA source: a long-running watch where one answer must not
hold every resource) keeps the learning but pauses no one: each caller honours its
own Retry-After.

``rate`` is validated by dbss_settings; ``clock`` and ``sleep`` are injected.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_policy import RETRY_AFTER_CAP

MIN_RATE = 0.5
DECREASE_FACTOR = 0.5
# Of the rate the gateway's window allowed: a margin for the calls in flight.
SAFETY = 0.9
GROWTH = 0.025
# Without a Retry-After: 429s that arrive within this many seconds of a slow-down
# (or one interval, if longer) answer requests sent before it, so they do not slow
# down again; and the period of the growth.
DECREASE_WINDOW = 1.0


class RateLimiter:
    """Thread-safe, adaptive request-rate limit (see the module docstring)."""

    def __init__(self, rate, clock=time.monotonic, sleep=time.sleep, pause_all=True):
        self.configured_rate = float(rate)
        self.pause_all = pause_all
        self.min_rate = min(MIN_RATE, self.configured_rate)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rate = self.configured_rate
        self._next_slot = None
        self._last_decrease = None
        self._paused_until = None
        self._pauses = 0          # bumped by each pause that voids the slots reserved before it
        self._since = None        # start of the current period: first grant, or the end of the last pause
        self._successes = 0       # 2xx answers since then
        self._base = None         # the rate set by the last slow-down; None: never slowed down
        self._period = DECREASE_WINDOW
        self.throttle_count = 0
        self.granted = 0

    @property
    def rate(self):
        """The current (possibly reduced) rate in requests per second."""
        with self._lock:
            return self._rate

    @property
    def paused_until(self):
        """The ``clock`` time until which no request is let through, or None."""
        with self._lock:
            return self._paused_until

    def acquire(self, deadline=None):
        """Block until a request may be sent; False if that cannot happen by ``deadline``."""
        while True:
            with self._lock:
                now = self._clock()
                slot = now if self._next_slot is None else max(self._next_slot, now)
                if self._paused_until is not None:
                    slot = max(slot, self._paused_until)
                if deadline is not None and slot > deadline:
                    return False
                self._next_slot = slot + 1.0 / self._rate
                pauses = self._pauses
                if slot <= now:
                    return self._grant(now)
            self._sleep(slot - now)
            with self._lock:
                if self._pauses == pauses:
                    return self._grant(self._clock())
            # A 429 paused the limiter while this caller slept: its slot is void; queue again.

    def _grant(self, now):
        self.granted += 1
        if self._since is None:
            self._since = now
        return True

    def on_throttled(self, retry_after=None):
        """Record a throttled answer: pause everyone (Retry-After), or slow down."""
        with self._lock:
            now = self._clock()
            self.throttle_count += 1
            if retry_after is None:
                self._halve(now)
                return
            pause = min(max(0.0, float(retry_after)), RETRY_AFTER_CAP)
            until = now + pause
            if self._successes:
                span = now - (now if self._since is None else self._since) + pause
                if span > 0:
                    learned = SAFETY * self._successes / span
                    self._slow_down(now, min(self._rate, learned), until, span)
            if self.pause_all and (self._paused_until is None or until > self._paused_until):
                self._paused_until = until
                self._pauses += 1
                self._next_slot = until
                self._since = until
                self._successes = 0

    def _halve(self, now):
        if self._last_decrease is None or now - self._last_decrease >= max(DECREASE_WINDOW, 1.0 / self._rate):
            self._slow_down(now, self._rate * DECREASE_FACTOR, now, DECREASE_WINDOW)
        # The next request waits at least one interval at the new rate.
        self._next_slot = max(self._next_slot or now, now + 1.0 / self._rate)

    def _slow_down(self, now, rate, resume, period):
        self._rate = self._base = max(self.min_rate, rate)
        self._last_decrease = now
        self._since = resume
        self._period = period
        self._successes = 0

    def on_success(self):
        """Record a successful answer: climb back towards the configured rate."""
        with self._lock:
            now = self._clock()
            if self._paused_until is not None and now < self._paused_until:
                return  # an answer to a request sent before the pause: the window it counts in is over
            self._successes += 1
            if self._base is not None:
                periods = max(0.0, now - self._since) / self._period
                self._rate = min(self.configured_rate, self._base * (1.0 + GROWTH * periods * periods))
