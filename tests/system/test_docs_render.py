# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The docs site renders: tools/docs.py builds the module and role reference with
antsibull-docs and Sphinx (HTML) and fails when any option is missing from it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from support import ROOT, run_checked, tools_executable


def test_reference_docs_render_with_every_option(tmp_path):
    python = tools_executable("python")
    if python is None or tools_executable("antsibull-docs") is None:
        pytest.skip("the tools venv (antsibull-docs, sphinx) is not installed")
    output = run_checked([python, os.path.join(ROOT, "tools", "docs.py"), "--dest", str(tmp_path / "docs")], timeout=600, cwd=ROOT)
    html = tmp_path / "docs" / "build" / "html"
    assert html.is_dir(), output
    pages = [p.name for p in html.rglob("*.html")]
    assert "dbss_audit_jobs_info_module.html" in pages and "dbss_audit_job_wait_role.html" in pages, pages
