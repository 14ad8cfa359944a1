# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one fake clock of the unit tests: ``clock()`` reads it, ``clock.sleep(s)``
advances it, so waits, backoffs and rate limits run in microseconds."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

START = 1000.0


class FakeClock:
    def __init__(self, start=START):
        self.now = start
        self.sleeps = []
        self._lock = threading.Lock()

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0, "negative sleep %r" % seconds
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def advance(self, seconds):
        self.now += seconds
