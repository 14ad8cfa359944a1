# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_policy import RETRY_AFTER_CAP
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_ratelimit import GROWTH, SAFETY, RateLimiter

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


def test_slowdown_without_retry_after_and_gradual_recovery(clock):
    limiter = make(clock, rate=10)
    limiter.on_throttled()
    assert limiter.rate == pytest.approx(5.0)
    # a burst of 429s answering requests already in flight counts once
    limiter.on_throttled()
    limiter.on_throttled()
    assert limiter.rate == pytest.approx(5.0)
    assert limiter.throttle_count == 3
    assert limiter.paused_until is None  # no Retry-After: nothing is paused
    clock.sleep(1.0)
    limiter.on_throttled()
    slowed = clock()
    assert limiter.rate == pytest.approx(2.5)
    # the interval between acquires follows the reduced rate
    limiter.acquire()
    t0 = clock()
    limiter.acquire()
    assert clock() - t0 == pytest.approx(1 / 2.5)
    # the growth is in time (1 s periods without a Retry-After), not per success
    for dummy in range(100):
        limiter.on_success()
    assert limiter.rate < 2.6
    clock.advance(2.0)
    limiter.on_success()
    assert clock() - slowed == pytest.approx(2.8)
    assert limiter.rate == pytest.approx(2.5 * (1 + GROWTH * 2.8 ** 2))
    clock.advance(60)
    limiter.on_success()
    assert limiter.rate == pytest.approx(10.0)  # never above the configured rate


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


# -- a Retry-After: the quota is per project, so the whole limiter pauses ---------

def succeed(limiter, clock, count, every):
    """``count`` requests through the limiter, one every ``every`` s, each answered 2xx."""
    for dummy in range(count):
        assert limiter.acquire() is True
        limiter.on_success()
        clock.advance(every)


def test_a_retry_after_pauses_every_caller_until_the_window_resets(clock):
    limiter = make(clock, rate=10)
    limiter.acquire()
    limiter.on_throttled(retry_after=30)
    assert limiter.paused_until == pytest.approx(1030.0)
    # any caller, not only the one that was answered, waits for the pause
    assert limiter.acquire() is True
    assert clock() == pytest.approx(1030.0)
    # no success was seen before the 429, so nothing is learned of the rate
    assert limiter.rate == pytest.approx(10.0)
    limiter.acquire()
    assert clock() == pytest.approx(1030.1)


def test_a_pause_past_the_deadline_fails_at_once_and_reserves_nothing(clock):
    limiter = make(clock, rate=10)
    limiter.acquire()
    limiter.on_throttled(retry_after=30)
    assert limiter.acquire(deadline=1029.9) is False
    assert clock.sleeps == [] and clock() == 1000.0
    assert limiter.acquire(deadline=1030.0) is True
    assert clock() == pytest.approx(1030.0)
    assert limiter.granted == 2


def test_the_pause_is_capped(clock):
    limiter = make(clock, rate=10)
    limiter.on_throttled(retry_after=3600)
    assert limiter.paused_until == pytest.approx(1000.0 + RETRY_AFTER_CAP)
    limiter.acquire()
    assert clock() == pytest.approx(1000.0 + RETRY_AFTER_CAP)


def test_a_caller_asleep_on_an_earlier_slot_queues_again_after_the_pause(clock):
    # Another thread's request is throttled while this caller sleeps towards its slot.
    limiter = make(clock, hook=lambda: limiter.on_throttled(retry_after=20), rate=1)
    limiter.acquire()
    assert limiter.acquire() is True
    assert clock() == pytest.approx(1021.0)  # the 429 came at 1001.0, its old slot: sent after the pause
    assert limiter.granted == 2


def test_a_later_retry_after_extends_the_pause_an_earlier_one_does_not_shorten_it(clock):
    limiter = make(clock, rate=10)
    limiter.on_throttled(retry_after=30)
    limiter.on_throttled(retry_after=10)
    assert limiter.paused_until == pytest.approx(1030.0)
    clock.advance(1)
    limiter.on_throttled(retry_after=30)
    assert limiter.paused_until == pytest.approx(1031.0)


def test_the_rate_resumes_at_what_the_window_allowed(clock):
    limiter = make(clock, rate=10)
    # 60 accepted in the first 6 s, then 429 with 54 s until the window resets: 60 a minute
    succeed(limiter, clock, 60, 0.1)
    limiter.on_throttled(retry_after=54)
    assert limiter.rate == pytest.approx(SAFETY * 60 / 60.0)
    limiter.acquire()
    assert clock() == pytest.approx(1060.0)
    limiter.acquire()
    assert clock() == pytest.approx(1060.0 + 1 / (SAFETY * 1.0))


def test_429s_of_requests_in_flight_do_not_lower_the_rate_again(clock):
    limiter = make(clock, rate=10)
    succeed(limiter, clock, 60, 0.1)
    limiter.on_throttled(retry_after=54)
    learned = limiter.rate
    for dummy in range(5):
        limiter.on_throttled(retry_after=54)
    # ... nor do 2xx answers that arrive during the pause count for the next window
    for dummy in range(100):
        limiter.on_success()
    assert limiter.rate == pytest.approx(learned)
    assert limiter.throttle_count == 6
    # a Retry-After rounded down: a 429 right at the resume, before any success, only pauses again
    clock.advance(54)
    limiter.on_throttled(retry_after=1)
    assert limiter.rate == pytest.approx(learned)
    assert limiter.paused_until == pytest.approx(clock() + 1)


def test_the_learned_rate_is_never_above_the_current_one_nor_below_the_floor(clock):
    limiter = make(clock, rate=2)
    succeed(limiter, clock, 10, 0.5)
    limiter.on_throttled(retry_after=0)  # 10 in 5 s: 2 a second, 1.8 with the margin
    assert limiter.rate == pytest.approx(1.8)
    limiter = make(clock, rate=10)
    succeed(limiter, clock, 2, 0.5)
    limiter.on_throttled(retry_after=100)
    assert limiter.rate == pytest.approx(0.5)


def test_recovery_is_slow_for_a_period_then_probes_up_to_the_configured_rate(clock):
    limiter = make(clock, rate=10)
    succeed(limiter, clock, 60, 0.1)
    limiter.on_throttled(retry_after=54)  # learned 0.9 a second; the window is 60 s
    clock.advance(54)
    rates = []
    for dummy in range(8):  # one success at the end of each of 8 windows
        clock.advance(60)
        limiter.on_success()
        rates.append(limiter.rate)
    assert rates[0] == pytest.approx(0.9 * (1 + GROWTH))
    assert rates[0] < 1.0  # still under the quota a window after the resume
    assert rates == sorted(rates) and rates[-1] > 2.0
    clock.advance(3600)
    limiter.on_success()
    assert limiter.rate == pytest.approx(10.0)


def quota_run(limiter, clock, minutes, offset, quota=60):
    """Saturated demand through ``limiter`` against a gateway's fixed one-minute window
    of ``quota`` calls (windows start ``offset`` s before the run); (accepted, throttled)."""
    counts, accepted, throttled = {}, 0, 0
    end = clock() + 60 * minutes
    while clock() < end:
        assert limiter.acquire() is True
        window = int((clock() - 1000.0 + offset) // 60)
        counts[window] = counts.get(window, 0) + 1
        if counts[window] > quota:
            throttled += 1
            limiter.on_throttled(retry_after=-(-((window + 1) * 60 - (clock() - 1000.0 + offset)) // 1))
        else:
            accepted += 1
            limiter.on_success()
    return accepted, throttled


@pytest.mark.parametrize("offset", [0, 17, 45])
def test_under_a_per_minute_quota_it_settles_below_it(clock, offset):
    limiter = make(clock, rate=10)
    accepted, throttled = quota_run(limiter, clock, 10, offset)
    # one 429 in the first window, then at most one every few windows, not one per window
    assert throttled <= 4
    assert accepted >= 0.85 * 600
    assert 0.5 < limiter.rate < 1.3


def test_without_pause_all_a_retry_after_teaches_the_rate_but_pauses_no_one(clock):
    limiter = make(clock, rate=10, pause_all=False)
    succeed(limiter, clock, 60, 0.1)
    limiter.on_throttled(retry_after=54)
    assert limiter.paused_until is None
    assert limiter.rate == pytest.approx(SAFETY)
    start = clock()
    limiter.acquire()
    assert clock() == start  # the other callers go on (at the learned rate); the answered one waits itself
