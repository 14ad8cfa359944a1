# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A DBSS server that plays the attacker (stdlib only, 127.0.0.1, port 0).

``HostileServer()`` starts it in a daemon thread; ``.url`` is its base URL and
``.close()`` stops it. Nothing is configured through a control API: the
resource ID asked about picks the answer, so a test (or ``ansible-playbook``
in another process) needs nothing but the URL. A resource ID reads
``MODE.TAG`` or ``MODE.TAG.N``; ``TAG`` keeps the request counts of two tests
apart, ``N`` numbers the resources of one run.

``GET /v1/{project}/audit/{MODE.TAG[.N]}/jobs``, by MODE:

========================  ======================================================================
MODE                      Answer
========================  ======================================================================
ok / running              200, one SUCCESS / RUNNING job of the resource
ok-close                  200, one SUCCESS job, ``Connection: close`` (a gateway that never
                          keeps a connection alive), the body 50 ms after the headers;
                          ok-close-nolength: the same without ``Content-Length``
gzip-bomb                 200, ``Content-Encoding: gzip``, a 1 MB body (``Content-Length``)
                          that inflates to 1 GiB of valid JSON (one job, a huge ``fail_reason``)
deflate-bomb              the same in ``Content-Encoding: deflate`` (zlib)
gzip-bomb-chunked         the gzip bomb sent chunked, without ``Content-Length``
endless-chunked           200, chunked, a JSON prefix then 64 KiB chunks for ever (until the
                          client hangs up, or ENDLESS_LIMIT bytes / seconds)
big-length                200, BIG_BODY bytes of valid JSON with ``Content-Length``
big-close                 the same without ``Content-Length``, ended by closing the connection
unknown-encoding          200, valid JSON labelled ``Content-Encoding: x-hostile``
deep-nest                 200, ``{"jobs": [[[[...]]]]}`` nested NEST_DEPTH deep
deep-error                500, an error body nested NEST_DEPTH deep
many-values / many-details  200, ``{"jobs": [{}, {}, ...]}`` / 500, ``details`` of ``{}``: under 4 MiB,
                          but over a million JSON values (gigabytes once parsed)
huge-int / huge-float     200, a job whose ``begin_time`` is an integer / a decimal of
                          HUGE_DIGITS digits
trickle-body              200 with ``Content-Length``; the body one byte per second
trickle-headers           the status line and headers one byte per second
jobs-null / jobs-missing  200, ``{"jobs": null}`` / ``{}``
other-resource            200, a SUCCESS job whose ``resource_id`` names another resource
dup-job                   200, two jobs with job_id ``dup``: SUCCESS and FAIL, same begin_time
retry-after               429 ``APIGW.0308`` with ``Retry-After: 1000000000``
retry-after-date          429 ``APIGW.0308`` with ``Retry-After`` in the year 9999
deny401                   401 ``APIGW.0307`` (a token that renewing cannot cure)
deny401-aksk              401 ``APIGW.0301`` (a bad AK/SK signature)
deny403                   403 ``APIGW.0302``
echo-PLACE-FORM           the request's credentials put back in FORM (raw, json, url, or all:
                          each form in turn) at PLACE:
                          deny: 403 with them in error_msg, details (error_code and error_msg),
                          encoded_authorization_message and X-Request-Id;
                          busy: the same as a 503 (retried: progress lines, timeout messages);
                          job: 200, a RUNNING job with them as fail_reason, server_name, an
                          extra key and its value;
                          fail: 200, a FAIL job with them as job_id, error_code, fail_reason;
                          status: 200, a job whose status is them
========================  ======================================================================

The credentials a request carries: the ``X-Auth-Token`` value, the
``X-Security-Token`` value and the AK of ``Authorization``.

``POST /v3/auth/tokens`` (IAM password login), by ``user_name``:
``issue-N`` or ``issue-N-TAG`` answers 201 with an ``X-Subject-Token`` of N characters,
``issued_token(N)`` (8 to 16,000); ``echo-FORM`` answers 401 with the
password of the login body put back in FORM (message, title, X-Request-Id);
anything else answers 401.

``requests_for(prefix)`` and ``logins_for(user_name)`` count what arrived;
``schemes_for`` lists the ``Authorization`` schemes it came with. The server
also answers requests sent to it as an HTTP proxy (``GET http://host/...``)
as if it were that host.
``write_playbook`` and ``playbook_env`` write and set up an ansible-playbook
run whose ``hostile_remote`` connection is ``local`` under another name (so
dbss_audit_jobs_info runs its module); ``run_watched`` runs it, stops it past a
memory bound and reports its peak resident memory.
Secrets for tests come from ``make_secret(length, salt)``: blocks of eight
letters and digits, each followed by one character that JSON-escaping or
URL-encoding changes, so each form of a secret differs while every form keeps
runs of eight of its characters.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import random
import re
import signal
import subprocess
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit

MiB = 1 << 20
GiB = 1 << 30
BOMB_SIZE = GiB                 # what the gzip / deflate bombs inflate to
BIG_BODY = 256 * MiB            # big-length / big-close
MANY_VALUES = 1300000           # many-values / many-details: 3.9 MB of "{},"
ENDLESS_LIMIT = (16 * GiB, 120.0)  # endless-chunked stops here even if the client keeps reading
NEST_DEPTH = 200000
HUGE_DIGITS = 100000
TRICKLE_LIMIT = 90              # bytes (seconds) a trickle sends at most
CHUNK = 64 * 1024
PROJECT_ID = "0123456789abcdef0123456789abcdef"

SECRET_LENGTHS = (8, 64, 1204, 4096, 16000)
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# Each changes under JSON escaping, URL encoding or both; all are legal in a header value.
_SPECIAL = '+/="\\%&<~'
_SPECIAL_PASSWORD = _SPECIAL + " \u00e9"

FORMS = {
    "raw": lambda text: text,
    "json": lambda text: json.dumps(text)[1:-1],
    "url": lambda text: quote(text, safe=""),
}


def make_secret(length, salt):
    """A deterministic secret of ``length`` characters (see the module docstring)."""
    rng = random.Random("%s-%d" % (salt, length))
    special = _SPECIAL_PASSWORD if salt.startswith("pw") else _SPECIAL
    out = []
    while len(out) < length:
        out.extend(rng.choice(_ALNUM) for _index in range(8))
        out.append(rng.choice(special))
    return "".join(out[:length])


def issued_token(length):
    """The token ``POST /v3/auth/tokens`` issues to user ``issue-LENGTH``."""
    return make_secret(length, "issued")


def echo_text(values, form):
    """``values`` put back in ``form`` (``all``: raw, json and url in turn)."""
    forms = ("raw", "json", "url") if form == "all" else (form,)
    return " | ".join("%s: %s" % (name, FORMS[name](value)) for value in values for name in forms)


def _header_text(values, form):
    """A header-safe echo: the form itself when it is latin-1 without line breaks, else URL-encoded."""
    text = echo_text(values, "url" if form == "all" else form)
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        text = echo_text(values, "url")
    return text.replace("\r", " ").replace("\n", " ")


# ---------------------------------------------------------------------------
# the bombs: built once, streamed, never held inflated
# ---------------------------------------------------------------------------

_BOMB_PREFIX = b'{"jobs": [{"job_id": "bomb", "status": "RUNNING", "fail_reason": "'
_BOMB_SUFFIX = b'"}]}'
_bombs = {}
_bombs_lock = threading.Lock()


def _bomb_pieces(size):
    yield _BOMB_PREFIX
    left = size - len(_BOMB_PREFIX) - len(_BOMB_SUFFIX)
    block = b"x" * MiB
    while left > 0:
        piece = block if left >= len(block) else block[:left]
        left -= len(piece)
        yield piece
    yield _BOMB_SUFFIX


def bomb(kind, size=BOMB_SIZE):
    """The compressed bomb, ``gzip`` or ``deflate`` (zlib): one raw deflate
    stream, compressed once per process, framed twice."""
    with _bombs_lock:
        if (kind, size) in _bombs:
            return _bombs[(kind, size)]
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        raw, crc, adler = [], 0, 1
        for piece in _bomb_pieces(size):
            raw.append(compressor.compress(piece))
            crc = zlib.crc32(piece, crc)
            adler = zlib.adler32(piece, adler)
        raw.append(compressor.flush())
        stream = b"".join(raw)
        gzip_body = (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + stream
                     + (crc & 0xffffffff).to_bytes(4, "little") + (size & 0xffffffff).to_bytes(4, "little"))
        zlib_body = b"\x78\xda" + stream + (adler & 0xffffffff).to_bytes(4, "big")
        _bombs[("gzip", size)] = gzip_body
        _bombs[("deflate", size)] = zlib_body
        return _bombs[(kind, size)]


# ---------------------------------------------------------------------------
# the server
# ---------------------------------------------------------------------------

class _Gone(Exception):
    """The client hung up (or the server is closing): stop sending."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # a client that stops reading without hanging up frees the thread by then

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass

    # -- plumbing --------------------------------------------------------------

    def _write(self, data):
        if self.server.hostile.closing.is_set():
            raise _Gone()
        try:
            self.wfile.write(data)
        except (OSError, ValueError):
            raise _Gone()

    def _start(self, status, headers=(), length=None, close=False):
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        for name, value in headers:
            self.send_header(name, value)
        if length is not None:
            self.send_header("Content-Length", str(length))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        if not any(name.lower() == "x-request-id" for name, _v in headers):
            self.send_header("X-Request-Id", "%032x" % random.getrandbits(128))
        try:
            self.end_headers()
        except (OSError, ValueError):
            raise _Gone()

    def _json(self, status, data, headers=()):
        body = json.dumps(data).encode("utf-8") if not isinstance(data, bytes) else data
        self._start(status, headers, length=len(body))
        self._write(body)

    def _chunk(self, data):
        self._write(b"%x\r\n%s\r\n" % (len(data), data))

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, 4 * MiB)) if length > 0 else b""

    # -- dispatch --------------------------------------------------------------

    def do_GET(self):  # pylint: disable=invalid-name
        self._dispatch("GET")

    def do_POST(self):  # pylint: disable=invalid-name
        self._dispatch("POST")

    def _dispatch(self, method):
        path = urlsplit(self.path).path
        try:
            if method == "POST" and path.rstrip("/").endswith("/auth/tokens"):
                self._iam(self._body())
                return
            match = re.match(r"^/v1/[^/]+/audit/([^/]+)/jobs$", path)
            if method != "GET" or not match:
                self.server.hostile.record("other", path, self.headers)
                self._json(404, {"error_code": "APIGW.0101", "error_msg": "The API does not exist."})
                return
            rid = unquote(match.group(1))
            self.server.hostile.record("api", rid, self.headers)
            self._answer(rid)
        except _Gone:
            self.close_connection = True

    # -- IAM -------------------------------------------------------------------

    def _iam(self, raw):
        try:
            user = json.loads(raw.decode("utf-8"))["auth"]["identity"]["password"]["user"]
            name, password = user["name"], user["password"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            name, password = None, None
        self.server.hostile.record("iam", str(name), self.headers)
        name = str(name)
        issue = re.match(r"^issue-(\d+)(?:-.*)?$", name)
        if issue:
            now = time.time()
            expires = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(now + 86400))
            issued = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(now))
            self._json(201, {"token": {"expires_at": expires, "issued_at": issued, "methods": ["password"],
                                       "project": {"id": PROJECT_ID, "name": "hostile"}}},
                       headers=[("X-Subject-Token", issued_token(int(issue.group(1))))])
        elif name.startswith("echo-") and password is not None:
            form = name[5:]
            text = echo_text([password], form)
            self._json(401, {"error": {"code": 401, "message": "The password %s is wrong." % text,
                                       "title": "Unauthorized %s" % text}},
                       headers=[("X-Request-Id", _header_text([password], form))])
        else:
            self._json(401, {"error": {"code": 401, "message": "The username or password is wrong.",
                                       "title": "Unauthorized"}})

    # -- DBSS --------------------------------------------------------------------

    def _credentials(self):
        found = []
        for name in ("X-Auth-Token", "X-Security-Token"):
            if self.headers.get(name):
                found.append(self.headers.get(name))
        access = re.search(r"Access=([^,\s]+)", self.headers.get("Authorization") or "")
        if access:
            found.append(access.group(1))
        return found or ["(no credential)"]

    def _answer(self, rid):
        mode = rid.split(".", 1)[0]
        job = {"job_id": "job-" + rid, "status": "RUNNING", "resource_id": rid, "begin_time": 1717200000000}
        if mode in ("ok", "running"):
            self._json(200, {"jobs": [dict(job, status="SUCCESS" if mode == "ok" else "RUNNING")]})
        elif mode in ("ok-close", "ok-close-nolength"):
            body = json.dumps({"jobs": [dict(job, status="SUCCESS")]}).encode("utf-8")
            self._start(200, length=len(body) if mode == "ok-close" else None, close=True)
            time.sleep(0.05)  # the body in a segment of its own, as a gateway may send it
            self._write(body)
        elif mode in ("gzip-bomb", "deflate-bomb"):
            kind = mode.split("-")[0]
            body = bomb(kind)
            self._start(200, [("Content-Encoding", kind)], length=len(body))
            for start in range(0, len(body), CHUNK):
                self._write(body[start:start + CHUNK])
        elif mode == "gzip-bomb-chunked":
            body = bomb("gzip")
            self._start(200, [("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")])
            for start in range(0, len(body), CHUNK):
                self._chunk(body[start:start + CHUNK])
            self._write(b"0\r\n\r\n")
        elif mode == "endless-chunked":
            self._start(200, [("Transfer-Encoding", "chunked")])
            self._chunk(_BOMB_PREFIX)
            block, sent, end = b"x" * CHUNK, 0, time.monotonic() + ENDLESS_LIMIT[1]
            while sent < ENDLESS_LIMIT[0] and time.monotonic() < end:
                self._chunk(block)
                sent += len(block)
            self._write(b"0\r\n\r\n")
        elif mode in ("big-length", "big-close"):
            with_length = mode == "big-length"
            self._start(200, length=BIG_BODY if with_length else None, close=not with_length)
            for piece in _bomb_pieces(BIG_BODY):
                self._write(piece)
        elif mode == "unknown-encoding":
            self._json(200, {"jobs": [job]}, headers=[("Content-Encoding", "x-hostile")])
        elif mode == "deep-nest":
            self._json(200, b'{"jobs": ' + b"[" * NEST_DEPTH + b"]" * NEST_DEPTH + b"}")
        elif mode in ("many-values", "many-details"):
            items = b",".join([b"{}"] * MANY_VALUES)
            self._json(*((200, b'{"jobs": [' + items + b"]}") if mode == "many-values" else
                         (500, b'{"error_code": "DBSS.11000000", "details": [' + items + b"]}")))
        elif mode == "deep-error":
            self._json(500, b'{"error_code": "DBSS.11000000", "details": ' + b"[" * NEST_DEPTH + b"]" * NEST_DEPTH + b"}")
        elif mode in ("huge-int", "huge-float"):
            digits = b"9" * HUGE_DIGITS if mode == "huge-int" else b"9" * (HUGE_DIGITS - 2) + b".5"
            body = json.dumps({"jobs": [dict(job, begin_time=0)]}).encode("utf-8")
            self._json(200, body.replace(b'"begin_time": 0', b'"begin_time": ' + digits))
        elif mode == "trickle-body":
            body = json.dumps({"jobs": [job]}).encode("utf-8")
            self._start(200, length=len(body))
            self._trickle(body)
        elif mode == "trickle-headers":
            self._trickle(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"jobs\": []}")
            self.close_connection = True
        elif mode == "jobs-null":
            self._json(200, {"jobs": None, "total": 0})
        elif mode == "jobs-missing":
            self._json(200, {})
        elif mode == "other-resource":
            self._json(200, {"jobs": [dict(job, status="SUCCESS", resource_id="someone-else-entirely")]})
        elif mode == "dup-job":
            self._json(200, {"jobs": [dict(job, job_id="dup", status="SUCCESS"), dict(job, job_id="dup", status="FAIL")]})
        elif mode == "retry-after":
            self._json(429, {"error_code": "APIGW.0308", "error_msg": "The throttling threshold has been reached."},
                       headers=[("Retry-After", "1000000000")])
        elif mode == "retry-after-date":
            self._json(429, {"error_code": "APIGW.0308", "error_msg": "The throttling threshold has been reached."},
                       headers=[("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT")])
        elif mode == "deny401":
            self._json(401, {"error_code": "APIGW.0307", "error_msg": "The token must be updated."})
        elif mode == "deny401-aksk":
            self._json(401, {"error_code": "APIGW.0301",
                             "error_msg": "Incorrect IAM authentication information: verify aksk signature fail"})
        elif mode == "deny403":
            self._json(403, {"error_code": "APIGW.0302", "error_msg": "The IAM user is not authorized to access the API.",
                             "details": [{"error_code": "IAM.0001", "error_msg": "Policy doesn't allow dbss:audit:get"}]})
        elif mode.startswith("echo-"):
            self._echo(rid, mode)
        else:
            self._json(404, {"error_code": "APIGW.0101", "error_msg": "no such hostile mode: %s" % mode})

    def _trickle(self, data):
        for index in range(min(len(data), TRICKLE_LIMIT)):
            self._write(data[index:index + 1])
            if index + 1 < len(data):
                if self.server.hostile.closing.wait(1.0):
                    raise _Gone()

    def _echo(self, rid, mode):
        parts = mode.split("-")
        place, form = parts[1], parts[2] if len(parts) > 2 else "all"
        creds = self._credentials()
        text = echo_text(creds, form)
        header = [("X-Request-Id", _header_text(creds, form))]
        job = {"job_id": "job-" + rid, "resource_id": rid, "begin_time": 1717200000000}
        if place in ("deny", "busy"):
            status, code = (403, "APIGW.0302") if place == "deny" else (503, "APIGW.0201")
            self._json(status, {"error_code": code, "error_msg": "refused for %s" % text,
                                "details": [{"error_code": text, "error_msg": "details %s" % text}],
                                "encoded_authorization_message": text}, headers=header)
        elif place == "job":
            self._json(200, {"jobs": [dict(job, status="RUNNING", fail_reason=text, server_name=text, **{text: text})]},
                       headers=header)
        elif place == "fail":
            self._json(200, {"jobs": [dict(job, job_id=text, status="FAIL", error_code=text, fail_reason=text)]},
                       headers=header)
        elif place == "status":
            self._json(200, {"jobs": [dict(job, status=text)]}, headers=header)
        else:
            self._json(404, {"error_code": "APIGW.0101", "error_msg": "no such echo place: %s" % place})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        pass  # a client hanging up mid-answer is what these answers provoke


class HostileServer:
    """The attacker's server, in a daemon thread; see the module docstring."""

    def __init__(self):
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self.log = []  # (kind: api, iam or other; resource ID or user name; Authorization scheme)
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.hostile = self
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       name="hostile-server", daemon=True)
        self.thread.start()

    def record(self, kind, key, headers):
        # The Authorization scheme only (its first word), never a credential.
        scheme = (headers.get("Authorization") or "").split(" ", 1)[0] or None
        with self._lock:
            self.log.append((kind, key, scheme))

    def requests_for(self, prefix):
        """DBSS requests whose resource ID starts with ``prefix``."""
        with self._lock:
            return sum(1 for kind, key, _s in self.log if kind == "api" and key.startswith(prefix))

    def logins_for(self, user_name):
        with self._lock:
            return sum(1 for kind, key, _s in self.log if kind == "iam" and key == user_name)

    def schemes_for(self, prefix=None, user_name=None):
        """The Authorization schemes (None: no header) of the DBSS requests for
        resource IDs starting with ``prefix``, or of the logins of ``user_name``."""
        with self._lock:
            return [scheme for kind, key, scheme in self.log
                    if (kind == "api" and prefix is not None and key.startswith(prefix))
                    or (kind == "iam" and user_name is not None and key == user_name)]

    def close(self):
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------
# ansible-playbook: the module route on this machine
# ---------------------------------------------------------------------------

CONNECTION_PLUGIN = '''
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = """
    name: hostile_remote
    short_description: the local connection under another transport name (tests only)
    description:
        - Runs everything on the controller like C(local), but reports another transport,
          so dbss_audit_jobs_info runs its module as on a remote host.
    author: hwcloud.dbss contributors
    options:
        become_success_timeout:
            type: int
            default: 10
            description: As for C(local).
            vars:
                - name: ansible_local_become_success_timeout
        become_strip_preamble:
            type: bool
            default: true
            description: As for C(local).
            vars:
                - name: ansible_local_become_strip_preamble
    extends_documentation_fragment:
        - connection_pipelining
"""

from ansible.plugins.connection.local import Connection as LocalConnection


class Connection(LocalConnection):
    transport = "hostile_remote"
'''


def playbook_env(directory, python, collections_path):
    """The environment of an ansible-playbook run: no HW_* variable, modules on ``python``."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("HW_") and k != "OS_AUTH_TOKEN")
    env.update(ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_PYTHON_INTERPRETER=python, ANSIBLE_DEPRECATION_WARNINGS="0", ANSIBLE_FORKS="5",
               ANSIBLE_LOCAL_TEMP=os.path.join(directory, "local-tmp"),
               ANSIBLE_REMOTE_TMP=os.path.join(directory, "remote-tmp"))
    return env


def write_playbook(directory, name, plays, inventory=None):
    """A playbook (and its inventory) in ``directory``, with the ``hostile_remote``
    connection beside it. ``plays``: (name, connection, host pattern, tasks);
    every play saves its registered results to ``<name>-<play>-<host>.json``."""
    os.makedirs(os.path.join(directory, "connection_plugins"), exist_ok=True)
    with open(os.path.join(directory, "connection_plugins", "hostile_remote.py"), "w") as handle:
        handle.write(CONNECTION_PLUGIN)
    book = []
    for play_name, connection, pattern, tasks in plays:
        registered = dict((task["register"][2:], "{{ %s | default({}) }}" % task["register"]) for task in tasks)
        dest = os.path.join(directory, "%s-%s-{{ inventory_hostname }}.json" % (name, play_name))
        save = {"name": "save", "ansible.builtin.copy": {"content": "{{ results_all | to_json }}", "dest": dest},
                "vars": {"results_all": registered}, "no_log": True}
        book.append({"name": play_name, "hosts": pattern, "connection": connection, "gather_facts": False,
                     "vars": {"ansible_async_dir": os.path.join(directory, "async")}, "tasks": list(tasks) + [save]})
    path = os.path.join(directory, name + ".yml")
    with open(path, "w") as handle:
        json.dump(book, handle)
    inventory_path = os.path.join(directory, name + "-inventory.json")
    with open(inventory_path, "w") as handle:
        json.dump(inventory or {"all": {"hosts": {"hostile": {}}}}, handle)
    return path, inventory_path


# ---------------------------------------------------------------------------
# a process tree under watch: peak memory, and a hard stop
# ---------------------------------------------------------------------------

def _children_map():
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def _tree(root):
    children, found, todo = _children_map(), [], [root]
    while todo and len(found) < 10000:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _status_kib(pid, field):
    try:
        with open("/proc/%d/status" % pid) as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _role(pid, root, root_cmdline):
    """What a process of the tree is: the command itself, a forked worker of it,
    a module (AnsiballZ), or another process."""
    if pid == root:
        return "main"
    cmdline = _cmdline(pid)
    if "AnsiballZ" in cmdline or "async_wrapper" in cmdline:
        return "module"
    return "worker" if cmdline == root_cmdline else "other"


def run_watched(command, env=None, cwd=None, timeout=300.0, rss_limit_mb=1536, interval=0.05):
    """Run ``command`` in a session of its own; stop the whole tree when one
    process of it passes ``rss_limit_mb`` or ``timeout`` passes.

    Returns a dict: ``returncode``, ``stdout``, ``stderr`` (text), ``peak_mb``
    (the largest resident set of any process of the tree: ``ru_maxrss`` of
    ``wait4``, which covers every descendant that was waited for, and the
    ``VmHWM`` sampled every ``interval`` seconds), ``peaks_mb`` (the sampled
    peak per role: ``main``, ``worker``, ``module``, ``other``), ``killed``
    (None, "memory" or "timeout")."""
    import tempfile
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        state = {"peak_kib": 0, "killed": None, "roles": {}, "peaks": {}}
        done = threading.Event()

        def watch():
            end = time.monotonic() + timeout
            root_cmdline = None
            while not done.wait(interval):
                root_cmdline = root_cmdline or _cmdline(proc.pid)
                for pid in _tree(proc.pid):
                    peak = _status_kib(pid, "VmHWM")
                    if pid not in state["roles"]:
                        state["roles"][pid] = _role(pid, proc.pid, root_cmdline)
                    role = state["roles"][pid]
                    state["peaks"][role] = max(state["peaks"].get(role, 0), peak)
                    state["peak_kib"] = max(state["peak_kib"], peak)
                    if _status_kib(pid, "VmRSS") > rss_limit_mb * 1024 and state["killed"] is None:
                        state["killed"] = "memory"
                if state["killed"] is None and time.monotonic() > end:
                    state["killed"] = "timeout"
                if state["killed"]:
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except OSError:
                        pass
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        if os.WIFSIGNALED(status):
            proc.returncode = -os.WTERMSIG(status)
        else:
            proc.returncode = os.WEXITSTATUS(status)
        done.set()
        watcher.join(5)
        try:  # whatever the tree left behind (an async job, a worker) goes with it
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        out.seek(0)
        err.seek(0)
        return {"returncode": proc.returncode, "stdout": out.read().decode("utf-8", "replace"),
                "stderr": err.read().decode("utf-8", "replace"), "killed": state["killed"],
                "peak_mb": round(max(usage.ru_maxrss, state["peak_kib"]) / 1024.0, 1),
                "peaks_mb": dict((role, round(kib / 1024.0, 1)) for role, kib in state["peaks"].items())}
