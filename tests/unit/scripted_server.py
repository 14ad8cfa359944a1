# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A tiny HTTP(S) server on 127.0.0.1 that answers from a script.

Unit tests queue answers (status, headers, body, or a fault such as a reset
connection, a stall, a trickle or an endless chunked body) and read back what
the client sent. Real sockets, so timeouts, resets, keep-alive, proxies and TLS
behave as in production.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import select
import socket
import ssl
import struct
import threading
import time
import zlib
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
    ``cut_after`` (send this many body bytes of the announced length, then
    close), ``chunks`` (an iterable of bytes sent with chunked encoding, endless
    if it likes), ``close`` (no length: the body ends when the connection
    closes); ``pause``: seconds before each chunk, or between head and body."""

    def __init__(self, status=200, body=b"", headers=None, reset=False, stall=0.0, trickle=None, cut_after=None,
                 chunks=None, pause=0.0, close=False):
        self.status = status
        self.body = body if isinstance(body, bytes) else (json.dumps(body) if not isinstance(body, str) else body).encode()
        self.headers = headers or {}
        self.reset = reset
        self.stall = stall
        self.trickle = trickle
        self.cut_after = cut_after
        self.chunks = chunks
        self.pause = pause
        self.close = close


def jobs(*job_list):
    return Answer(200, {"jobs": list(job_list)}, {"X-Request-Id": "req-ok"})


def gzip_bomb(gib=1):
    """A valid gzip body of ``gib`` GiB of zeros, about 1 MB per GiB. Built from
    one fully flushed deflate block repeated, so it takes no time to make."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    mib = b"\0" * (1 << 20)
    block = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _count in range(gib << 10):
        crc = zlib.crc32(mib, crc)
    trailer = struct.pack("<II", crc, (gib << 30) & 0xFFFFFFFF)
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + block * (gib << 10) + compressor.flush() + trailer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    scripted = None  # the ScriptedServer, set on a subclass per server

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._answer()

    do_POST = do_PUT = do_DELETE = do_GET

    def do_CONNECT(self):
        """An HTTPS proxy: record the tunnel asked for, then relay bytes both ways."""
        host, _sep, port = self.path.rpartition(":")
        with self.scripted.lock:
            self.scripted.requests.append({"client": self.client_address, "method": "CONNECT", "path": self.path,
                                           "headers": dict(self.headers), "body": b""})
        upstream = socket.create_connection(("127.0.0.1" if host == "localhost" else host, int(port)), timeout=10)
        self.send_response(200, "Connection established")
        self.end_headers()
        sockets = [self.connection, upstream]
        while True:
            ready, _writable, _failed = select.select(sockets, [], [], 10)
            data = ready[0].recv(65536) if ready else b""
            if not data:
                break
            (upstream if ready[0] is self.connection else self.connection).sendall(data)
        upstream.close()
        self.close_connection = True

    def _answer(self):
        server = self.scripted
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
        try:
            if answer.trickle is not None:
                self._trickle(answer)
            elif answer.chunks is not None:
                self._chunked(answer)
            else:
                self._plain(answer)
        except OSError:  # the client gave up and closed: what the test wants
            self.close_connection = True

    def _head(self, answer, **extra):
        self.send_response(answer.status)
        for name, value in dict(answer.headers, **extra).items():
            self.send_header(name, value)
        self.end_headers()

    def _plain(self, answer):
        self._head(answer, **({"Connection": "close"} if answer.close else {"Content-Length": str(len(answer.body))}))
        time.sleep(answer.pause)
        if answer.close or answer.cut_after is not None:
            self.wfile.write(answer.body[:answer.cut_after])
            self.close_connection = True
        else:
            self.wfile.write(answer.body)

    def _chunked(self, answer):
        self._head(answer, **{"Transfer-Encoding": "chunked"})
        for chunk in answer.chunks:
            time.sleep(answer.pause)
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _trickle(self, answer):
        head = "HTTP/1.1 %d OK\r\nContent-Length: %d\r\n\r\n" % (answer.status, len(answer.body))
        for byte in head.encode() + answer.body:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(answer.trickle)
        self.close_connection = True


class ScriptedServer:
    """``tls=(certfile, keyfile)`` serves HTTPS (see ``make_certificates``)."""

    def __init__(self, tls=None):
        self.answers = []
        self.default = jobs(EXAMPLE_JOB)
        self.requests = []
        self.lock = threading.Lock()
        self.scheme = "https" if tls else "http"
        self.sni = []  # the server names TLS clients asked for
        handler = type("ScriptedHandler", (Handler,), {"scripted": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            context.sni_callback = lambda sock, name, ctx: self.sni.append(name)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.httpd.server_address[1]

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.port)

    def queue(self, *answers):
        with self.lock:
            self.answers.extend(answers)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def make_certificates(folder, names=("localhost",)):
    """A CA and a server certificate for ``names`` (DNS names) signed by it, as
    PEM files in ``folder``; returns (ca_file, cert_file, key_file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def certificate(subject, issuer, key, signing_key, ca, alt_names=()):
        now = datetime.datetime.now(datetime.timezone.utc)
        # Python 3.13 verifies strictly: key identifiers and key usage are required.
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
                                  critical=False)
                   .add_extension(x509.KeyUsage(digital_signature=not ca, key_cert_sign=ca, crl_sign=ca,
                                                content_commitment=False, key_encipherment=False,
                                                data_encipherment=False, key_agreement=False,
                                                encipher_only=False, decipher_only=False), critical=True))
        if alt_names:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in alt_names]), False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"hwcloud.dbss test CA")])
    ca = certificate(ca_name, ca_name, ca_key, ca_key, True)
    leaf = certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]), ca_name, key, ca_key, False, names)
    paths = [str(folder / name) for name in ("ca.pem", "cert.pem", "key.pem")]
    pem = serialization.Encoding.PEM
    for path, data in zip(paths, (ca.public_bytes(pem), leaf.public_bytes(pem), key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))):
        with open(path, "wb") as handle:
            handle.write(data)
    return tuple(paths)
