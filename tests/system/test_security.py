# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security checks of issue 6: TLS verification on by default, credentials never
follow a redirect to another host, and no secret in any output at any
verbosity, in every auth mode, on success and on failure. The figures go to
``build/reliability/security.json``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from support import clear_hw_environment, run_task, save_figures


PID = "0123456789abcdef0123456789abcdef"

# Throw-away credentials, distinctive so a grep cannot miss them.
TOKEN = "tok-S3cr3t-7d41c0ffee"
ACCESS_KEY = "AKSECURITYTEST01"
SECRET_KEY = "sk-S3cr3t-91be55aa"
SECURITY_TOKEN = "st-S3cr3t-4410ddee"
USER, PASSWORD, DOMAIN = "sec-user", "pw-S3cr3t-0c0ffee5", "sec-domain"
WRONG_TOKEN = "tok-Wr0ng-33aa11"
WRONG_SECRET_KEY = "sk-Wr0ng-77bb22"
WRONG_PASSWORD = "pw-Wr0ng-55cc33"
SECRETS = (TOKEN, SECRET_KEY, SECURITY_TOKEN, PASSWORD, WRONG_TOKEN, WRONG_SECRET_KEY, WRONG_PASSWORD)
EMULATOR_CREDENTIALS = ("--token", TOKEN, "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY,
                        "--security-token", SECURITY_TOKEN, "--user", USER, "--password", PASSWORD, "--domain", DOMAIN)

FIGURES = {"secrets_leaked": 0, "secret_checks": 0, "outputs_scanned": 0, "tls_cases": 0, "redirect_cases": 0}


@pytest.fixture(scope="module", autouse=True)
def write_figures():
    yield
    save_figures("security", FIGURES)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    clear_hw_environment(monkeypatch)


def scan(text, where):
    """Count and report every secret found in ``text``."""
    FIGURES["outputs_scanned"] += 1
    leaked = []
    for secret in SECRETS:
        FIGURES["secret_checks"] += 1
        if secret in text:
            leaked.append(secret[:6] + "...")
    FIGURES["secrets_leaked"] += len(leaked)
    assert not leaked, "secrets (shown shortened) leaked in %s: %s" % (where, leaked)


def run_inprocess(args):
    """The task as the action plugin runs it; every word of its result is scanned for secrets."""
    result = run_task(args)
    scan(json.dumps(result, default=str), "task result")
    return result


def control(emu, method, path, body=None):
    status, answer = emu.control(method, path, body)
    assert status in (200, 201), answer
    return answer


def ansible_playbook():
    candidate = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return candidate if os.path.exists(candidate) else shutil.which("ansible-playbook")


def run_playbook(tmp_path, tasks, name, verbosity=0):
    binary = ansible_playbook()
    if binary is None:
        pytest.skip("ansible-playbook not found")
    out_file = str(tmp_path / (name + "-results.json"))
    registered = dict((task["register"][2:], "{{ %s }}" % task["register"]) for task in tasks)
    tasks = list(tasks) + [{"name": "save", "ansible.builtin.copy": {"content": "{{ results_all | to_json }}", "dest": out_file},
                            "vars": {"results_all": registered}, "no_log": True}]
    book = tmp_path / (name + ".yml")
    book.write_text(json.dumps([{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}]))
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("HW_") and k != "OS_AUTH_TOKEN")
    env.update(ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH") or "/tmp/coll", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_DEPRECATION_WARNINGS="0")
    command = [binary, "-i", "localhost,", str(book)] + (["-" + "v" * verbosity] if verbosity else [])
    proc = subprocess.run(command, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180, check=False)
    output = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
    with open(out_file) as handle:
        results = json.load(handle)
    return output, results


def task(name, args):
    return {"name": name, "hwcloud.dbss.dbss_audit_jobs_info": args, "register": "r_" + name, "ignore_errors": True}


# ---------------------------------------------------------------------------
# TLS
# ---------------------------------------------------------------------------

def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1 (also usable as its own CA bundle)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path = os.path.join(str(directory), "cert.pem")
    key_path = os.path.join(str(directory), "key.pem")
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_emulator(start_emulator, tmp_path):
    pytest.importorskip("cryptography")
    cert, key = make_certificate(tmp_path)
    emu = start_emulator("--certfile", cert, "--keyfile", key, *EMULATOR_CREDENTIALS)
    assert emu.url.startswith("https://127.0.0.1:")
    control(emu, "POST", "/jobs", {"resource_id": "tls-1", "project_id": PID, "timeline": {}})
    return emu, cert


def tls_args(emu, **extra):
    args = dict(endpoint=emu.url, project_id=PID, auth_token=TOKEN, resource_id="tls-1", timeout=5, max_retries=0)
    args.update(extra)
    return args


def test_tls_refused_by_default(tls_emulator):
    emu, _cert = tls_emulator
    FIGURES["tls_cases"] += 1
    result = run_inprocess(tls_args(emu))
    assert result["failed"] is True
    assert "TLS" in result["msg"] and "ca_path" in result["msg"], result["msg"]
    assert "Traceback" not in result["msg"]


def test_tls_accepted_with_ca_path(tls_emulator):
    emu, cert = tls_emulator
    FIGURES["tls_cases"] += 1
    result = run_inprocess(tls_args(emu, ca_path=cert))
    assert result["failed"] is False, result.get("msg")
    assert result["job"]["resource_id"] == "tls-1"
    assert not result.get("warnings")


def test_tls_accepted_without_validation_with_a_warning(tls_emulator):
    emu, _cert = tls_emulator
    FIGURES["tls_cases"] += 1
    result = run_inprocess(tls_args(emu, validate_certs=False))
    assert result["failed"] is False, result.get("msg")
    assert any("validate_certs" in w and "ca_path" in w for w in result.get("warnings", [])), result.get("warnings")


def test_tls_through_ansible_playbook(tls_emulator, tmp_path):
    emu, cert = tls_emulator
    FIGURES["tls_cases"] += 3
    output, results = run_playbook(tmp_path, [
        task("default", tls_args(emu)),
        task("ca_path", tls_args(emu, ca_path=cert)),
        task("insecure", tls_args(emu, validate_certs=False)),
    ], "tls", verbosity=1)
    assert "Traceback" not in output
    assert results["default"]["failed"] is True and "TLS" in results["default"]["msg"] and "ca_path" in results["default"]["msg"]
    assert not results["ca_path"].get("failed"), results["ca_path"].get("msg")
    assert not results["insecure"].get("failed"), results["insecure"].get("msg")
    assert "[WARNING]" in output and "validate_certs is false" in output
    scan(output, "ansible-playbook output (TLS)")


# ---------------------------------------------------------------------------
# redirects
# ---------------------------------------------------------------------------

class Recorder:
    """A small HTTP server on 127.0.0.1 that records every request (and its headers)."""

    def __init__(self, status=200, location=None):
        recorded = self.requests = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorded.append({"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                                 "body": body.decode("utf-8", "replace")})
                payload = b'{"jobs": []}' if location is None else b""
                self.send_response(status)
                if location is not None:
                    self.send_header("Location", location + self.path)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("X-Request-Id", "0" * 32)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorders():
    made = []

    def make(**kwargs):
        recorder = Recorder(**kwargs)
        made.append(recorder)
        return recorder
    yield make
    for recorder in made:
        recorder.close()


REDIRECT_MODES = {
    "token": {"auth_token": TOKEN},
    "aksk": {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "security_token": SECURITY_TOKEN},
    "password": {"user_name": USER, "password": PASSWORD, "domain_name": DOMAIN},
}


@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("mode", sorted(REDIRECT_MODES))
def test_credentials_never_follow_a_redirect(recorders, mode, status):
    other = recorders()
    redirector = recorders(status=status, location=other.url)
    FIGURES["redirect_cases"] += 1
    args = dict(endpoint=redirector.url, project_id=PID, resource_id="redir-1", timeout=5, max_retries=0)
    args.update(REDIRECT_MODES[mode])
    if mode == "password":
        args["auth_url"] = redirector.url + "/v3"
    result = run_inprocess(args)
    assert result["failed"] is True
    assert str(status) in result["msg"], result["msg"]
    assert redirector.requests, "the redirecting server saw no request"
    assert other.requests == [], "a request followed the redirect to another host: %r" % (
        [(r["method"], r["path"]) for r in other.requests],)
    scan(json.dumps(result, default=str), "redirect failure result")


def test_redirect_from_the_emulator_host_to_another_port_through_playbook(recorders, tmp_path):
    other = recorders()
    redirector = recorders(status=307, location=other.url)
    FIGURES["redirect_cases"] += 1
    tasks = [task("redir_" + mode, dict(dict(endpoint=redirector.url, project_id=PID, resource_id="redir-1", timeout=5,
                                             max_retries=0, auth_url=redirector.url + "/v3"), **creds))
             for mode, creds in sorted(REDIRECT_MODES.items())]
    output, results = run_playbook(tmp_path, tasks, "redirect", verbosity=3)
    assert other.requests == []
    for mode in REDIRECT_MODES:
        assert results["redir_" + mode]["failed"] is True
    assert "Traceback" not in output
    scan(output, "ansible-playbook output (redirect)")


# ---------------------------------------------------------------------------
# no secret in any output
# ---------------------------------------------------------------------------

def secret_tasks(emu):
    base = dict(endpoint=emu.url, project_id=PID, timeout=5, max_retries=0, wait_sleep=0.1, wait_max_sleep=0.3, wait_timeout=6)
    modes = {
        "token": {"auth_token": TOKEN},
        "aksk": {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "security_token": SECURITY_TOKEN},
        "password": {"user_name": USER, "password": PASSWORD, "domain_name": DOMAIN, "auth_url": emu.url + "/v3"},
    }
    wrong = {
        "token": {"auth_token": WRONG_TOKEN},
        "aksk": {"access_key": ACCESS_KEY, "secret_key": WRONG_SECRET_KEY, "security_token": SECURITY_TOKEN},
        "password": {"user_name": USER, "password": WRONG_PASSWORD, "domain_name": DOMAIN, "auth_url": emu.url + "/v3"},
    }
    tasks = []
    for mode in sorted(modes):
        tasks.append(task("ok_" + mode, dict(base, resource_id="sec-ok", wait=True, **modes[mode])))
        tasks.append(task("wrong_" + mode, dict(base, resource_id="sec-ok", **wrong[mode])))
        tasks.append(task("forbidden_" + mode, dict(base, resource_id="sec-403", **modes[mode])))
        tasks.append(task("failjob_" + mode, dict(base, resource_id="sec-fail", wait=True, **modes[mode])))
    return tasks


def prepare_secret_emulator(emu):
    control(emu, "POST", "/jobs", {"jobs": [
        {"resource_id": "sec-ok", "project_id": PID, "timeline": {"RUNNING": 0.2}},
        {"resource_id": "sec-fail", "project_id": PID, "timeline": {"RUNNING": 0.2}, "outcome": "FAIL"},
    ]})
    control(emu, "POST", "/faults", {"kind": "forbidden", "resource_id": "sec-403", "count": -1})


@pytest.mark.parametrize("verbosity", [0, 1, 2, 3, 4])
def test_no_secret_in_playbook_output(start_emulator, tmp_path, verbosity):
    emu = start_emulator(*EMULATOR_CREDENTIALS)
    prepare_secret_emulator(emu)
    output, results = run_playbook(tmp_path, secret_tasks(emu), "secrets-v%d" % verbosity, verbosity=verbosity)
    scan(output, "ansible-playbook -v*%d output" % verbosity)
    scan(json.dumps(results), "registered results at -v*%d" % verbosity)
    assert "Traceback" not in output
    for mode in ("token", "aksk", "password"):
        assert not results["ok_" + mode].get("failed"), (mode, results["ok_" + mode].get("msg"))
        assert results["wrong_" + mode]["failed"] is True and "401" in results["wrong_" + mode]["msg"]
        assert results["forbidden_" + mode]["failed"] is True and "403" in results["forbidden_" + mode]["msg"]
        assert results["failjob_" + mode]["failed"] is True and results["failjob_" + mode]["failure_kind"] == "failed"


def test_no_secret_in_inprocess_exceptions(start_emulator):
    emu = start_emulator(*EMULATOR_CREDENTIALS)
    prepare_secret_emulator(emu)
    for one in secret_tasks(emu):
        args = one["hwcloud.dbss.dbss_audit_jobs_info"]
        result = run_inprocess(args)
        scan(json.dumps(result, default=str), "in-process result of %s" % one["name"])
        assert result["failed"] is one["name"].startswith(("wrong_", "forbidden_", "failjob_")), (one["name"], result.get("msg"))
