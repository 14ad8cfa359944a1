# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bad-input table of issue 6.

Every case must fail with a message that names the option, and send no request
at all: the emulator logs zero requests, and no HTTP request leaves the process
(in-process: ``HTTPAdapter.send`` is counted; through ansible-playbook: every
proxy variable points at a counting listener, so even a request to a real cloud
host would be caught on 127.0.0.1). Each case runs in-process (what the action
plugin does) and, all together in one playbook, through ansible-playbook.
The figures go to ``build/reliability/bad_input.json``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil
import socket
import subprocess
import sys
import threading

import pytest

from support import clear_hw_environment, run_task, save_figures
import requests


PID = "0123456789abcdef0123456789abcdef"
URL = "{url}"  # replaced by the emulator's base URL
USERINFO_SECRET = "pw-in-url-9f3a"
FIGURES = {"bad_input_runs": 0, "requests_sent_on_bad_input": 0, "checks": 0}

TOKEN = {"auth_token": "demo-token"}
WAIT = {"wait": True}
DROP = object()  # removes a default option from the case's arguments

# (case id, options over the defaults, option the message must name, more words it must contain)
CASES = [
    ("project_id_too_short", {"project_id": "abc123"}, "project_id", ["32 to 64"]),
    ("project_id_too_long", {"project_id": "a" * 65}, "project_id", ["32 to 64"]),
    ("project_id_illegal_chars", {"project_id": "0123456789abcdef0123456789abcde!"}, "project_id", []),
    ("project_id_slash", {"project_id": "0123456789abcdef/0123456789abcdef"}, "project_id", []),
    ("resource_id_slash", {"resource_id": "abc/def"}, "resource_id", []),
    ("resource_id_dotdot", {"resource_id": "abc..def"}, "resource_id", [".."]),
    ("resource_id_only_dotdot", {"resource_id": ".."}, "resource_id", []),
    ("resource_id_question_mark", {"resource_id": "abc?x=1"}, "resource_id", []),
    ("resource_id_hash", {"resource_id": "abc#frag"}, "resource_id", []),
    ("resource_id_encoded_slash", {"resource_id": "abc%2Fdef"}, "resource_id", []),
    ("resource_id_space", {"resource_id": "abc def"}, "resource_id", []),
    ("resource_id_newline", {"resource_id": "abc\ndef"}, "resource_id", []),
    ("resource_id_non_ascii", {"resource_id": "r\u00e9sum\u00e9-1"}, "resource_id", []),
    ("resource_id_empty", {"resource_id": ""}, "resource_id", []),
    ("resource_id_too_long", {"resource_id": "r" * 129}, "resource_id", []),
    ("resource_ids_one_bad", {"resource_id": DROP, "resource_ids": ["good-1", "bad/2"]}, "resource_ids[1]", []),
    ("resource_ids_empty", {"resource_id": DROP, "resource_ids": []}, "resource_ids", []),
    ("resource_id_and_ids", {"resource_ids": ["a"]}, "resource_id", ["mutually exclusive"]),
    ("no_resource_id", {"resource_id": DROP}, "resource_id", []),
    ("timeout_zero", {"timeout": 0}, "timeout", []),
    ("timeout_negative", {"timeout": -1}, "timeout", []),
    ("timeout_too_large", {"timeout": 4000}, "timeout", []),
    ("wait_timeout_zero", dict(WAIT, wait_timeout=0), "wait_timeout", []),
    ("wait_timeout_negative", dict(WAIT, wait_timeout=-5), "wait_timeout", []),
    ("wait_timeout_bad_unit", dict(WAIT, wait_timeout="20x"), "wait_timeout", []),
    ("wait_sleep_zero", dict(WAIT, wait_sleep=0), "wait_sleep", []),
    ("wait_sleep_above_max", dict(WAIT, wait_sleep=10, wait_max_sleep=5), "wait_sleep", ["wait_max_sleep"]),
    ("wait_delay_negative", dict(WAIT, wait_delay=-1), "wait_delay", []),
    ("wait_not_found_negative", dict(WAIT, wait_not_found_timeout=-1), "wait_not_found_timeout", []),
    ("wait_max_rps_zero", {"wait_max_rps": 0}, "wait_max_rps", []),
    ("max_retries_negative", {"max_retries": -1}, "max_retries", []),
    ("max_retries_too_many", {"max_retries": 50}, "max_retries", []),
    ("status_unknown", {"status": ["DONE"]}, "status", []),
    ("target_state_unknown", dict(WAIT, target_states=["FINISHED"]), "target_states", []),
    ("target_states_empty", dict(WAIT, target_states=[]), "target_states", []),
    ("state_target_and_failure", dict(WAIT, failure_states=["SUCCESS", "FAIL"]), "failure_states", ["target_states", "SUCCESS"]),
    ("state_target_and_pending", dict(WAIT, pending_states=["RUNNING", "SUCCESS"]), "pending_states", ["target_states"]),
    ("job_id_empty", dict(WAIT, job_id="  "), "job_id", []),
    ("query_not_compiling", {"query": "[?status == "}, "query", ["JMESPath"]),
    ("query_lexer_error", {"query": "jobs[`"}, "query", []),
    ("endpoint_ftp", {"endpoint": "ftp://127.0.0.1:21"}, "endpoint", ["http"]),
    ("endpoint_no_scheme", {"endpoint": "127.0.0.1:8443"}, "endpoint", []),
    ("endpoint_user_info", {"endpoint": "http://admin:%s@127.0.0.1:9" % USERINFO_SECRET}, "endpoint", ["user info"]),
    ("endpoint_query", {"endpoint": URL + "/?x=1"}, "endpoint", []),
    ("endpoint_bad_port", {"endpoint": "http://127.0.0.1:99999"}, "endpoint", []),
    ("no_credentials", {"auth_token": DROP}, "auth_token", ["no credentials"]),
    ("access_key_without_secret", {"auth_token": DROP, "access_key": "AK1"}, "secret_key", []),
    ("secret_key_without_access", {"auth_token": DROP, "secret_key": "sk-secret-1"}, "access_key", []),
    ("security_token_alone", {"auth_token": DROP, "security_token": "st-secret-1"}, "access_key", []),
    ("token_and_half_aksk", {"access_key": "AK1"}, "secret_key", []),
    ("user_without_password", {"auth_token": DROP, "user_name": "u", "domain_name": "d", "auth_url": URL + "/v3"}, "password", []),
    ("password_without_domain", {"auth_token": DROP, "user_name": "u", "password": "pw-secret-1", "auth_url": URL + "/v3"},
     "domain_name", []),
    ("auth_url_ftp", {"auth_token": DROP, "user_name": "u", "password": "pw-secret-1", "domain_name": "d",
                      "auth_url": "ftp://127.0.0.1/v3"}, "auth_url", []),
    ("auth_url_user_info", {"auth_token": DROP, "user_name": "u", "password": "pw-secret-1", "domain_name": "d",
                            "auth_url": "http://u:%s@127.0.0.1:9/v3" % USERINFO_SECRET}, "auth_url", []),
    ("region_malformed", {"endpoint": DROP, "region": "CN_North_4"}, "region", ["cn-north-4"]),
    ("region_not_a_region", {"endpoint": DROP, "region": "north"}, "region", []),
    ("region_of_the_other_site", {"endpoint": DROP, "region": "eu-west-101", "cloud": "myhuaweicloud.com"}, "cloud",
     ["myhuaweicloud.eu"]),
    ("no_region_no_endpoint", {"endpoint": DROP}, "region", []),
    ("cloud_bad", {"endpoint": DROP, "region": "cn-north-4", "cloud": "my_cloud"}, "cloud", []),
    ("ca_path_missing", {"ca_path": "/nonexistent/dbss-ca.pem"}, "ca_path", []),
]

SECRETS = ("pw-secret-1", "sk-secret-1", "st-secret-1")


@pytest.fixture(scope="module", autouse=True)
def write_figures():
    yield
    save_figures("bad_input", dict(FIGURES, bad_inputs_tried=len(CASES)))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    clear_hw_environment(monkeypatch)


def case_args(url, options):
    args = dict(endpoint=url, project_id=PID, resource_id="res-1", auth_token="demo-token")
    for key, value in options.items():
        if value is DROP:
            args.pop(key, None)
        else:
            args[key] = value.replace(URL, url) if isinstance(value, str) else value
    return args


def run_inprocess(args):
    return run_task(args)


def check_result(case_id, option, words, result):
    assert result.get("failed") is True, (case_id, result)
    msg = result.get("msg", "")
    assert option in msg, (case_id, option, msg)
    for word in words:
        assert word in msg, (case_id, word, msg)
    assert "Traceback" not in json.dumps(result, default=str)
    text = json.dumps(result, default=str)
    for secret in SECRETS:
        assert secret not in text, (case_id, "secret in output")
    # a password written into a URL option is not a secret option: it is refused
    # and never repeated in the message (the invocation echoes the option as given)
    assert USERINFO_SECRET not in msg, (case_id, "user info repeated in the message")
    FIGURES["checks"] += 1


@pytest.mark.parametrize("case_id, options, option, words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_inprocess(emulator, monkeypatch, case_id, options, option, words):
    sent = []
    original = requests.adapters.HTTPAdapter.send

    def counting_send(self, request, *args, **kwargs):
        sent.append(request.url)
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", counting_send)
    FIGURES["bad_input_runs"] += 1
    result = run_inprocess(case_args(emulator.url, options))
    counters = emulator.control("GET", "/counters")[1]
    FIGURES["requests_sent_on_bad_input"] += len(sent) + counters["requests"]
    check_result(case_id, option, words, result)
    assert sent == [], (case_id, sent)
    assert counters["requests"] == 0, (case_id, counters)


def test_table_is_large_enough():
    assert len(CASES) >= 30
    assert len(set(c[0] for c in CASES)) == len(CASES)


class CountingListener:
    """Accepts TCP connections on 127.0.0.1 and counts them (closing each at once)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopped:
            try:
                conn, _addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self):
        self.stopped = True
        self.thread.join(timeout=5)
        self.sock.close()


def ansible_playbook():
    candidate = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return candidate if os.path.exists(candidate) else shutil.which("ansible-playbook")


def test_bad_input_through_ansible_playbook(emulator, tmp_path):
    binary = ansible_playbook()
    if binary is None:
        pytest.skip("ansible-playbook not found")
    listener = CountingListener()
    proxy = "http://127.0.0.1:%d" % listener.port
    tasks = []
    for case_id, options, _option, _words in CASES:
        tasks.append({"name": case_id, "hwcloud.dbss.dbss_audit_jobs_info": case_args(emulator.url, options),
                      "register": "r_" + case_id, "ignore_errors": True})
    results = dict((c[0], "{{ r_%s }}" % c[0]) for c in CASES)
    out_file = str(tmp_path / "results.json")
    tasks.append({"name": "save", "ansible.builtin.copy": {"content": "{{ results_all | to_json }}", "dest": out_file},
                  "vars": {"results_all": results}})
    book = tmp_path / "bad_input.yml"
    book.write_text(json.dumps([{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}]))
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("HW_") and k != "OS_AUTH_TOKEN")
    env.update(ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH") or "/tmp/coll", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               HTTP_PROXY=proxy, HTTPS_PROXY=proxy, http_proxy=proxy, https_proxy=proxy, ALL_PROXY=proxy, all_proxy=proxy,
               NO_PROXY="", no_proxy="")
    try:
        proc = subprocess.run([binary, "-i", "localhost,", str(book), "-vvv"], env=env, cwd=str(tmp_path), check=False,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180)
    finally:
        listener.close()
    output = proc.stdout.decode("utf-8", "replace")
    assert "Traceback" not in output
    for secret in SECRETS:
        assert secret not in output, "a secret reached ansible-playbook's output"
    with open(out_file) as handle:
        registered = json.load(handle)
    counters = emulator.control("GET", "/counters")[1]
    FIGURES["bad_input_runs"] += len(CASES)
    FIGURES["requests_sent_on_bad_input"] += listener.connections + counters["requests"]
    for case_id, _options, option, words in CASES:
        check_result(case_id, option, words, registered[case_id])
    assert listener.connections == 0
    assert counters["requests"] == 0
