# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the reliability suites (fault matrix, soak, bad input, secret leaks) and print their figures.

    python tools/reliability.py [--python PY] [pytest args...]

Runs tests/system/test_fault_matrix.py, test_soak.py, test_bad_input.py and
test_security.py with pytest against the DBSS emulator, then aggregates the
JSON figures the tests write to build/reliability/ (emptied first). The
figures are counts of cases, never timings, so a clean clone prints the same
ones as docs/reliability.md. The soak's seed and size follow DBSS_SOAK_SEED and
DBSS_SOAK_WAITS (defaults in tests/system/test_soak.py).

The collection is imported from ANSIBLE_COLLECTIONS_PATH when it is set (as
under ``make test``); otherwise from a symlink tree under build/reliability/
that points at this checkout. The interpreter is --python, else
.venv/ansible-2.19/bin/python when ``make setup`` made it, else this one.
Exit status: pytest's (0 when every test passed).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "build", "reliability")
SUITES = ("test_fault_matrix.py", "test_soak.py", "test_bad_input.py", "test_security.py")


def collections_path():
    given = os.environ.get("ANSIBLE_COLLECTIONS_PATH")
    if given:
        return given
    base = os.path.join(OUT, "collections")
    link = os.path.join(base, "ansible_collections", "hwcloud", "dbss")
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if not os.path.islink(link):
        os.symlink(ROOT, link)
    return base


def interpreter(choice):
    if choice:
        return choice
    venv = os.path.join(ROOT, ".venv", "ansible-2.19", "bin", "python")
    return venv if os.path.exists(venv) else sys.executable


def load(name):
    path = os.path.join(OUT, name + ".json")
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        return json.load(handle)


def figures():
    matrix, soak, bad, security = load("fault_matrix"), load("soak"), load("bad_input"), load("security")
    cases, waits = matrix.get("cases", 0), soak.get("waits_run", 0)
    notes = {
        "faults": "%s in the fault matrix (%s cases) + %s in the soak" % (matrix.get("faults_tried", 0), cases, soak.get("faults_tried", 0)),
        "waits": "%s in the fault matrix + %s in the soak (seed %s)" % (matrix.get("waits_run", 0), waits, soak.get("seed", "-")),
        "verdicts": "of %s (%s fault-matrix cases + %s soak waits)" % (cases + waits, cases, waits),
        "bad": "each in-process and through ansible-playbook (%s runs)" % bad.get("bad_input_runs", 0),
        "requests": "emulator log + any outgoing connection",
        "secrets": "%s outputs scanned for 7 secret values (%s checks)" % (security.get("outputs_scanned", 0), security.get("secret_checks", 0)),
    }
    return [
        ("faults tried", matrix.get("faults_tried", 0) + soak.get("faults_tried", 0), notes["faults"]),
        ("waits run", matrix.get("waits_run", 0) + waits, notes["waits"]),
        ("verdicts right", matrix.get("verdicts_right", 0) + soak.get("verdicts_right", 0), notes["verdicts"]),
        ("bad inputs tried", bad.get("bad_inputs_tried", 0), notes["bad"]),
        ("requests sent on bad input", bad.get("requests_sent_on_bad_input", 0), notes["requests"]),
        ("secrets leaked", security.get("secrets_leaked", 0), notes["secrets"]),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--python", help="interpreter with ansible-core, requests, jmespath, pytest")
    args, pytest_args = parser.parse_known_args(argv)
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    env = dict(os.environ)
    coll = collections_path()
    env["ANSIBLE_COLLECTIONS_PATH"] = coll
    env["PYTHONPATH"] = coll + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["DBSS_RELIABILITY_DIR"] = OUT
    python = interpreter(args.python)
    command = [python, "-m", "pytest", "-p", "no:cacheprovider", "-q"] + [os.path.join("tests", "system", s) for s in SUITES]
    command += pytest_args
    print("reliability: %s" % " ".join(command), flush=True)
    code = subprocess.call(command, cwd=ROOT, env=env)
    rows = figures()
    print("")
    print("reliability figures")
    width = max(len(name) for name, _v, _n in rows)
    for name, value, note in rows:
        print("  %-*s  %6s   %s" % (width, name, value, note))
    with open(os.path.join(OUT, "figures.json"), "w") as handle:
        json.dump(dict((name, value) for name, value, _n in rows), handle, indent=1, sort_keys=True)
    print("pytest exit status: %d" % code)
    return code


if __name__ == "__main__":
    sys.exit(main())
