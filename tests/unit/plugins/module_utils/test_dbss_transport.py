# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""RequestWatchdog's decisions, driven by hand (no timer is allowed to fire)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket

import requests

from ansible_collections.hwcloud.dbss.plugins.module_utils import dbss_transport
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_transport import RequestWatchdog, WatchedAdapter


class FakeSocket:
    def __init__(self):
        self.shutdowns = []

    def shutdown(self, how):
        self.shutdowns.append(how)


class FakeConnection:
    def __init__(self, sock=None):
        self.sock = sock


def armed(seconds=3600):
    """A watchdog in its 'with' block whose timer will not fire during the test."""
    dog = RequestWatchdog(seconds)
    dog.__enter__()
    return dog


def test_expiry_shuts_down_the_attached_connection():
    dog, sock = armed(), FakeSocket()
    dog.attach(FakeConnection(sock))
    dog._fire()
    dog.__exit__(None, None, None)
    assert dog.fired and sock.shutdowns == [socket.SHUT_RDWR]


def test_a_finished_exchange_is_never_cut():
    dog, sock = armed(), FakeSocket()
    dog.attach(FakeConnection(sock))
    dog.__exit__(None, None, None)
    dog._fire()  # a timer that fired just as the exchange ended
    assert not dog.fired and sock.shutdowns == []


def test_a_connection_reused_by_another_exchange_is_left_alone():
    first, sock = armed(), FakeSocket()
    connection = FakeConnection(sock)
    first.attach(connection)
    second = armed()
    second.attach(connection)  # back in the pool, then taken by another request
    first._fire()
    assert not first.fired and sock.shutdowns == []
    second.__exit__(None, None, None)
    first.__exit__(None, None, None)


def test_a_connection_still_connecting_is_checked_again(monkeypatch):
    monkeypatch.setattr(dbss_transport, "RECHECK_SECONDS", 3600)
    dog, connection = armed(), FakeConnection(sock=None)
    dog.attach(connection)
    dog._fire()
    assert not dog.fired and dog._timer.is_alive()  # re-armed, not given up
    connection.sock = FakeSocket()
    dog._fire()
    dog.__exit__(None, None, None)
    assert dog.fired and connection.sock.shutdowns == [socket.SHUT_RDWR]
    assert dog._timer.finished.is_set()  # the re-armed timer was cancelled too


def test_the_adapter_watches_plain_pools_and_proxies_but_not_socks():
    adapter = WatchedAdapter()
    assert adapter.poolmanager.pool_classes_by_scheme["http"].__name__ == "_WatchedHTTPPool"
    assert adapter.poolmanager.pool_classes_by_scheme["https"].__name__ == "_WatchedHTTPSPool"
    proxy = adapter.proxy_manager_for("http://proxy.example:3128")
    assert proxy.pool_classes_by_scheme["https"].__name__ == "_WatchedHTTPSPool"
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
