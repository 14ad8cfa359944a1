# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A total time limit for one HTTP exchange.

requests' ``timeout`` bounds each socket operation, not the exchange: a server
(or a broken middlebox) that sends one byte every few seconds keeps a request
alive for ever, and with it a wait that should have ended at its deadline.

``RequestWatchdog`` closes that gap. It is armed around one ``session.request``
call; the connection that call uses registers itself with it (through the
connection classes of ``WatchedAdapter``), and when the limit passes the
watchdog shuts that connection's socket down. The blocked read then fails at
once, and the client reports a timeout. A connection reused later by another
request is registered to that request's watchdog, so a late timer never cuts
someone else's exchange.

Only the plain HTTP and HTTPS pools are watched; through a SOCKS proxy the
per-operation timeout still applies.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import heapq
import itertools
import socket
import threading
import time

try:
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    HAS_URLLIB3 = True
except ImportError:  # pragma: no cover - the client reports the missing requests library
    HTTPAdapter = object
    HAS_URLLIB3 = False

_active = threading.local()

# How often an expired watchdog looks again for a socket that is still connecting.
RECHECK_SECONDS = 0.05


class WatchdogScheduler:
    """One daemon thread that fires the watchdogs whose time is up.

    A timer thread per request would cost more CPU than the request itself; here
    arming is a heap push, and a finished exchange just marks its watchdog done
    (the thread drops it when its time comes). The thread starts on first use,
    and again in a forked child, where the parent's thread does not exist."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._cond = threading.Condition()
        self._heap = []
        self._order = itertools.count()  # ties: first armed, first fired
        self._thread = None

    def schedule(self, seconds, watchdog):
        with self._cond:
            heapq.heappush(self._heap, (self.clock() + seconds, next(self._order), watchdog))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="dbss-request-watchdog")
                self._thread.daemon = True
                self._thread.start()
            elif self._heap[0][2] is watchdog:
                self._cond.notify()  # earlier than what the thread sleeps towards

    def _next_due(self):
        """Block until a watchdog is due; pop and return it."""
        with self._cond:
            while True:
                if not self._heap:
                    self._cond.wait()
                    continue
                due, _order, watchdog = self._heap[0]
                left = due - self.clock()
                if left > 0:
                    self._cond.wait(left)
                    continue
                heapq.heappop(self._heap)
                return watchdog

    def _run(self):
        while True:
            self._next_due().fire()


SCHEDULER = WatchdogScheduler()


class RequestWatchdog:
    """Arms a time limit for one exchange (``with RequestWatchdog(seconds) as dog:``);
    ``dog.fired`` says afterwards whether it had to cut the connection."""

    def __init__(self, seconds, scheduler=None):
        self.seconds = seconds
        self.fired = False
        self.scheduler = scheduler or SCHEDULER
        self._lock = threading.Lock()
        self._connection = None
        self._done = False

    def __enter__(self):
        _active.watchdog = self
        self.scheduler.schedule(self.seconds, self)
        return self

    def __exit__(self, *exc_info):
        with self._lock:
            self._done = True
        _active.watchdog = None
        return False

    def attach(self, connection):
        with self._lock:
            self._connection = connection
            connection.dbss_watchdog = self

    def fire(self):
        """The time is up: cut the exchange's connection, if it is still this one's."""
        with self._lock:
            connection = self._connection
            if self._done or (connection is not None and getattr(connection, "dbss_watchdog", None) is not self):
                return
            sock = getattr(connection, "sock", None) if connection is not None else None
            if sock is None:
                # Still resolving or connecting (bounded by the connect timeout):
                # look again shortly, so a slow connect cannot buy a slow read.
                self.scheduler.schedule(RECHECK_SECONDS, self)
                return
            self.fired = True
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _register(connection):
    watchdog = getattr(_active, "watchdog", None)
    if watchdog is not None:
        watchdog.attach(connection)


def _watched(connection_class):
    """A subclass of one of urllib3's connection classes whose every request
    registers the connection with the calling thread's watchdog."""

    class Watched(connection_class):
        def request(self, *args, **kwargs):  # pylint: disable=arguments-differ
            _register(self)
            return connection_class.request(self, *args, **kwargs)

        def request_chunked(self, *args, **kwargs):  # urllib3 1.x only
            _register(self)
            return connection_class.request_chunked(self, *args, **kwargs)

    Watched.__name__ = "Watched" + connection_class.__name__
    return Watched


if HAS_URLLIB3:
    _WatchedHTTPConnection = _watched(HTTPConnection)
    _WatchedHTTPSConnection = _watched(HTTPSConnection)

    class _WatchedHTTPPool(HTTPConnectionPool):
        ConnectionCls = _WatchedHTTPConnection

    class _WatchedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = _WatchedHTTPSConnection

    _PLAIN_POOLS = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}
    _WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def _watch(manager):
    """Swap a pool manager's plain pools for watched ones (SOCKS managers keep theirs)."""
    if dict(manager.pool_classes_by_scheme) == _PLAIN_POOLS:
        manager.pool_classes_by_scheme = dict(_WATCHED_POOLS)
    return manager


class WatchedAdapter(HTTPAdapter):
    """requests' HTTPAdapter whose connections register with the RequestWatchdog
    armed by the calling thread."""

    def init_poolmanager(self, *args, **kwargs):
        super(WatchedAdapter, self).init_poolmanager(*args, **kwargs)
        _watch(self.poolmanager)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        return _watch(super(WatchedAdapter, self).proxy_manager_for(proxy, **proxy_kwargs))
