# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_policy import (
    RETRY_CAP, jittered, longest_retry_pauses, next_interval, parse_retry_after, retry_pause,
)

NOW = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT


def test_next_interval_doubles_up_to_the_cap():
    seen = [2.0]
    while len(seen) < 6:
        seen.append(next_interval(seen[-1], 30.0))
    assert seen == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert next_interval(30.0, 30.0) == 30.0


@pytest.mark.parametrize("draw, expected", [(0.0, 10.0), (0.5, 9.0), (0.75, 8.5)])
def test_jittered_stays_in_the_top_fifth_of_the_interval(draw, expected):
    assert jittered(10.0, lambda: draw) == pytest.approx(expected)


def test_retry_pauses_double_from_half_a_second_to_the_cap():
    assert [retry_pause(n, lambda: 0.0) for n in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0]
    assert retry_pause(10 ** 6, lambda: 0.0) == RETRY_CAP  # no overflow for a huge attempt number
    assert retry_pause(0, lambda: 0.5) == pytest.approx(0.45)


def test_longest_retry_pauses_is_the_sum_without_jitter():
    assert longest_retry_pauses(0) == 0
    assert longest_retry_pauses(3) == 3.5
    assert longest_retry_pauses(8) == 0.5 + 1 + 2 + 4 + 8 + 16 + 20 + 20


@pytest.mark.parametrize("header, expected", [
    ("120", 120.0), (" 1.5 ", 1.5), (0, 0.0), (7, 7.0), ("-5", 0.0),
    ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),   # an HTTP date, from now
    ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),    # in the past: no wait
    (None, None), ("", None), ("   ", None), ("soon", None), ("nan", None), ("inf", None),
    ("Wed, 21 Oct 2015 07:28:30 -0000", None),  # a date without a time zone
    ("Wed, 99 Foo 2015 07:28:30 GMT", None),
])
def test_parse_retry_after(header, expected):
    assert parse_retry_after(header, now_epoch=NOW) == expected
