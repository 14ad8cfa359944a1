# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A tiny HTTP server on 127.0.0.1 that answers from a script.

Unit tests of the client queue answers (status, headers, body, or a fault
such as a reset connection or a stall) and read back what the client sent.
Real sockets, so timeouts, resets and keep-alive behave as in production.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EXAMPLE_JOB = {
    "resource_id": "2c154fdd-0d43-47b7-9cf1-5236bf6a2ca7",
    "status": "SUCCESS",
    "job_type": None,
    "job_id": "8abf9647852a1daa01852e517e1a1a0b",
    "begin_time": 1671519371000,
    "end_time": 1671519417000,
    "error_code": None,
    "fail_reason": None,
    "charge_mode": "Demand",
    "server_name": "DBSS-qct-1220",
    "server_id": "0aa8f621-bc19-4822-b66d-7ab9ae3c8693",
    "ha_id": None,
    "ha_name": None,
}


class Answer:
    """One scripted answer. Faults: ``reset`` (RST before any byte), ``stall``
    (seconds of silence first), ``trickle`` (seconds between single bytes of
    the whole answer, headers included: a server that never quite times out),
    ``cut_after`` (send this many body bytes of the announced length, then close)."""

    def __init__(self, status=200, body=b"", headers=None, reset=False, stall=0.0, trickle=None, cut_after=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else (json.dumps(body) if not isinstance(body, str) else body).encode()
        self.headers = headers or {}
        self.reset = reset
        self.stall = stall
        self.trickle = trickle
        self.cut_after = cut_after


def jobs(*job_list):
    return Answer(200, {"jobs": list(job_list)}, {"X-Request-Id": "req-ok"})


class ScriptedServer:
    def __init__(self):
        self.answers = []
        self.default = jobs(EXAMPLE_JOB)
        self.requests = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self._answer()

            def do_POST(self):
                self._answer()

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server.lock:
                    server.requests.append({"client": self.client_address, "method": self.command, "path": self.path,
                                            "headers": dict(self.headers), "body": body})
                    answer = server.answers.pop(0) if server.answers else server.default
                if answer.stall:
                    time.sleep(answer.stall)
                if answer.reset:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                if answer.trickle is not None:
                    self._trickle(answer)
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if answer.cut_after is not None:
                    self.wfile.write(answer.body[:answer.cut_after])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(answer.body)

            def _trickle(self, answer):
                head = "HTTP/1.1 %d OK\r\nContent-Length: %d\r\n\r\n" % (answer.status, len(answer.body))
                try:
                    for byte in head.encode() + answer.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(answer.trickle)
                except OSError:  # the client gave up and closed: what the test wants
                    pass
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def queue(self, *answers):
        with self.lock:
            self.answers.extend(answers)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
