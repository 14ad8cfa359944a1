# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP plumbing: a threading HTTP/1.1 server (optionally TLS) and the request handler."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import socket
import socketserver
import ssl
import struct
import sys
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from . import __version__, control
from .replies import JSON_TYPE, flat_error_body

MAX_BODY = 10 * 1024 * 1024
TLS_HANDSHAKE_TIMEOUT = 10


def _header_value(value):
    """Header values arrive decoded as latin-1; recover UTF-8 text when that is what was sent."""
    try:
        value = value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return value.strip()


class Handler(BaseHTTPRequestHandler):
    """Reads a request, asks the emulator for a Reply, writes it (always with Content-Length)."""

    protocol_version = "HTTP/1.1"
    server_version = "DbssEmulator/" + __version__
    sys_version = ""
    timeout = 120
    _reset = False

    def version_string(self):
        return self.server_version

    def log_request(self, code="-", size="-"):
        """Per-request lines are written by _log, only with --verbose."""

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.server.verbose:
            sys.stderr.write("emulator: %s\n" % (format % args))

    def _log(self, method, path, status):
        if self.server.verbose:
            sys.stderr.write("emulator: %s %s -> %s\n" % (method, path, status))
            sys.stderr.flush()

    def _headers(self):
        out = {}
        for name, value in self.headers.items():
            out.setdefault(name.lower(), _header_value(value))
        return out

    def _read_body(self):
        if self.headers.get("Transfer-Encoding"):
            return None, 411
        raw = self.headers.get("Content-Length") or "0"
        try:
            length = int(raw)
        except ValueError:
            return None, 400
        if length < 0 or length > MAX_BODY:
            return None, 413
        return (self.rfile.read(length) if length else b""), None

    def _dispatch(self):
        request_id = uuid.uuid4().hex
        split = urlsplit(self.path)
        raw_path = split.path or "/"
        body, problem = self._read_body()
        if problem is not None:
            self.close_connection = True
            self._write_json(problem, flat_error_body(problem, "APIGW.0201", "API request error."), request_id)
            return
        emulator = self.server.emulator
        if raw_path == control.PREFIX or raw_path.startswith(control.PREFIX + "/"):
            reply = control.handle(emulator, self.command, raw_path, body)
        else:
            reply = emulator.handle(self.command, raw_path, split.query, self._headers(), body, request_id)
        if reply.action == "reset":
            self._log(self.command, raw_path, "reset")
            self._reset_connection()
            return
        self._log(self.command, raw_path, reply.status)
        self._write(reply.status, reply.body, reply.content_type, reply.headers, request_id)

    def _write(self, status, body, content_type, headers, request_id):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-Id", request_id)
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _write_json(self, status, data, request_id):
        self._write(status, json.dumps(data).encode("utf-8"), JSON_TYPE, [], request_id)

    def _reset_connection(self):
        """Drop the connection with a TCP reset and no answer (SO_LINGER 0, then close)."""
        self.close_connection = True
        self._reset = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass

    def finish(self):
        if not self._reset:
            BaseHTTPRequestHandler.finish(self)
            return
        for stream in (self.wfile, self.rfile):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.connection.close()
        except OSError:
            pass

    def send_error(self, code, message=None, explain=None):
        """Malformed requests also get a JSON body and an X-Request-Id."""
        self.close_connection = True
        body = json.dumps(flat_error_body(code, "APIGW.0201" if code != 501 else "APIGW.0101", message)).encode("utf-8")
        self.send_response(code, message)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-Id", uuid.uuid4().hex)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch


class EmulatorServer(ThreadingHTTPServer):
    """One thread per connection; TLS (when configured) is negotiated in that thread."""

    daemon_threads = True
    request_queue_size = 512
    allow_reuse_address = True

    def __init__(self, address, emulator, ssl_context=None, verbose=False):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.emulator = emulator
        emulator.scheme = "https" if ssl_context else "http"
        self.ssl_context = ssl_context
        self.verbose = verbose
        ThreadingHTTPServer.__init__(self, address, Handler)

    def server_bind(self):
        # Skip HTTPServer's reverse DNS lookup of the host name.
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.server_address[0]
        self.server_port = self.server_address[1]

    @property
    def base_url(self):
        host = self.server_address[0]
        if ":" in host:
            host = "[%s]" % host
        return "%s://%s:%d" % ("https" if self.ssl_context else "http", host, self.server_address[1])

    def finish_request(self, request, client_address):
        if self.ssl_context is None:
            self.RequestHandlerClass(request, client_address, self)
            return
        request.settimeout(TLS_HANDSHAKE_TIMEOUT)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        if self.verbose:
            ThreadingHTTPServer.handle_error(self, request, client_address)


def make_ssl_context(certfile, keyfile=None):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    return context
