# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_ratelimit import RateLimiter

EPS = 1e-9


def make(clock, hook=None, **kwargs):
    """A limiter on the fake clock; ``hook()`` runs once, during its first sleep
    (to play what another thread does meanwhile)."""
    hooks = [hook] if hook else []

    def sleep(seconds):
        clock.sleep(seconds)
        while hooks:
            hooks.pop()()

    return RateLimiter(clock=clock, sleep=sleep, **kwargs)


def test_rate_respected_over_many_acquires(clock):
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


def test_first_acquire_does_not_sleep(clock):
    limiter = make(clock, rate=10)
    assert limiter.acquire() is True
    assert clock.sleeps == []


def test_deadline_respected_without_sleeping(clock):
    limiter = make(clock, rate=2)
    assert limiter.acquire() is True
    before = clock()
    assert limiter.acquire(deadline=before + 0.4) is False  # next slot at +0.5
    assert clock() == before
    assert clock.sleeps == []
    # a deadline exactly at the slot is met
    assert limiter.acquire(deadline=before + 0.5) is True
    assert clock() == pytest.approx(before + 0.5)


def test_failed_acquire_does_not_consume_a_slot(clock):
    limiter = make(clock, rate=1)
    limiter.acquire()
    for dummy in range(5):
        assert limiter.acquire(deadline=clock() + 0.1) is False
    assert limiter.acquire() is True
    assert clock() == pytest.approx(1001.0)


def test_slowdown_after_throttle_and_gradual_recovery(clock):
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


def test_slowdown_has_a_floor(clock):
    limiter = make(clock, rate=10)
    for dummy in range(20):
        limiter.on_throttled()
        clock.sleep(5)
    assert limiter.rate == pytest.approx(0.5)


def test_throttle_delays_the_next_request_by_one_new_interval(clock):
    limiter = make(clock, rate=10)
    limiter.acquire()
    limiter.on_throttled()
    t0 = clock()
    limiter.acquire()
    assert clock() - t0 == pytest.approx(0.2)


def test_threads_share_the_limit(clock):
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


def test_min_rate_never_above_configured_rate(clock):
    limiter = make(clock, rate=0.2)
    assert limiter.min_rate == pytest.approx(0.2)
    limiter.on_throttled()
    assert limiter.rate == pytest.approx(0.2)


def test_idle_time_does_not_build_up_a_burst(clock):
    limiter = make(clock, rate=10)
    limiter.acquire()
    clock.sleep(100)
    start = clock()
    limiter.acquire()
    assert clock() == start
    limiter.acquire()
    assert clock() == pytest.approx(start + 0.1)  # the next one waits for its slot
