# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_settings import parse_duration
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssConfigError


@pytest.mark.parametrize("value, expected", [
    (90, 90.0),
    (1.5, 1.5),
    ("90", 90.0),
    ("1.5", 1.5),
    (" 30 ", 30.0),
    (".5", 0.5),
    ("5.", 5.0),
    ("20m", 1200.0),
    ("1h30m", 5400.0),
    ("90s", 90.0),
    ("1h", 3600.0),
    ("500ms", 0.5),
    ("2h0m5s", 7205.0),
    ("1.5h", 5400.0),
    ("1m30s", 90.0),
    ("30s1m", 90.0),
    ("1s500ms", 1.5),
    ("250000us", 0.25),
    ("250000\u00b5s", 0.25),
    ("2000000000ns", 2.0),
    ("0.5m", 30.0),
])
def test_valid(value, expected):
    assert parse_duration(value, "wait_timeout") == pytest.approx(expected)
    assert isinstance(parse_duration(value, "wait_timeout"), float)


@pytest.mark.parametrize("value", [
    "",
    "   ",
    "abc",
    "20M",
    "1d",
    "1h 30m",
    "20 m",
    "m",
    "h1",
    "1.2.3",
    "-5",
    "-5m",
    "+5",
    "1e3",
    "inf",
    "nan",
    "0x10",
    "5min",
    "\u0665",  # an Arabic-Indic digit: not ASCII
    True,
    False,
    None,
    [5],
    {"m": 5},
    -1,
    -0.5,
    float("inf"),
    float("nan"),
])
def test_invalid(value):
    with pytest.raises(DbssConfigError) as excinfo:
        parse_duration(value, "wait_timeout")
    assert excinfo.value.option == "wait_timeout"
    assert str(excinfo.value).startswith("wait_timeout: ")


@pytest.mark.parametrize("value", [0, 0.0, "0", "0s", "0h0m0s", "0.0"])
def test_zero_refused_by_default(value):
    with pytest.raises(DbssConfigError) as excinfo:
        parse_duration(value, "wait_sleep")
    assert "greater than zero" in excinfo.value.rule


@pytest.mark.parametrize("value", [0, 0.0, "0", "0s", "0ms"])
def test_zero_allowed_when_asked(value):
    assert parse_duration(value, "wait_delay", allow_zero=True) == 0.0


def test_negative_refused_even_with_allow_zero():
    with pytest.raises(DbssConfigError) as excinfo:
        parse_duration(-3, "wait_delay", allow_zero=True)
    assert excinfo.value.option == "wait_delay"
    assert "negative" in excinfo.value.rule


def test_message_shows_value_and_forms():
    with pytest.raises(DbssConfigError) as excinfo:
        parse_duration("20M", "wait_timeout")
    assert "'20M'" in str(excinfo.value)
    assert "1h30m" in str(excinfo.value)


def test_long_value_is_shortened_in_message():
    with pytest.raises(DbssConfigError) as excinfo:
        parse_duration("x" * 500, "wait_timeout")
    assert len(str(excinfo.value)) < 250
