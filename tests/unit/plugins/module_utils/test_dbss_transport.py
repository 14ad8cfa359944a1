# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""RequestWatchdog and its scheduler, driven by hand: a recording scheduler
stands in for the thread, and the watchdogs are fired explicitly."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import threading

import requests

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_transport import (
    RECHECK_SECONDS,
    RequestWatchdog,
    WatchdogScheduler,
    WatchedAdapter,
)


class FakeSocket:
    def __init__(self):
        self.shutdowns = []

    def shutdown(self, how):
        self.shutdowns.append(how)


class FakeConnection:
    def __init__(self, sock=None):
        self.sock = sock


class RecordingScheduler:
    def __init__(self):
        self.calls = []

    def schedule(self, seconds, watchdog):
        self.calls.append((seconds, watchdog))


def armed(seconds=30):
    """A watchdog inside its 'with' block, on a scheduler that never fires by itself."""
    scheduler = RecordingScheduler()
    dog = RequestWatchdog(seconds, scheduler=scheduler)
    dog.__enter__()
    return dog, scheduler


def test_entering_arms_the_limit_once():
    dog, scheduler = armed(7)
    dog.__exit__(None, None, None)
    assert scheduler.calls == [(7, dog)]


def test_expiry_shuts_down_the_attached_connection():
    (dog, dummy), sock = armed(), FakeSocket()
    dog.attach(FakeConnection(sock))
    dog.fire()
    dog.__exit__(None, None, None)
    assert dog.fired and sock.shutdowns == [socket.SHUT_RDWR]


def test_a_finished_exchange_is_never_cut():
    (dog, dummy), sock = armed(), FakeSocket()
    dog.attach(FakeConnection(sock))
    dog.__exit__(None, None, None)
    dog.fire()  # its time came after the exchange had ended
    assert not dog.fired and sock.shutdowns == []


def test_a_connection_reused_by_another_exchange_is_left_alone():
    (first, dummy), sock = armed(), FakeSocket()
    connection = FakeConnection(sock)
    first.attach(connection)
    second, dummy = armed()
    second.attach(connection)  # back in the pool, then taken by another request
    first.fire()
    assert not first.fired and sock.shutdowns == []
    second.__exit__(None, None, None)
    first.__exit__(None, None, None)


def test_a_connection_still_connecting_is_checked_again():
    (dog, scheduler), connection = armed(), FakeConnection(sock=None)
    dog.attach(connection)
    dog.fire()
    assert not dog.fired and scheduler.calls[-1] == (RECHECK_SECONDS, dog)  # re-armed, not given up
    connection.sock = FakeSocket()
    dog.fire()
    dog.__exit__(None, None, None)
    assert dog.fired and connection.sock.shutdowns == [socket.SHUT_RDWR]


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Probe:
    def __init__(self, name, fired):
        self.name = name
        self.fired = fired

    def fire(self):
        self.fired.append(self.name)


def test_the_scheduler_fires_what_is_due_in_order_and_nothing_early():
    clock, fired = FakeClock(), []
    scheduler = WatchdogScheduler(clock=clock)
    scheduler._thread = threading.current_thread()  # no thread: the test pops by hand
    scheduler.schedule(5, Probe("late", fired))
    scheduler.schedule(1, Probe("early", fired))
    scheduler.schedule(1, Probe("early-too", fired))
    clock.now += 1
    scheduler._next_due().fire()
    scheduler._next_due().fire()
    assert fired == ["early", "early-too"]
    assert scheduler._heap[0][0] == 105.0  # "late" waits for its time


def test_the_scheduler_thread_cuts_a_stalled_exchange():
    scheduler = WatchdogScheduler()
    sock = FakeSocket()
    with RequestWatchdog(0.01, scheduler=scheduler) as dog:
        dog.attach(FakeConnection(sock))
        done = threading.Event()
        for dummy in range(500):  # the exchange "hangs" until the watchdog acts
            if done.wait(0.01) or sock.shutdowns:
                break
    assert dog.fired and sock.shutdowns == [socket.SHUT_RDWR]


def test_the_adapter_watches_plain_pools_and_proxies():
    adapter = WatchedAdapter()
    assert adapter.poolmanager.pool_classes_by_scheme["http"].__name__ == "_WatchedHTTPPool"
    assert adapter.poolmanager.pool_classes_by_scheme["https"].__name__ == "_WatchedHTTPSPool"
    proxy = adapter.proxy_manager_for("http://proxy.example:3128")
    assert proxy.pool_classes_by_scheme["https"].__name__ == "_WatchedHTTPSPool"
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
