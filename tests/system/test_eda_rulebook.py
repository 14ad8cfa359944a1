# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""End to end: ansible-rulebook runs docs/examples/eda/rulebook.yml against the emulator.

The source plugin hwcloud.dbss.dbss_audit_jobs is loaded from the collection
(ANSIBLE_COLLECTIONS_PATH), a job that succeeds must run on_success.yml and a
job that fails must run on_failure.yml; both playbooks leave a marker file. A
refused token stops ansible-rulebook after one request, whatever the number of
resources, with a message naming the authentication mode.

ansible-rulebook is looked for in, in order: $HWCLOUD_DBSS_RULEBOOK (the
executable), $HWCLOUD_DBSS_EDA_VENV/bin, <collection>/.venv/eda/bin, PATH.
Java 17 comes from $JAVA_HOME or the ``java`` on PATH. Without either, the
test is skipped with the reason.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "docs", "examples", "eda")
PROJECT = "0123456789abcdef0123456789abcdef"
TOKEN = "demo-token"
DEADLINE = 150.0   # seconds for the whole scenario (ansible-rulebook and the JVM start in ~5 s)


def find_rulebook():
    candidates = [os.environ.get("HWCLOUD_DBSS_RULEBOOK")]
    if os.environ.get("HWCLOUD_DBSS_EDA_VENV"):
        candidates.append(os.path.join(os.environ["HWCLOUD_DBSS_EDA_VENV"], "bin", "ansible-rulebook"))
    candidates.append(os.path.join(ROOT, ".venv", "eda", "bin", "ansible-rulebook"))
    candidates.append(shutil.which("ansible-rulebook"))
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def find_java_home():
    home = os.environ.get("JAVA_HOME")
    if home and os.path.isfile(os.path.join(home, "bin", "java")):
        return home
    java = shutil.which("java")
    if not java:
        return None
    # /usr/bin/java -> /etc/alternatives/java -> <JDK home>/bin/java
    return os.path.dirname(os.path.dirname(os.path.realpath(java)))


def collections_path(tmp_path):
    """A folder holding ansible_collections/hwcloud/dbss for this tree."""
    parts = ROOT.split(os.sep)
    if parts[-3:] == ["ansible_collections", "hwcloud", "dbss"]:
        return os.sep.join(parts[:-3]) or os.sep
    base = tmp_path / "collections"
    (base / "ansible_collections" / "hwcloud").mkdir(parents=True)
    os.symlink(ROOT, str(base / "ansible_collections" / "hwcloud" / "dbss"))
    return str(base)


RULEBOOK = find_rulebook()
JAVA_HOME = find_java_home()

pytestmark = [
    pytest.mark.skipif(RULEBOOK is None, reason="ansible-rulebook is not installed (set HWCLOUD_DBSS_EDA_VENV or HWCLOUD_DBSS_RULEBOOK)"),
    pytest.mark.skipif(JAVA_HOME is None, reason="no Java runtime (ansible-rulebook needs Java 17; set JAVA_HOME)"),
]


def rulebook_python_has(modules):
    python = os.path.join(os.path.dirname(RULEBOOK), "python")
    if not os.path.isfile(python):
        return True  # not a venv layout: let the run itself tell
    code = "import " + ", ".join(modules)
    return subprocess.call([python, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60) == 0


def dbss_answers(emu, resource_id):
    _status, body = emu.control("GET", "/requests")
    return sum(1 for entry in body["requests"] if entry.get("resource_id") == resource_id and entry.get("status") == 200)


def wait_for(predicate, deadline, proc, log_path, what):
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            break
        time.sleep(0.25)
    with open(log_path, "rb") as handle:
        tail = handle.read().decode("utf-8", "replace")[-6000:]
    pytest.fail("%s did not happen (ansible-rulebook %s); its output ends with:\n%s"
                % (what, "exited with %s" % proc.returncode if proc.poll() is not None else "still running", tail))


def stop(proc):
    """Stop ansible-rulebook and what it started (its own process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


def start_rulebook(emu, tmp_path, variables, token=TOKEN):
    """ansible-rulebook running the example rulebook from a copy of docs/examples/eda,
    in its own process group; returns (process, log path, marker folder)."""
    if not rulebook_python_has(["requests", "ansible"]):
        pytest.skip("the ansible-rulebook environment (%s) lacks requests or ansible-core, which the source needs"
                    % os.path.dirname(RULEBOOK))
    work = tmp_path / "work"
    work.mkdir()
    for name in ("rulebook.yml", "on_success.yml", "on_failure.yml", "inventory.yml"):
        shutil.copy(os.path.join(EXAMPLES, name), str(work / name))
    (work / "vars.yml").write_text(variables)
    markers = tmp_path / "markers"
    markers.mkdir()

    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the source must find the collection on its own
    env.update({
        "PATH": os.path.dirname(RULEBOOK) + os.pathsep + env.get("PATH", ""),
        "JAVA_HOME": JAVA_HOME,
        "ANSIBLE_COLLECTIONS_PATH": collections_path(tmp_path),
        "ANSIBLE_LOCAL_TEMP": tempfile.mkdtemp(prefix="ansible-local-", dir=str(tmp_path)),
        "HW_PROJECT_ID": PROJECT,
        "HW_DBSS_ENDPOINT": emu.url,
        "HW_AUTH_TOKEN": token,
        "HW_MAX_RETRIES": "2",
        "DBSS_EDA_MARKER_DIR": str(markers),
    })
    log_path = str(tmp_path / "ansible-rulebook.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([RULEBOOK, "-i", "inventory.yml", "-r", "rulebook.yml", "--vars", "vars.yml", "-v"],
                                cwd=str(work), env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    return proc, log_path, markers


def test_example_rulebook_runs_the_success_and_failure_playbooks(start_emulator, tmp_path):
    emu = start_emulator()
    deadline = time.monotonic() + DEADLINE
    proc, log_path, markers = start_rulebook(emu, tmp_path, "resource_ids: [res-e2e-ok, res-e2e-bad]\ndbss_interval: 0.5\n")
    try:
        # Jobs are created once the source polls, so the watch sees them begin.
        wait_for(lambda: dbss_answers(emu, "res-e2e-ok") >= 1 and dbss_answers(emu, "res-e2e-bad") >= 1,
                 deadline, proc, log_path, "the source polling both resources")
        spec = {"project_id": PROJECT, "timeline": {"INIT": 1, "READY": 0, "RUNNING": 1}}
        _status, ok_job = emu.control("POST", "/jobs", dict(spec, resource_id="res-e2e-ok", outcome="SUCCESS"))
        _status, bad_job = emu.control("POST", "/jobs", dict(spec, resource_id="res-e2e-bad", outcome="FAIL"))
        success = str(markers / ("success-%s.json" % ok_job["job_id"]))
        failure = str(markers / ("failure-%s.json" % bad_job["job_id"]))
        wait_for(lambda: os.path.exists(success) and os.path.exists(failure), deadline, proc, log_path,
                 "both playbooks leaving their marker")
    finally:
        stop(proc)

    with open(success) as handle:
        ok_event = json.load(handle)
    with open(failure) as handle:
        bad_event = json.load(handle)
    assert ok_event["status"] == "SUCCESS" and ok_event["resource_id"] == "res-e2e-ok"
    assert ok_event["job"]["job_id"] == ok_job["job_id"]
    assert bad_event["status"] == "FAIL" and bad_event["job"]["error_code"] and bad_event["job"]["fail_reason"]
    assert sorted(os.path.basename(p) for p in glob.glob(str(markers / "*.json"))) == sorted(
        [os.path.basename(success), os.path.basename(failure)])
    with open(log_path, "rb") as handle:
        output = handle.read().decode("utf-8", "replace")
    # Exactly one playbook run per outcome: no event was sent twice.
    assert output.count("PLAY [DBSS audit instance is ready]") == 1
    assert output.count("PLAY [DBSS audit instance job failed]") == 1
    assert TOKEN not in output


def test_a_refused_token_stops_the_rulebook_after_one_request(start_emulator, tmp_path):
    emu = start_emulator()
    bad_token = "not-the-demo-token-0123456789"
    resources = ["res-%d" % n for n in range(10)]
    proc, log_path, _markers = start_rulebook(emu, tmp_path, "resource_ids: [%s]\n" % ", ".join(resources), token=bad_token)
    try:
        proc.wait(timeout=DEADLINE)
    finally:
        stop(proc)
    with open(log_path, "rb") as handle:
        output = handle.read().decode("utf-8", "replace")
    _status, body = emu.control("GET", "/requests")
    assert [entry["status"] for entry in body["requests"]] == [401], output[-4000:]
    assert proc.returncode != 0
    assert "Terminating: One of the source plugins failed" in output
    assert "stopped polling every resource" in output and "(mode: token (auth_token))" in output
    assert bad_token not in output
