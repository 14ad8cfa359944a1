# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for system tests: start the emulator as a subprocess on a free port.

``start_emulator(*extra_args)`` starts one (``--port 0 --port-file``), waits until it
answers, and returns an ``EmulatorProcess`` with ``.url``, ``.port`` and ``.process``;
every emulator started through the factory is stopped when the test ends.
``emulator`` is a shared one with the demo credentials, reset before each test;
``emulator_url`` its base URL.  ``EMULATOR_PYTHON=/path/to/python`` runs the emulator
on another interpreter (it supports Python 3.8+).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import http.client
import json
import os
import ssl
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START_TIMEOUT = 15.0
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)  # lets tests import the emulator package for white-box checks


class EmulatorProcess:
    """A running emulator: base URL, port, process, and helpers for the control API."""

    def __init__(self, process, url, port):
        self.process = process
        self.url = url
        self.port = port
        self.control_context = None
        if url.startswith("https:"):
            # The control API is only reached on 127.0.0.1; tests check certificates themselves.
            self.control_context = ssl.create_default_context()
            self.control_context.check_hostname = False
            self.control_context.verify_mode = ssl.CERT_NONE

    def call(self, method, path, headers=None, body=None, timeout=10, context=None):
        """An API request on a fresh connection: (status, headers lower-cased, body bytes)."""
        return request(self.url, method, path, headers=headers, body=body, timeout=timeout, context=context)

    def get_json(self, path, headers=None, timeout=10):
        """GET; return (status, headers, decoded JSON or None)."""
        status, hdrs, raw = self.call("GET", path, headers=headers, timeout=timeout)
        return status, hdrs, (json.loads(raw.decode("utf-8")) if raw else None)

    def control(self, method, path, body=None, timeout=10):
        """Call the control API; return (status, decoded JSON)."""
        status, _headers, raw = request(self.url, method, "/_emulator" + path, body=body, timeout=timeout,
                                        context=self.control_context)
        return status, (json.loads(raw.decode("utf-8")) if raw else None)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()


def request(url, method, path, headers=None, body=None, timeout=10, context=None):
    """One request on a fresh connection; return (status, headers dict lower-cased, body bytes)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode("utf-8")
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), data
    finally:
        conn.close()


def _wait_ready(proc, port_file, deadline):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("emulator exited early with code %s: %s" % (proc.returncode, proc.stderr.read().decode()))
        if os.path.exists(port_file):
            text = open(port_file).read().strip()
            if text:
                return int(text)
        time.sleep(0.02)
    raise RuntimeError("emulator did not write its port file in time")


def launch(args, port_file, python=None):
    """Start ``python -m emulator ARGS --port 0 --port-file PORT_FILE`` and wait until it answers."""
    env = dict(os.environ)
    env["PYTHONPATH"] = TESTS_DIR + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [python or os.environ.get("EMULATOR_PYTHON") or sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", "0", "--port-file", port_file]
    proc = subprocess.Popen(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        port = _wait_ready(proc, port_file, deadline)
        first_line = proc.stdout.readline().decode("utf-8").strip()
    except Exception:
        proc.kill()
        proc.wait(timeout=10)
        raise
    emu = EmulatorProcess(proc, first_line, port)
    while time.monotonic() < deadline:
        try:
            status, _body = emu.control("GET", "/health", timeout=2)
            if status == 200:
                return emu
        except OSError:
            time.sleep(0.05)
    emu.stop()
    raise RuntimeError("emulator did not answer in time")


@pytest.fixture
def start_emulator(tmp_path):
    """Factory: ``start_emulator("--example", python="/usr/bin/python3.8")`` -> EmulatorProcess.

    Each call starts a new emulator; all are stopped when the test ends.
    """
    started = []

    def start(*extra_args, **kwargs):
        emu = launch(extra_args, str(tmp_path / ("emulator-%d.port" % len(started))), kwargs.get("python"))
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.fixture(scope="session")
def shared_emulator(tmp_path_factory):
    """One emulator with the demo credentials for the whole session (do not stop it)."""
    emu = launch([], str(tmp_path_factory.mktemp("emulator") / "shared.port"))
    yield emu
    emu.stop()


@pytest.fixture
def emulator(shared_emulator):
    """The shared demo emulator, reset (jobs, faults, tokens, log, counters) before the test."""
    status, _body = shared_emulator.control("POST", "/reset")
    assert status == 200
    return shared_emulator


@pytest.fixture
def emulator_url(emulator):
    return emulator.url
