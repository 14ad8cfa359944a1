# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Execution environments: ``ansible-builder create`` on a definition that installs the
built collection tarball, then the context's own galaxy and introspection steps (what
the image build runs) replayed locally: the Python requirements they produce name
requests and jmespath, from hwcloud.dbss. No container engine is needed."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os
import shutil
import sys

import pytest

import yaml

from support import ROOT, copy_ignore as _ignore, run_checked as run, tools_executable

TIMEOUT = 300


def _requirement_names(path):
    names = set()
    with open(path) as handle:
        for line in handle:
            line = line.split("#", 1)[0].strip()
            if line:
                for sep in ("[", "<", ">", "=", "!", "~", ";", " "):
                    line = line.split(sep, 1)[0]
                names.add(line.lower())
    return names


def test_ansible_builder_context_names_our_requirements(tmp_path):
    builder = tools_executable("ansible-builder")
    if not builder:
        pytest.skip("ansible-builder is not installed (make tools-venv)")
    galaxy = tools_executable("ansible-galaxy")
    assert galaxy, "ansible-galaxy not found"

    # 1. the artifact users put into their execution environment
    tree = str(tmp_path / "src" / "ansible_collections" / "hwcloud" / "dbss")
    shutil.copytree(ROOT, tree, ignore=_ignore, symlinks=True)
    dist = str(tmp_path / "dist")
    os.makedirs(dist)
    run([galaxy, "collection", "build", "--output-path", dist, tree])
    tarball = glob.glob(os.path.join(dist, "hwcloud-dbss-*.tar.gz"))[0]
    tarball_name = os.path.basename(tarball)

    # 2. an execution-environment definition (schema 3) that installs it
    definition = {
        "version": 3,
        "images": {"base_image": {"name": "quay.io/ansible/ansible-runner:latest"}},
        "dependencies": {
            "ansible_core": {"package_pip": "ansible-core"},
            "ansible_runner": {"package_pip": "ansible-runner"},
            "galaxy": {"collections": [{"name": "collections/" + tarball_name, "type": "file"}]},
        },
        "additional_build_files": [{"src": tarball, "dest": "collections"}],
    }
    ee_file = str(tmp_path / "execution-environment.yml")
    with open(ee_file, "w") as handle:
        yaml.safe_dump(definition, handle)
    context = str(tmp_path / "context")
    run([builder, "create", "--file", ee_file, "--context", context, "--output-filename", "Containerfile"],
        cwd=str(tmp_path))

    build_dir = os.path.join(context, "_build")
    with open(os.path.join(context, "Containerfile")) as handle:
        containerfile = handle.read()
    assert "introspect.py introspect" in containerfile
    assert os.path.isfile(os.path.join(build_dir, "collections", tarball_name))
    with open(os.path.join(build_dir, "requirements.yml")) as handle:
        assert yaml.safe_load(handle)["collections"] == [{"name": "collections/" + tarball_name, "type": "file"}]

    # 3. the image's galaxy stage: install from the context, exactly as its requirements say
    installed = str(tmp_path / "usr_share_ansible" / "collections")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["ANSIBLE_COLLECTIONS_PATH"] = installed
    run([galaxy, "collection", "install", "--offline", "-r", "requirements.yml", "--collections-path", installed],
        cwd=build_dir, env=env)

    # 4. the image's builder stage: the context's introspection script over what was installed
    pip_out = str(tmp_path / "requirements.txt")
    bindep_out = str(tmp_path / "bindep.txt")
    run([sys.executable, os.path.join(build_dir, "scripts", "introspect.py"), "introspect",
         "--write-pip", pip_out, "--write-bindep", bindep_out, installed])
    with open(pip_out) as handle:
        pip_text = handle.read()
    assert {"requests", "jmespath"} <= _requirement_names(pip_out), pip_text
    assert "hwcloud.dbss" in pip_text  # introspection credits the collection
    assert {"requests", "jmespath"} <= _requirement_names(os.path.join(ROOT, "requirements.txt"))
    with open(bindep_out) as handle:
        assert "ca-certificates" in handle.read()


def test_collection_metadata_points_at_the_requirement_files():
    with open(os.path.join(ROOT, "meta", "execution-environment.yml")) as handle:
        meta = yaml.safe_load(handle)
    assert meta["version"] == 1
    deps = meta["dependencies"]
    assert deps["python"] == "requirements.txt"
    assert deps["system"] == "bindep.txt"
    for rel in (deps["python"], deps["system"]):
        assert os.path.isfile(os.path.join(ROOT, rel)), rel
