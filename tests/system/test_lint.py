# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ecosystem linters, each on a fresh copy of the tree at ansible_collections/hwcloud/dbss:
antsibull-docs (plugin and role docs), ansible-lint with the production profile (roles
and the example playbooks), antsibull-changelog (fragments and changelog.yaml, and
CHANGELOG.rst generated from them)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import subprocess

import pytest

import yaml

from support import ROOT, copy_ignore as _ignore, tools_executable

TIMEOUT = 600


@pytest.fixture
def collection(tmp_path):
    """(collection copy, environment with the copy importable and the tools first on PATH)."""
    base = str(tmp_path / "collections")
    tree = os.path.join(base, "ansible_collections", "hwcloud", "dbss")
    shutil.copytree(ROOT, tree, ignore=_ignore, symlinks=True)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["ANSIBLE_COLLECTIONS_PATH"] = base
    env["ANSIBLE_COLLECTIONS_SCAN_SYS_PATH"] = "false"
    env["ANSIBLE_NOCOLOR"] = "1"
    env["NO_COLOR"] = "1"
    env["HOME"] = str(tmp_path / "home")  # ansible-lint and ansible-galaxy caches stay in the test's folder
    os.makedirs(env["HOME"])
    return tree, env


def lint(tool, args, tree, env):
    path = tools_executable(tool)
    if not path:
        pytest.skip("%s is not installed (make tools-venv)" % tool)
    env = dict(env)
    # antsibull-docs runs ansible-doc and ansible-lint runs ansible-galaxy by name
    env["PATH"] = os.path.dirname(path) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run([path] + args, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=TIMEOUT, check=False)
    assert proc.returncode == 0, "%s %s failed (%d):\n%s" % (tool, " ".join(args), proc.returncode, proc.stdout)
    return proc.stdout


def test_antsibull_docs_lint_collection_docs(collection):
    tree, env = collection
    out = lint("antsibull-docs", ["lint-collection-docs", "--plugin-docs", "."], tree, env)
    assert "ERROR" not in out, out


def test_ansible_lint_production_on_roles_and_examples(collection):
    tree, env = collection
    examples = os.path.join(tree, "docs", "examples")
    assert os.path.isdir(os.path.join(tree, "roles")) and os.path.isdir(examples)
    out = lint("ansible-lint", ["--offline", "--profile", "production", "--nocolor", "roles/", "docs/examples/"], tree, env)
    assert "Profile 'production' was required, and it passed" in out, out


def test_antsibull_changelog_lint(collection):
    tree, env = collection
    out = lint("antsibull-changelog", ["lint"], tree, env)
    assert out.strip() == "", out  # lint prints nothing when everything is fine


def test_changelog_rst_is_generated_from_changelog_yaml(collection):
    tree, env = collection
    path = os.path.join(tree, "CHANGELOG.rst")
    with open(path) as handle:
        committed = handle.read()
    lint("antsibull-changelog", ["generate"], tree, env)
    with open(path) as handle:
        regenerated = handle.read()
    assert committed == regenerated, "CHANGELOG.rst is stale: run antsibull-changelog generate"


def test_changelog_has_the_galaxy_release():
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        version = str(yaml.safe_load(handle)["version"])
    with open(os.path.join(ROOT, "changelogs", "changelog.yaml")) as handle:
        changelog = yaml.safe_load(handle)
    release = changelog["releases"][version]
    assert release["changes"]["release_summary"]
    assert [module["name"] for module in release["modules"]] == ["dbss_audit_jobs_info"]
    assert [role["name"] for role in release["objects"]["role"]] == ["dbss_audit_job_wait"]
