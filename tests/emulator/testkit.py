# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the emulator's own tests (not used by the server).

``Direct`` drives an in-process Emulator with an injected clock (no socket, no sleep);
the other helpers build requests and check answers for the system tests.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re
import time

from . import control, signing
from .__main__ import parse_args
from .app import Emulator
from .config import Config

PID = "0123456789abcdef0123456789abcdef"
OTHER_PID = "fedcba9876543210fedcba9876543210"
TOKEN = {"X-Auth-Token": "demo-token"}
DEMO_AK, DEMO_SK = "DEMOACCESSKEY", "demo-secret-key"
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
ERROR_KEYS = {"error_code", "error_msg", "details", "encoded_authorization_message"}
HOST = "emulator.test:8443"


def jobs_path(resource_id, project_id=PID):
    return "/v1/%s/audit/%s/jobs" % (project_id, resource_id)


def legacy_path(resource_id, project_id=PID):
    return "/v1/%s/dbss/audit/jobs/%s" % (project_id, resource_id)


def login_body(user="demo-user", password="demo-password", domain="demo-domain", project=None):
    return {"auth": {
        "identity": {"methods": ["password"],
                     "password": {"user": {"name": user, "password": password, "domain": {"name": domain}}}},
        "scope": {"project": project or {"id": PID}},
    }}


def create(emu, **spec):
    status, job = emu.control("POST", "/jobs", spec)
    assert status == 201, job
    return job


def fault(emu, **spec):
    status, answer = emu.control("POST", "/faults", spec)
    assert status == 201, answer
    return answer


def sign_headers(host, path, ak=DEMO_AK, sk=DEMO_SK, now=None, extra=None, query=""):
    """Headers of a GET signed the way Huawei's SDK signs it."""
    headers = {"Host": host, "Content-Type": "application/json", "X-Project-Id": PID}
    headers.update(extra or {})
    return signing.sign("GET", path, query, headers, b"", ak, sk, now=now)


def assert_flat_error(status, headers, raw, expected_status, code=None):
    assert status == expected_status
    assert REQUEST_ID.match(headers["x-request-id"])
    body = json.loads(raw.decode("utf-8"))
    assert set(body) == ERROR_KEYS
    assert isinstance(body["details"], list)
    if code:
        assert body["error_code"] == code
    return body


class Direct:
    """An Emulator in this process, built from command-line arguments, with a fake clock.

    ``call`` and ``control`` answer (status, lower-case headers dict, decoded JSON body or raw
    bytes when not JSON) and (status, JSON body).
    """

    def __init__(self, clock, *argv):
        self.clock = clock
        self.emulator = Emulator(Config.from_args(parse_args(list(argv))), clock=clock,
                                 sleep=getattr(clock, "sleep", time.sleep))

    def call(self, method, path, headers=None, body=None):
        raw_path, _sep, query = path.partition("?")
        lowered = dict((name.lower(), str(value).strip()) for name, value in (headers or {}).items())
        lowered.setdefault("host", HOST)
        data = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode("utf-8"))
        reply = self.emulator.handle(method, raw_path, query, lowered, data, "0" * 32)
        out_headers = dict((name.lower(), value) for name, value in reply.headers)
        try:
            decoded = json.loads(reply.body.decode("utf-8"))
        except ValueError:
            decoded = reply.body
        return reply.status, out_headers, decoded

    def get(self, path, headers=None):
        return self.call("GET", path, TOKEN if headers is None else headers)

    def signed(self, path, ak=DEMO_AK, sk=DEMO_SK, query=""):
        headers = sign_headers(HOST, path, ak, sk, now=self.clock(), query=query)
        return self.call("GET", path + ("?" + query if query else ""), headers)

    def control(self, method, path, body=None):
        data = b"" if body is None else json.dumps(body).encode("utf-8")
        reply = control.handle(self.emulator, method, control.PREFIX + path, data)
        return reply.status, json.loads(reply.body.decode("utf-8"))

    def log(self):
        return self.control("GET", "/requests")[1]["requests"]
