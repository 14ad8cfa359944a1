# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the reliability suites (fault matrix, soak, bad input, secret leaks, hostile server) and print their figures.

    python tools/reliability.py [--python PY] [--memory-only | --no-memory] [pytest args...]

Runs tests/system/test_fault_matrix.py, test_soak.py, test_bad_input.py,
test_security.py and test_hostile.py with pytest against the DBSS emulator and
the hostile server, then aggregates the JSON figures the tests write to
build/reliability/ (emptied first). Those figures are counts of cases, never
timings, so a clean clone prints the same ones as docs/reliability.md. The
soak's seed and size follow DBSS_SOAK_SEED and DBSS_SOAK_WAITS (defaults in
tests/system/test_soak.py).

Then it measures one figure that is not a count: the peak memory of the
controller while ansible-playbook runs dbss_audit_jobs_info against each
answer of tests/system/hostile.py that could take memory (gzip and deflate
bombs, endless and oversized bodies, deep nesting, huge numbers), on the
module route (a connection that is not ``local``) and on the action route
(``local``). Each case is a fresh ansible-playbook run; its peak is the
largest resident set of any process of its tree (``ru_maxrss`` from
``wait4``, which covers every descendant it waited for, and ``VmHWM``
sampled every 50 ms); a run past 1.5 GB is stopped. --memory-only runs just
this; --no-memory skips it.

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
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "build", "reliability")
SUITES = ("test_fault_matrix.py", "test_soak.py", "test_bad_input.py", "test_security.py", "test_hostile.py")
SYSTEM_TESTS = os.path.join(ROOT, "tests", "system")

# The answers of tests/system/hostile.py that could take memory, and one plain
# answer for the baseline (what ansible-playbook and the module take anyway).
MEMORY_CASES = ("ok", "gzip-bomb", "deflate-bomb", "gzip-bomb-chunked", "endless-chunked", "big-length",
                "big-close", "deep-nest", "huge-int", "huge-float", "many-values", "many-details")
MEMORY_ROUTES = (("module", "hostile_remote"), ("action", "local"))
MEMORY_BAR_MB = 300
MEMORY_STOP_MB = 1536


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
    hostile = load("hostile")
    cases, waits = matrix.get("cases", 0), soak.get("waits_run", 0)
    notes = {
        "faults": "%s in the fault matrix (%s cases) + %s in the soak" % (matrix.get("faults_tried", 0), cases, soak.get("faults_tried", 0)),
        "waits": "%s in the fault matrix + %s in the soak (seed %s)" % (matrix.get("waits_run", 0), waits, soak.get("seed", "-")),
        "verdicts": "of %s (%s fault-matrix cases + %s soak waits)" % (cases + waits, cases, waits),
        "bad": "each in-process and through ansible-playbook (%s runs)" % bad.get("bad_input_runs", 0),
        "requests": "emulator log + any outgoing connection",
        "secrets": "%s outputs scanned for 7 secret values (%s checks)" % (security.get("outputs_scanned", 0), security.get("secret_checks", 0)),
        "hostile": "%s runs of hostile answers (both routes)" % hostile.get("runs", 0),
        "echoed": "%s outputs scanned for every 8-character run of echoed secrets (%s checks)" % (
            hostile.get("outputs_scanned", 0), hostile.get("secret_checks", 0)),
    }
    return [
        ("faults tried", matrix.get("faults_tried", 0) + soak.get("faults_tried", 0), notes["faults"]),
        ("waits run", matrix.get("waits_run", 0) + waits, notes["waits"]),
        ("verdicts right", matrix.get("verdicts_right", 0) + soak.get("verdicts_right", 0), notes["verdicts"]),
        ("bad inputs tried", bad.get("bad_inputs_tried", 0), notes["bad"]),
        ("requests sent on bad input", bad.get("requests_sent_on_bad_input", 0), notes["requests"]),
        ("secrets leaked", security.get("secrets_leaked", 0), notes["secrets"]),
        ("hostile answers tried", hostile.get("answers_tried", 0), notes["hostile"]),
        ("echoed secrets leaked", hostile.get("secrets_leaked", 0), notes["echoed"]),
    ]


def measure_memory(python, coll):
    """Peak controller memory per memory-hostile answer and route: a list of
    (case, route, peak MB of the whole tree, peak MB of the process that read
    the answer, how the run ended)."""
    sys.path.insert(0, SYSTEM_TESTS)
    # stdlib only; it lives with the tests
    import hostile  # pylint: disable=import-outside-toplevel

    binary = os.path.join(os.path.dirname(python), "ansible-playbook")
    if not os.path.exists(binary):
        binary = shutil.which("ansible-playbook")
    if binary is None:
        print("reliability: no ansible-playbook next to %s: peak memory not measured" % python)
        return []
    server = hostile.HostileServer()
    hostile.bomb("gzip")
    rows = []
    try:
        for case in MEMORY_CASES:
            for route, connection in MEMORY_ROUTES:
                directory = tempfile.mkdtemp(prefix="dbss-memory-", dir=OUT)
                args = dict(endpoint=server.url, project_id=hostile.PROJECT_ID, auth_token="memory-token-0123456789",
                            resource_id="%s.m-%s" % (case, route), timeout=10, max_retries=1)
                task = {"name": case, "hwcloud.dbss.dbss_audit_jobs_info": args, "register": "r_case",
                        "ignore_errors": True}
                path, inventory = hostile.write_playbook(directory, "memory", [("play", connection, "all", [task])])
                outcome = hostile.run_watched([binary, "-i", inventory, path], cwd=directory, timeout=180,
                                              env=hostile.playbook_env(directory, python, coll),
                                              rss_limit_mb=MEMORY_STOP_MB)
                ended = outcome["killed"] and "stopped: %s" % outcome["killed"] or (
                    "exit %d" % outcome["returncode"])
                if "Traceback" in outcome["stdout"] + outcome["stderr"]:
                    ended += ", Traceback"
                # the process that read the answer: the module (module route) or a forked worker (action route)
                reader = outcome["peaks_mb"].get("module" if route == "module" else "worker", 0.0)
                rows.append((case, route, outcome["peak_mb"], reader, ended))
                print("  %-18s %-7s %8.1f MB %8.1f MB   %s" % (case, route, outcome["peak_mb"], reader, ended), flush=True)
                shutil.rmtree(directory, ignore_errors=True)
    finally:
        server.close()
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--python", help="interpreter with ansible-core, requests, jmespath, pytest")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--memory-only", action="store_true", help="only measure the peak controller memory")
    which.add_argument("--no-memory", action="store_true", help="do not measure the peak controller memory")
    args, pytest_args = parser.parse_known_args(argv)
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    env = dict(os.environ)
    coll = collections_path()
    env["ANSIBLE_COLLECTIONS_PATH"] = coll
    env["PYTHONPATH"] = coll + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["DBSS_RELIABILITY_DIR"] = OUT
    python = interpreter(args.python)
    code = 0
    saved = {}
    if not args.memory_only:
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
        saved.update((name, value) for name, value, _n in rows)
        print("pytest exit status: %d" % code)
    if not args.no_memory:
        print("")
        print("peak controller memory per answer and route: the largest process of the ansible-playbook run, "
              "then the process that read the answer")
        measured = measure_memory(python, coll)
        if measured:
            hostile_rows = [row for row in measured if row[0] != "ok"]
            worst = max(hostile_rows, key=lambda row: (row[2], row[3]))
            plain = [row for row in measured if row[0] == "ok"]
            print("peak controller memory: %.1f MB (%s, %s route; the process that read it: %.1f MB); bar %d MB: %s%s" % (
                worst[2], worst[0], worst[1], worst[3], MEMORY_BAR_MB,
                "under" if worst[2] < MEMORY_BAR_MB and not worst[4].startswith("stopped") else "OVER",
                "" if not plain else "; a plain answer: %.1f MB" % max(row[2] for row in plain)))
            saved["peak controller memory (MB)"] = worst[2]
            saved["peak controller memory case"] = "%s, %s route" % (worst[0], worst[1])
            saved["peak controller memory per case"] = dict(
                ("%s/%s" % (case, route), {"tree_mb": mb, "reader_mb": reader, "ended": ended})
                for case, route, mb, reader, ended in measured)
    with open(os.path.join(OUT, "figures.json"), "w") as handle:
        json.dump(saved, handle, indent=1, sort_keys=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
