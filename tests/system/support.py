# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Helpers shared by the system tests: where things are, how to run a tool,
and the collection's own controller-side task runner."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs_info import (
    JOBS_INFO_ARGUMENT_SPEC,
    JOBS_INFO_MODULE_KWARGS,
    jobs_info_task,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_options import run_as_task

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Never copied when a test builds a scratch copy of the repository.
NOT_COPIED = (".git", ".venv", "build", ".cache", ".pytest_cache", "__pycache__", ".ansible", "tests/output")


def run_task(args):
    """dbss_audit_jobs_info exactly as its action plugin runs it on the controller
    (validation, HW_* fallbacks, run, secrets masked). An exception that would reach
    the user as "unexpected error" fails the test."""
    result = run_as_task(JOBS_INFO_ARGUMENT_SPEC, JOBS_INFO_MODULE_KWARGS, args, jobs_info_task)
    if str(result.get("msg", "")).startswith("unexpected error"):
        pytest.fail("an unexpected exception escaped the task: %s" % result["msg"])
    result.setdefault("failed", False)
    return result


def save_figures(suite, figures):
    """Leave a reliability suite's figures where tools/reliability.py adds them up."""
    path = os.environ.get("DBSS_RELIABILITY_DIR") or os.path.join(ROOT, "build", "reliability")
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "%s.json" % suite), "w") as handle:
        json.dump(dict(figures, suite=suite), handle, sort_keys=True)


def clear_hw_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("HW_") or name == "OS_AUTH_TOKEN":
            monkeypatch.delenv(name)


def venv_executable(name):
    """A tool next to the running Python (the test venv), else on PATH; skips when absent."""
    path = os.path.join(os.path.dirname(sys.executable), name)
    if os.access(path, os.X_OK):
        return path
    found = shutil.which(name)
    if not found:
        pytest.skip("%s is not installed" % name)
    return found


def tools_executable(name):
    """ansible-lint, antsibull-*, ansible-builder: $HWCLOUD_DBSS_TOOLS_BIN, the repository's
    .venv/tools (walking up from a build copy), the test venv, then PATH; None if absent."""
    folders = [os.environ.get("HWCLOUD_DBSS_TOOLS_BIN", "")]
    here = ROOT
    while True:
        folders.append(os.path.join(here, ".venv", "tools", "bin"))
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    folders.append(os.path.dirname(sys.executable))
    for folder in folders:
        path = os.path.join(folder, name) if folder else ""
        if path and os.access(path, os.X_OK):
            return path
    return shutil.which(name)


def run_checked(cmd, timeout=300, **kwargs):
    """Run a command; its combined output, or a failed assertion that shows it."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=timeout, check=False, **kwargs)
    assert proc.returncode == 0, "%s failed (%d):\n%s" % (" ".join(cmd), proc.returncode, proc.stdout)
    return proc.stdout


def copy_ignore(directory, names):
    """shutil.copytree ignore function for a scratch copy of ROOT."""
    rel = os.path.relpath(directory, ROOT)
    return set(name for name in names
               if (name if rel == "." else os.path.join(rel, name)) in NOT_COPIED
               or name in ("__pycache__", ".pytest_cache") or name.endswith(".tar.gz"))
