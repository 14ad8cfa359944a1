# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_options import COMMON_ARGUMENT_SPEC


def fallback_variables():
    """Every environment variable an option falls back to (HW_PROJECT_ID, OS_AUTH_TOKEN, ...)."""
    names = set()
    for spec in COMMON_ARGUMENT_SPEC.values():
        if "fallback" in spec:
            names.update(spec["fallback"][1])
    return sorted(names)


@pytest.fixture
def clean_env(monkeypatch):
    """No HW_* variable of the developer's shell leaks into a test's options."""
    for name in fallback_variables():
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock():
    """A fresh FakeClock (tests/unit/fakes.py)."""
    from ansible_collections.hwcloud.dbss.tests.unit.fakes import FakeClock
    return FakeClock()
