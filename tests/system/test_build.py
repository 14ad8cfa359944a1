# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Galaxy artifact: built from a copy of the tree with local clutter planted in it,
it holds the collection and the emulator (tests/emulator, for offline rehearsal) and
nothing else of tests/, tools/, the Makefile, .ci, build/ or any dotfile; installed into
an empty folder, ansible-doc renders the module and the role with every option, and the
emulator starts from the installed copy as README.md says."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import shutil
import subprocess
import sys
import tarfile

import pytest

import yaml

from support import ROOT, copy_ignore as _ignore, run_checked as run, venv_executable as executable

TIMEOUT = 300
MODULE = "hwcloud.dbss.dbss_audit_jobs_info"
ROLE = "hwcloud.dbss.dbss_audit_job_wait"

# Never copied into the build tree (big, or recreated below as planted clutter).

# What a developer's tree typically holds besides the collection; none of it may ship.
CLUTTER = (
    ".venv/bin/python",
    ".cache/pip/x",
    ".pytest_cache/v/cache/nodeids",
    ".git/HEAD",
    "build/docs/index.html",
    "build/collections/ansible_collections/hwcloud/dbss/galaxy.yml",
    "tests/output/junit/result.xml",
    "plugins/module_utils/__pycache__/dbss_client.cpython-311.pyc",
    "tests/emulator/__pycache__/app.cpython-311.pyc",
    "hwcloud-dbss-0.0.1.tar.gz",
    ".ansible/tmp/x",
    "docs/.DS_Store",
    "tests/emulator/.coverage",
)
# Prefixes (or exact names) that must not appear in the tarball.
FORBIDDEN = (".venv/", ".cache/", ".pytest_cache/", ".git/", ".git", "build/", "tests/output/", "tools/", "Makefile",
             ".ci/", ".gitignore", ".ansible-lint", ".ansible/", "hwcloud-dbss-0.0.1.tar.gz",
             "tests/unit/", "tests/integration/", "tests/system/")
# The one part of tests/ that ships: the emulator, for users' offline rehearsal.
SHIPPED_TESTS = "tests/emulator/"
EMULATOR = ("tests/emulator/__init__.py", "tests/emulator/__main__.py", "tests/emulator/app.py",
            "tests/emulator/server.py", "tests/emulator/iam.py", "tests/emulator/jobs.py")
REQUIRED = ("MANIFEST.json", "FILES.json", "README.md", "meta/runtime.yml", "meta/execution-environment.yml",
            "requirements.txt", "bindep.txt", "plugins/modules/dbss_audit_jobs_info.py",
            "plugins/action/dbss_audit_jobs_info.py", "plugins/doc_fragments/dbss.py",
            "roles/dbss_audit_job_wait/meta/argument_specs.yml", "roles/dbss_audit_job_wait/tasks/main.yml",
            "changelogs/changelog.yaml", "docs/guide.md")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(tarball path, sorted member names) of a build of a cluttered copy of the tree."""
    base = tmp_path_factory.mktemp("build")
    tree = str(base / "ansible_collections" / "hwcloud" / "dbss")
    shutil.copytree(ROOT, tree, ignore=_ignore, symlinks=True)
    for rel in CLUTTER:
        path = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write("clutter\n")
    out = str(base / "out")
    os.makedirs(out)
    run([executable("ansible-galaxy"), "collection", "build", "--output-path", out, tree])
    tarballs = glob.glob(os.path.join(out, "hwcloud-dbss-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    with tarfile.open(tarballs[0]) as tar:
        names = sorted(_member_name(member.name) for member in tar.getmembers())
    return tarballs[0], names


def _member_name(name):
    """A tar member's path without a leading './' (a leading dot of a dotfile stays)."""
    return name[2:] if name.startswith("./") else name


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory):
    """ANSIBLE_COLLECTIONS_PATH-style folder with only the built collection installed."""
    dest = str(tmp_path_factory.mktemp("installed"))
    run([executable("ansible-galaxy"), "collection", "install", "--offline", "-p", dest, built[0]],
        env=_isolated_env(dest))
    assert os.path.isfile(os.path.join(dest, "ansible_collections", "hwcloud", "dbss", "MANIFEST.json"))
    return dest


def _isolated_env(collections_path):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the test run may put the source tree there; ansible must not see it
    env["ANSIBLE_COLLECTIONS_PATH"] = collections_path
    env["ANSIBLE_COLLECTIONS_SCAN_SYS_PATH"] = "false"
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


def test_tarball_holds_no_local_clutter(built):
    _tarball, names = built
    bad = [name for name in names
           if any(name == prefix.rstrip("/") or name.startswith(prefix) for prefix in FORBIDDEN)
           or "__pycache__" in name.split("/") or name.endswith((".pyc", ".tar.gz"))]
    assert not bad, "the tarball holds files that are not part of the collection: %s" % bad


def test_tarball_holds_no_dotfile(built):
    _tarball, names = built
    bad = [name for name in names if any(part.startswith(".") for part in name.split("/"))]
    assert not bad, "the tarball holds dotfiles: %s" % bad


def test_tarball_ships_the_emulator_and_no_other_tests(built):
    _tarball, names = built
    missing = [name for name in EMULATOR if name not in names]
    assert not missing, "the tarball lacks the emulator's %s" % missing
    others = [name for name in names if name.startswith("tests/") and not name.startswith(SHIPPED_TESTS)
              and name != SHIPPED_TESTS.rstrip("/")]
    assert not others, "only tests/emulator may ship, not %s (add them to build_ignore in galaxy.yml)" % others


def test_installed_emulator_starts(installed):
    """README.md: PYTHONPATH=<collections path>/ansible_collections/hwcloud/dbss/tests python -m emulator"""
    env = _isolated_env(installed)
    env["PYTHONPATH"] = os.path.join(installed, "ansible_collections", "hwcloud", "dbss", "tests")
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "--example"], cwd=installed, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    try:
        first = proc.stdout.readline().strip()
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert first.startswith("http://127.0.0.1:"), (first, err)


def test_tarball_holds_the_collection(built):
    _tarball, names = built
    missing = [name for name in REQUIRED if name not in names]
    assert not missing, "the tarball lacks %s" % missing


def test_manifest_names_the_collection(built):
    tarball, _names = built
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        galaxy = yaml.safe_load(handle)
    assert (info["namespace"], info["name"], info["version"]) == (galaxy["namespace"], galaxy["name"], galaxy["version"])


def _option_names(spec, prefix=""):
    for name, value in spec.items():
        yield prefix + name
        value = value or {}
        for sub in ("options", "suboptions"):
            if value.get(sub):
                yield from _option_names(value[sub], prefix + name + ".")


def test_installed_module_doc_renders_every_option(installed):
    env = _isolated_env(installed)
    text = run([executable("ansible-doc"), MODULE], env=env)
    data = json.loads(run([executable("ansible-doc"), "--json", MODULE], env=env))
    doc = data[MODULE]["doc"]
    options = sorted(_option_names(doc["options"]))
    assert len(options) > 20, options  # the module's own options and the shared doc fragment
    for name in ("resource_id", "resource_ids", "wait", "wait_timeout", "auth_token", "access_key", "project_id"):
        assert name in options
    missing = [name for name in options if name.split(".")[-1] not in text]
    assert not missing, "ansible-doc output does not mention %s" % missing
    assert doc["collection"] == "hwcloud.dbss"
    assert os.path.realpath(doc["filename"]).startswith(os.path.realpath(installed))


def test_installed_role_doc_renders_every_option(installed):
    env = _isolated_env(installed)
    text = run([executable("ansible-doc"), "-t", "role", ROLE], env=env)
    with open(os.path.join(ROOT, "roles", "dbss_audit_job_wait", "meta", "argument_specs.yml")) as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    options = sorted(set(_option_names(specs["main"]["options"])))
    missing = [name for name in options if name.split(".")[-1] not in text]
    assert not missing, "ansible-doc -t role output does not mention %s" % missing
