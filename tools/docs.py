# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the module and role reference of hwcloud.dbss with antsibull-docs, then check it.

Usage: python3 tools/docs.py [--dest DIR] [--rst-only]

1. ``antsibull-docs sphinx-init --use-current`` writes a Sphinx project into DIR
   (default build/docs), then ``antsibull-docs collection`` renders reST from the
   plugin DOCUMENTATION and the role's meta/argument_specs.yml (nothing is written
   twice), and ``sphinx-build`` turns it into HTML (DIR/build/html) unless --rst-only.
2. Every option of every module (as ansible-doc reports it, doc fragments included)
   and of every role entry point (from meta/argument_specs.yml) must have its anchor
   in the generated reST and, when built, in the HTML. A missing one fails the run.

Tools are taken from $HWCLOUD_DBSS_TOOLS_BIN, else .venv/tools/bin, else PATH.
The collection is made importable through a temporary ansible_collections/hwcloud/dbss
link to the repository, so nothing is copied and build/ stays the only output.
Offline by default: intersphinx is switched off (the machines cannot reach
docs.ansible.com) and only the references into the Ansible docs that it would
have resolved are tolerated; set HWCLOUD_DBSS_DOCS_INTERSPHINX=1 to keep it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEP_TIMEOUT = 600

OFFLINE_CONF = """

# --- added by tools/docs.py: offline build -------------------------------------------
# No intersphinx inventories can be fetched here; references into the Ansible docs
# (for example to common_return_values) stay plain text instead of failing -W.
intersphinx_mapping = {}
suppress_warnings = ['ref.ref']
"""


def tool(name):
    """Path of a tool: $HWCLOUD_DBSS_TOOLS_BIN, then .venv/tools/bin, then PATH."""
    candidates = []
    if os.environ.get("HWCLOUD_DBSS_TOOLS_BIN"):
        candidates.append(os.environ["HWCLOUD_DBSS_TOOLS_BIN"])
    candidates.append(os.path.join(ROOT, ".venv", "tools", "bin"))
    for folder in candidates:
        path = os.path.join(folder, name)
        if os.access(path, os.X_OK):
            return path
    found = shutil.which(name)
    if not found:
        sys.exit("docs: %s not found (set HWCLOUD_DBSS_TOOLS_BIN or run `make tools-venv`)" % name)
    return found


def galaxy_name():
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        galaxy = yaml.safe_load(handle)
    return galaxy["namespace"], galaxy["name"]


def run(cmd, env, cwd=None):
    print("docs: $ %s" % " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, env=env, cwd=cwd, timeout=STEP_TIMEOUT, check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout)
        sys.exit("docs: command failed with exit code %d: %s" % (proc.returncode, " ".join(cmd)))
    # antsibull-docs reports broken plugin docs as non-fatal errors and writes an error page
    if re.search(r"^ERROR:antsibull", proc.stdout, re.MULTILINE):
        sys.stdout.write(proc.stdout)
        sys.exit("docs: antsibull-docs reported errors (see above)")
    return proc.stdout


def option_paths(options, prefix=""):
    """Anchor suffixes of every option and suboption: ``a``, ``a/b``."""
    for name, spec in sorted((options or {}).items()):
        path = prefix + name
        yield path
        spec = spec or {}
        yield from option_paths(spec.get("suboptions") or spec.get("options"), path + "/")


def expected_anchors(env, fqcn_prefix):
    """{(kind, name): [(option path, anchor id), ...]} for every module and role."""
    expected = {}
    listing = json.loads(run([tool("ansible-doc"), "--list", "--json", "-t", "module", fqcn_prefix], env))
    for fqcn in sorted(listing):
        data = json.loads(run([tool("ansible-doc"), "--json", "-t", "module", fqcn], env))
        doc = data[fqcn]["doc"]
        expected[("module", fqcn)] = [(path, "parameter-" + path) for path in option_paths(doc.get("options"))]
    roles_dir = os.path.join(ROOT, "roles")
    for role in sorted(os.listdir(roles_dir)) if os.path.isdir(roles_dir) else []:
        spec_file = os.path.join(roles_dir, role, "meta", "argument_specs.yml")
        if not os.path.isfile(spec_file):
            sys.exit("docs: role %s has no meta/argument_specs.yml; its reference cannot be generated" % role)
        with open(spec_file) as handle:
            specs = yaml.safe_load(handle)["argument_specs"]
        anchors = []
        for entry_point, spec in sorted(specs.items()):
            for path in option_paths(spec.get("options")):
                anchors.append(("%s:%s" % (entry_point, path), "parameter-%s--%s" % (entry_point, path)))
        expected[("role", "%s.%s" % (fqcn_prefix, role))] = anchors
    return expected


def check(expected, rst_dir, html_dir):
    """Names of anchors missing from the generated files; prints a summary."""
    problems = []
    total = 0
    for (kind, fqcn), anchors in sorted(expected.items()):
        short = fqcn.split(".")[-1]
        rel = os.path.join("collections", *fqcn.split(".")[:-1])
        outputs = [os.path.join(rst_dir, rel, "%s_%s.rst" % (short, kind))]
        if html_dir:
            outputs.append(os.path.join(html_dir, rel, "%s_%s.html" % (short, kind)))
        for output in outputs:
            if not os.path.isfile(output):
                problems.append("%s %s: %s was not generated" % (kind, fqcn, output))
                continue
            with open(output, encoding="utf-8") as handle:
                text = handle.read()
            for path, anchor in anchors:
                total += 1
                if 'id="%s"' % anchor not in text:
                    problems.append("%s %s: option %s missing from %s" % (kind, fqcn, path, os.path.relpath(output, ROOT)))
        print("docs: %s %s: %d options" % (kind, fqcn, len(anchors)))
    print("docs: checked %d option anchors in %d documents" % (total, len(expected)))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dest", default=os.path.join(ROOT, "build", "docs"), help="output folder (default build/docs)")
    parser.add_argument("--rst-only", action="store_true", help="generate reST only, no HTML")
    args = parser.parse_args()

    namespace, name = galaxy_name()
    fqcn_prefix = "%s.%s" % (namespace, name)
    dest = os.path.abspath(args.dest)
    collections = tempfile.mkdtemp(prefix="hwcloud-dbss-docs-")
    try:
        os.makedirs(os.path.join(collections, "ansible_collections", namespace))
        os.symlink(ROOT, os.path.join(collections, "ansible_collections", namespace, name))
        env = dict(os.environ)
        env["ANSIBLE_COLLECTIONS_PATH"] = collections
        env["ANSIBLE_COLLECTIONS_SCAN_SYS_PATH"] = "false"
        # antsibull-docs calls ansible-doc / ansible by name
        env["PATH"] = os.path.dirname(tool("antsibull-docs")) + os.pathsep + env.get("PATH", "")

        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        run([tool("antsibull-docs"), "sphinx-init", "--use-current", "--dest-dir", dest, fqcn_prefix], env)
        if os.environ.get("HWCLOUD_DBSS_DOCS_INTERSPHINX") != "1":
            with open(os.path.join(dest, "conf.py"), "a") as handle:
                handle.write(OFFLINE_CONF)
        rst_dir = os.path.join(dest, "rst")
        os.chmod(rst_dir, 0o755)
        run([tool("antsibull-docs"), "--config-file", os.path.join(dest, "antsibull-docs.cfg"), "collection",
             "--cleanup", "everything", "--use-current", "--dest-dir", rst_dir, fqcn_prefix], env)
        html_dir = None
        if not args.rst_only:
            run([tool("sphinx-build"), "-M", "html", rst_dir, os.path.join(dest, "build"), "-c", dest, "-W", "--keep-going", "-q"],
                env)
            html_dir = os.path.join(dest, "build", "html")

        problems = check(expected_anchors(env, fqcn_prefix), rst_dir, html_dir)
    finally:
        shutil.rmtree(collections, ignore_errors=True)
    if problems:
        for problem in problems:
            print("docs: " + problem)
        return 1
    html_note = "; HTML in %s/index.html" % os.path.relpath(html_dir, ROOT) if html_dir else ""
    print("docs: reST in %s%s" % (os.path.relpath(rst_dir, ROOT), html_note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
