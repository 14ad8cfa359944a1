# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssConfigError
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_ratelimit import RateLimiter

EPS = 1e-9


class FakeClock:
    """A clock whose sleep advances time at once; thread-safe."""

    def __init__(self, start=1000.0):
        self.now = start
        self.sleeps = []
        self.hook = None
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds
        if self.hook is not None:
            hook, self.hook = self.hook, None
            hook()


def make(clock, **kwargs):
    return RateLimiter(clock=clock, sleep=clock.sleep, **kwargs)


def test_rate_respected_over_many_acquires():
    clock = FakeClock()
    limiter = make(clock, rate=10)
    times = []
    for dummy in range(50):
        assert limiter.acquire() is True
        times.append(clock())
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.1 - EPS
    # no slower than needed either
    assert times[-1] - times[0] == pytest.approx(4.9)
    assert limiter.granted == 50


def test_first_acquire_does_not_sleep():
    clock = FakeClock()
    limiter = make(clock, rate=10)
    assert limiter.acquire() is True
    assert clock.sleeps == []


def test_idle_time_does_not_build_up_beyond_burst():
    clock = FakeClock()
    limiter = make(clock, rate=10, burst=3)
    limiter.acquire()
    clock.sleep(100)
    start = clock()
    for dummy in range(3):
        limiter.acquire()
    assert clock() == start  # the burst of 3 goes at once
    limiter.acquire()
    assert clock() == pytest.approx(start + 0.1)  # the fourth waits for its slot


def test_deadline_respected_without_sleeping():
    clock = FakeClock()
    limiter = make(clock, rate=2)
    assert limiter.acquire() is True
    before = clock()
    assert limiter.acquire(deadline=before + 0.4) is False  # next slot at +0.5
    assert clock() == before
    assert clock.sleeps == []
    # a deadline exactly at the slot is met
    assert limiter.acquire(deadline=before + 0.5) is True
    assert clock() == pytest.approx(before + 0.5)


def test_failed_acquire_does_not_consume_a_slot():
    clock = FakeClock()
    limiter = make(clock, rate=1)
    limiter.acquire()
    for dummy in range(5):
        assert limiter.acquire(deadline=clock() + 0.1) is False
    assert limiter.acquire() is True
    assert clock() == pytest.approx(1001.0)


def test_slowdown_after_throttle_and_gradual_recovery():
    clock = FakeClock()
    limiter = make(clock, rate=10)
    limiter.on_throttled()
    assert limiter.rate == pytest.approx(5.0)
    # a burst of 429s answering requests already in flight counts once
    limiter.on_throttled()
    limiter.on_throttled()
    assert limiter.rate == pytest.approx(5.0)
    assert limiter.throttle_count == 3
    clock.sleep(1.0)
    limiter.on_throttled()
    assert limiter.rate == pytest.approx(2.5)
    # the interval between acquires follows the reduced rate
    clock.sleep(10)
    limiter.acquire()
    t0 = clock()
    limiter.acquire()
    assert clock() - t0 == pytest.approx(1 / 2.5)
    # additive increase: step = 10 / 50 = 0.2 per success, never above the configured rate
    limiter.on_success()
    assert limiter.rate == pytest.approx(2.7)
    for dummy in range(100):
        limiter.on_success()
    assert limiter.rate == pytest.approx(10.0)


def test_slowdown_has_a_floor():
    clock = FakeClock()
    limiter = make(clock, rate=10)
    for dummy in range(20):
        limiter.on_throttled()
        clock.sleep(5)
    assert limiter.rate == pytest.approx(0.5)


def test_throttle_delays_the_next_request_by_one_new_interval():
    clock = FakeClock()
    limiter = make(clock, rate=10)
    limiter.acquire()
    limiter.on_throttled()
    t0 = clock()
    limiter.acquire()
    assert clock() - t0 == pytest.approx(0.2)


def test_retry_after_blocks_everyone():
    clock = FakeClock()
    limiter = make(clock, rate=10)
    limiter.acquire()
    t0 = clock()
    limiter.on_throttled(retry_after=3)
    assert limiter.blocked_until == pytest.approx(t0 + 3)
    assert limiter.acquire(deadline=t0 + 2.9) is False
    assert clock() == t0
    assert limiter.acquire() is True
    assert clock() >= t0 + 3 - EPS
    # a shorter Retry-After later does not shorten an existing block
    t1 = clock()
    limiter.on_throttled(retry_after=10)
    limiter.on_throttled(retry_after=1)
    assert limiter.blocked_until == pytest.approx(t1 + 10)


@pytest.mark.parametrize("bad", ["soon", None, -1, 0, float("nan"), True])
def test_unusable_retry_after_is_ignored(bad):
    clock = FakeClock()
    limiter = make(clock, rate=10)
    limiter.on_throttled(retry_after=bad)
    assert limiter.blocked_until is None


def test_retry_after_arriving_while_a_caller_sleeps_requeues_it():
    clock = FakeClock()
    limiter = make(clock, rate=1)
    limiter.acquire()
    t0 = clock()

    def throttle():
        limiter.on_throttled(retry_after=5)

    clock.hook = throttle  # fires during the sleep of the next acquire
    assert limiter.acquire() is True
    assert clock() >= t0 + 5 - EPS


def test_retry_after_past_deadline_while_sleeping_returns_false():
    clock = FakeClock()
    limiter = make(clock, rate=1)
    limiter.acquire()
    t0 = clock()
    clock.hook = lambda: limiter.on_throttled(retry_after=30)
    assert limiter.acquire(deadline=t0 + 10) is False
    assert clock() <= t0 + 10


def test_threads_share_the_limit():
    clock = FakeClock()
    limiter = make(clock, rate=10)
    results = []
    lock = threading.Lock()

    def worker():
        for dummy in range(25):
            ok = limiter.acquire()
            with lock:
                results.append(ok)

    threads = [threading.Thread(target=worker) for dummy in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive()
    assert results == [True] * 100
    assert limiter.granted == 100
    # 100 slots 0.1 s apart: the last one is at least 9.9 s after the first
    assert clock() >= 1000.0 + 9.9 - 1e-6


@pytest.mark.parametrize("kwargs", [
    {"rate": 0},
    {"rate": -1},
    {"rate": "10"},
    {"rate": True},
    {"rate": float("inf")},
    {"burst": 0},
    {"min_rate": 0},
    {"decrease_factor": 1.0},
    {"decrease_factor": 0},
    {"increase_step": 0},
])
def test_bad_settings_rejected(kwargs):
    clock = FakeClock()
    with pytest.raises(DbssConfigError) as excinfo:
        make(clock, **kwargs)
    assert excinfo.value.option.startswith("rate_limit")


def test_min_rate_never_above_configured_rate():
    clock = FakeClock()
    limiter = make(clock, rate=0.2)
    assert limiter.min_rate == pytest.approx(0.2)
    limiter.on_throttled()
    assert limiter.rate == pytest.approx(0.2)
