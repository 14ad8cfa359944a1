# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every playbook in docs/examples/ runs with ansible-playbook against the emulator, as
the user guide tells users to rehearse: credentials from HW_* environment variables,
the endpoint from ``-e dbss_endpoint=...``."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import subprocess

import pytest

from support import ROOT, venv_executable as executable


EXAMPLES = os.path.join(ROOT, "docs", "examples")
PLAYBOOK_TIMEOUT = 180
PROJECT_ID = "0123456789abcdef0123456789abcdef"
EXAMPLE_RESOURCE = "2c154fdd-0d43-47b7-9cf1-5236bf6a2ca7"
FAIL_CODE = "DBSS.10020200"

# The emulator's demo credentials, one set per authentication mode (test values).
AUTH_MODES = {
    "token": {"HW_AUTH_TOKEN": "demo-token"},
    "aksk": {"HW_ACCESS_KEY": "DEMOACCESSKEY", "HW_SECRET_KEY": "demo-secret-key"},
    "password": {"HW_USER_NAME": "demo-user", "HW_USER_PASSWORD": "demo-password", "HW_DOMAIN_NAME": "demo-domain",
                 "HW_AUTH_URL": "{url}/v3"},
}

# example file -> (jobs to create, extra vars, -v?, expected output fragments, expected recap, auth mode)
# docs/examples/eda/ (a rulebook and the playbooks it runs) is exercised by the EDA tests.
# Every example ends with ansible-playbook's exit code 0 except those listed in EXIT_CODES.
CASES = {
    "list_jobs.yml": ([], {}, False, ["newest 8abf9647852a1daa01852e517e1a1a0b is SUCCESS"], "failed=0", "token"),
    "module_defaults.yml": (
        [{"resource_id": "db-failed", "timeline": {}, "outcome": "FAIL"}],
        {"dbss_resource_ids": [EXAMPLE_RESOURCE, "db-failed"]}, False, ['"code": "%s"' % FAIL_CODE, '"SUCCESS"'],
        "failed=0", "password"),
    "wait_for_instances.yml": (
        [{"resource_id": "db-a", "timeline": {"INIT": 0.3, "RUNNING": 0.9}},
         {"resource_id": "db-b", "timeline": {"RUNNING": 0.6}}],
        {"dbss_resource_ids": ["db-a", "db-b"]}, True,
        ["db-a is ready on DBSS-emu-", "db-b is ready on DBSS-emu-", "dbss: resource db-a job"], "failed=0", "token"),
    # reports in its rescue, then fails the play with the wait's own message (a CI job fails)
    "handle_failure.yml": (
        [{"resource_id": "db-broken", "timeline": {"RUNNING": 0.3}, "outcome": "FAIL"}],
        {"dbss_resource_id": "db-broken"}, False,
        ['"job_error_code": "%s"' % FAIL_CODE, '"kind": "failed"', "failed=1",
         'fatal: [localhost]: FAILED! => {"changed": false, "msg": "DBSS job ',
         "of resource db-broken ended in FAIL after"],
        "rescued=1", "aksk"),
    # the playbook of `make demo`: endpoint from HW_DBSS_ENDPOINT only
    "demo_gate.yml": (
        [{"resource_id": "db-demo", "timeline": {"RUNNING": 0.5}}],
        {"demo_resource_id": "db-demo"}, True, ["Audit instance db-demo is ready", "is SUCCESS"], "failed=0", "aksk"),
}
# handle_failure.yml must fail the play after its report: 2 is "a task failed".
EXIT_CODES = {"handle_failure.yml": 2}


@pytest.fixture(scope="module")
def collections_path(tmp_path_factory):
    """A collections folder whose hwcloud/dbss is this tree (ansible follows the link)."""
    base = tmp_path_factory.mktemp("collections")
    os.makedirs(str(base / "ansible_collections" / "hwcloud"))
    os.symlink(ROOT, str(base / "ansible_collections" / "hwcloud" / "dbss"))
    return str(base)


def run_example(name, url, collections, auth, extra_vars, verbose, tmp_path):
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith(("HW_", "OS_")))
    env.pop("PYTHONPATH", None)
    env.update(dict((key, value.format(url=url)) for key, value in AUTH_MODES[auth].items()))
    env.update({
        "HW_PROJECT_ID": PROJECT_ID,
        "HW_DBSS_ENDPOINT": url,  # for examples that take the endpoint from the environment only
        "ANSIBLE_COLLECTIONS_PATH": collections,
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_LOCALHOST_WARNING": "false",
    })
    extra = dict(extra_vars, dbss_endpoint=url)
    cmd = [executable("ansible-playbook"), os.path.join(EXAMPLES, name), "-e", json.dumps(extra)]
    if verbose:
        cmd.append("-v")
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=PLAYBOOK_TIMEOUT, check=False)
    return proc.returncode, proc.stdout


def secrets_of(auth):
    return [value for key, value in AUTH_MODES[auth].items() if key in ("HW_AUTH_TOKEN", "HW_SECRET_KEY", "HW_USER_PASSWORD")]


def test_every_example_is_exercised():
    found = sorted(os.path.basename(path) for path in glob.glob(os.path.join(EXAMPLES, "*.yml")))
    assert found == sorted(CASES), "docs/examples and CASES in this test differ: add a case for each example"


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs_against_the_emulator(name, start_emulator, collections_path, tmp_path):
    jobs, extra_vars, verbose, expected, recap, auth = CASES[name]
    emu = start_emulator("--example")
    if jobs:
        status, _body = emu.control("POST", "/jobs", {"jobs": jobs})
        assert status == 201
    code, out = run_example(name, emu.url, collections_path, auth, extra_vars, verbose, tmp_path)
    assert code == EXIT_CODES.get(name, 0), out
    assert recap in out, out
    for fragment in expected:
        assert fragment in out, "%r not in the output:\n%s" % (fragment, out)
    for secret in secrets_of(auth):
        assert secret not in out


@pytest.mark.parametrize("auth", sorted(AUTH_MODES))
def test_list_example_in_every_auth_mode(auth, start_emulator, collections_path, tmp_path):
    emu = start_emulator("--example")
    code, out = run_example("list_jobs.yml", emu.url, collections_path, auth, {}, False, tmp_path)
    assert code == 0, out
    assert "newest 8abf9647852a1daa01852e517e1a1a0b is SUCCESS" in out, out
    for secret in secrets_of(auth):
        assert secret not in out
