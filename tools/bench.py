# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench: the dbss_audit_job_wait role against a hand-written uri + until loop.

Usage: .venv/ansible-2.19/bin/python tools/bench.py [--only a,b,c,d] [--seed N] [--repeat-a N] [--json FILE]
                                                    [--role-var NAME=VALUE ...] [--poll-interval S]

Scenarios, each against a fresh local emulator (tests/emulator):
  a  one job that ends 20 s after it is created                      role and baseline
  b  50 resources whose jobs end at seeded random times within 30 s  role, baseline and idle
  c  500 resources whose jobs end within 30 s                        role only
  d  20 resources whose jobs end at seeded random times in 60-120 s,
     behind the gateway's quota of 60 requests a minute per project  role only

In (b) a third playbook, "idle" (tools/bench/idle.yml), only pauses as long as the jobs take
and sends no request: ansible-playbook's own cost of waiting that long, the floor under
any gate. Its CPU / the baseline's is printed beside the role's.

Scenario (a) is run --repeat-a times (default 3) per method, alternating, and its figures
are the means: one run's gate latency depends on where the baseline's fixed 5 s polling
phase happens to fall, anywhere from 0 to 5 s.

Every job goes INIT (10 % of its time) -> READY (10 %) -> RUNNING (80 %) -> SUCCESS.
The jobs are created, then ansible-playbook starts at once (tools/bench/role.yml or
tools/bench/baseline.yml, authenticated with a token from HW_AUTH_TOKEN).

Figures per run:
  wall s      ansible-playbook start to exit
  requests    DBSS API requests the emulator answered (its counters)
  cpu s       user + system CPU of ansible-playbook and every process it waited for
              (forked workers, AnsiballZ module runs): os.wait4() rusage of the playbook
  rss MB      peak of the summed RSS of ansible-playbook and all its descendants, sampled
              every 50 ms from /proc (an upper bound: pages shared by forked workers count
              once per process)
  pss MB      the same sum with PSS (shared pages divided among their sharers), closer to
              what the controller really uses; informational
  latency s   gate latency: when the playbook's next task ran (a timestamp it prints right
              after the gate) minus the end_time of the last job to finish

Acceptance bars: (b) role latency <= 0.2 x baseline and role CPU <= 0.1 x baseline;
(a) role latency <= baseline and role requests <= baseline + 3; (c) succeeds with peak
RSS < 300 MB; (d) no failed task and under 10 % of the requests throttled (429 APIGW.0308,
counted in the emulator's request log). Prints PASS/FAIL for each; exits 1 if any fails (2 on a set-up error).

The role runs with the module's DEFAULT wait settings (wait_sleep 2 s, wait_max_sleep 4 s,
wait_max_rps 10, wait_timeout 1800 s). --role-var sleep=5 (repeatable) passes
dbss_audit_job_wait_sleep=5 to the role instead, to try other settings; the header says so.

Set-up is done here (tools/setup_venvs.sh ansible-2.19, tools/prepare_build.sh);
DBSS_COLLECTIONS_PATH=/path/to/collections uses that collection tree instead of the build copy.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench_measure import BenchError, run_playbook
from bench_report import acceptance, aggregate, print_table, ratio

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools")
BENCH = os.path.join(TOOLS, "bench")
VENV = os.path.join(os.environ.get("HARNESS_VENVS", os.path.join(ROOT, ".venv")), "ansible-2.19")
PROJECT_ID = "0123456789abcdef0123456789abcdef"
TOKEN = "bench-token"  # accepted by the emulator because it is given with --token
FAILED_RE = re.compile(r"\bfailed=([0-9]+)")
# Emulator options per scenario: (d) runs behind the per-project quota of Huawei's gateway.
EMULATOR_ARGS = {"c": ("--instance-delay", "60"), "d": ("--requests-per-minute", "60")}
GATE_RE = re.compile(r"bench-gate-end ([0-9]+(?:\.[0-9]+)?)")
PHASES = (("INIT", 0.1), ("READY", 0.1), ("RUNNING", 0.8))


# -- set-up -------------------------------------------------------------------

def setup(collections):
    """The harness's own set-up: the venv, then the build copy (unless given a path)."""
    subprocess.run(["bash", os.path.join(TOOLS, "setup_venvs.sh"), "ansible-2.19"], cwd=ROOT, check=True)
    if collections:
        print("using collections from %s (DBSS_COLLECTIONS_PATH)" % collections)
        return collections
    out = subprocess.run(["bash", os.path.join(TOOLS, "prepare_build.sh")], cwd=ROOT, check=True,
                         stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()
    dest = out[-1]
    print(out[0] if len(out) > 1 else "build copy ready")
    marker = os.sep + "ansible_collections" + os.sep
    return dest[:dest.index(marker)]


# -- the emulator ---------------------------------------------------------------

class Emulator:
    def __init__(self, python, workdir, args=()):
        self.python = python
        self.args = list(args)
        self.workdir = workdir
        self.proc = None
        self.url = None

    def start(self):
        port_file = os.path.join(self.workdir, "emulator.port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "tests"))
        self.proc = subprocess.Popen(
            [self.python, "-m", "emulator", "--host", "127.0.0.1", "--port", "0", "--port-file", port_file,
             "--token", TOKEN] + self.args,
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError("the emulator exited at start: %s" % self.proc.stderr.read().decode(errors="replace"))
            if os.path.exists(port_file):
                with open(port_file) as handle:
                    port = handle.read().strip()
                if port:
                    self.url = "http://127.0.0.1:%s" % port
                    self.control("GET", "/_emulator/health")
                    return self
            time.sleep(0.05)
        raise BenchError("the emulator wrote no port file within 15 s")

    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read().decode())

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None


# -- measuring a process tree ---------------------------------------------------

# -- scenarios ------------------------------------------------------------------

def job_descriptions(resource_ids, seconds):
    jobs = []
    for rid, total in zip(resource_ids, seconds):
        timeline = dict((state, round(total * share, 3)) for state, share in PHASES)
        jobs.append({"project_id": PROJECT_ID, "resource_id": rid, "timeline": timeline})
    return jobs


def scenarios(seed):
    rng = random.Random(seed)
    ids_b = ["bench-b-%03d" % i for i in range(50)]
    ids_c = ["bench-c-%03d" % i for i in range(500)]
    ids_d = ["bench-d-%03d" % i for i in range(20)]
    return [
        ("a", "1 job ending after 20 s", ["bench-a-000"], [20.0], ("role", "baseline")),
        ("b", "50 jobs ending at seeded random times within 30 s", ids_b,
         [round(rng.uniform(1.0, 30.0), 3) for dummy in ids_b], ("role", "baseline", "idle")),
        ("c", "500 jobs ending within 30 s; the role on the job alone, then on job and instance", ids_c,
         [round(rng.uniform(1.0, 30.0), 3) for dummy in ids_c], ("role", "role+inst")),
        ("d", "20 jobs ending at seeded random times within 60-120 s, quota 60 requests a minute", ids_d,
         [round(rng.uniform(60.0, 120.0), 3) for dummy in ids_d], ("role",)),
    ]


def one_run(python, collections, workdir, key, method, resource_ids, seconds, role_vars=None, ansible_cfg=None):
    label = "%s/%s" % (key, method)
    emulator = Emulator(python, workdir, EMULATOR_ARGS.get(key, ())).start()
    try:
        extra = os.path.join(workdir, "vars-%s.json" % key)
        with open(extra, "w") as handle:
            # a FAIL or a lost job would otherwise keep the baseline polling; 20 x 5 s covers 30 s jobs
            extra_vars = {"bench_resource_ids": resource_ids, "bench_retries": 20}
            if method.startswith("role"):
                extra_vars.update(role_vars or {})
                # The baseline polls jobs only: the role's own default (the instance too) is measured
                # where asked, as "role+inst".
                extra_vars.setdefault("dbss_audit_job_wait_instance", method == "role+inst")
            elif method == "idle":
                extra_vars["bench_idle_seconds"] = int(math.ceil(max(seconds)))
            json.dump(extra_vars, handle)
        env = dict(os.environ,
                   ANSIBLE_COLLECTIONS_PATH=collections,
                   ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                   ANSIBLE_RETRY_FILES_ENABLED="false",
                   ANSIBLE_NOCOLOR="1",
                   HW_DBSS_ENDPOINT=emulator.url,
                   HW_PROJECT_ID=PROJECT_ID,
                   HW_AUTH_TOKEN=TOKEN)
        if ansible_cfg:
            # The same configuration for both methods.
            env["ANSIBLE_CONFIG"] = ansible_cfg
        emulator.control("POST", "/_emulator/jobs", {"jobs": job_descriptions(resource_ids, seconds)})
        result = run_playbook(os.path.join(VENV, "bin", "ansible-playbook"), ROOT,
                              os.path.join(BENCH, "%s.yml" % method.split("+")[0]), extra, env, label)
        counters = emulator.control("GET", "/_emulator/counters")
        jobs = emulator.control("GET", "/_emulator/jobs")["jobs"]
        log = emulator.control("GET", "/_emulator/requests")["requests"]
    finally:
        emulator.stop()
    result["requests"] = counters.get("dbss_requests", 0) + counters.get("iam_requests", 0)
    # The instance phase: lists of every page, for all resources at once.
    result["instance_requests"] = sum(1 for entry in log if entry.get("route") == "instances")
    result["errors"] = dict((code, n) for code, n in counters.get("status", {}).items() if str(code) != "200")
    result["throttled"] = sum(1 for entry in log if entry.get("status") == 429)
    # failed tasks in the play recap (a failed run with none counted: 1)
    result["failures"] = sum(int(n) for n in FAILED_RE.findall(result["output"])) or int(result["rc"] != 0)
    ends = [job["end_time"] for job in jobs if job.get("end_time") is not None]
    match = GATE_RE.search(result["output"])
    if key in EMULATOR_ARGS and result["failures"]:
        # counted and judged by the acceptance bars, not a set-up error
        print("\n".join(result["output"].splitlines()[-30:]))
        result.update(last_end=max(ends or [0]) / 1000.0, latency=float("nan"))
        del result["output"]
        return result
    if result["rc"] != 0 or match is None or len(ends) != len(resource_ids):
        tail = "\n".join(result["output"].splitlines()[-30:])
        raise BenchError("%s failed (exit %s, %d of %d jobs finished):\n%s" % (
            label, result["rc"], len(ends), len(resource_ids), tail))
    result["last_end"] = max(ends) / 1000.0
    result["latency"] = float(match.group(1)) - result["last_end"]
    del result["output"]
    return result


# -- report ---------------------------------------------------------------------

def parse_role_vars(items):
    role_vars = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit("--role-var wants NAME=VALUE, e.g. sleep=2; got %r" % item)
        try:
            value = json.loads(value)
        except ValueError:
            pass
        role_vars["dbss_audit_job_wait_" + name] = value
    return role_vars


def main(argv=None):
    parser = argparse.ArgumentParser(description="make bench: dbss_audit_job_wait role vs a hand-written uri loop")
    parser.add_argument("--only", default="a,b,c,d", help="scenarios to run, e.g. a,b (default a,b,c,d)")
    parser.add_argument("--seed", type=int, default=20240611, help="seed of the random end times")
    parser.add_argument("--repeat-a", type=int, default=3, help="runs of scenario (a) per method, averaged (default 3)")
    parser.add_argument("--role-var", action="append", default=[],
                        help="NAME=VALUE: set dbss_audit_job_wait_NAME for the role (default: none, the module defaults)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--poll-interval", type=float,
                        help="run BOTH methods with an ansible.cfg setting internal_poll_interval to this many seconds "
                             "(ansible-core's default, 0.001, makes the controller spin about 80 ms of CPU per second "
                             "while any task runs)")
    args = parser.parse_args(argv)
    wanted = set(s.strip() for s in args.only.split(",") if s.strip())
    role_vars = parse_role_vars(args.role_var)

    try:
        collections = setup(os.environ.get("DBSS_COLLECTIONS_PATH"))
    except subprocess.CalledProcessError as error:
        print("bench: set-up failed: %s" % error, file=sys.stderr)
        return 2
    python = os.path.join(VENV, "bin", "python")
    workdir = tempfile.mkdtemp(prefix="dbss-bench.")
    ansible_cfg = None
    if args.poll_interval:
        ansible_cfg = os.path.join(workdir, "ansible.cfg")
        with open(ansible_cfg, "w") as handle:
            handle.write("[defaults]\ninternal_poll_interval = %s\n" % args.poll_interval)
    results = {}
    started = time.monotonic()
    print("bench: %d CPU cores, load average %s, seed %d" % (
        os.cpu_count() or 0, " ".join("%.2f" % x for x in os.getloadavg()), args.seed))
    print("role wait settings: %s" % (", ".join("%s=%s" % kv for kv in sorted(role_vars.items()))
                                      if role_vars else "module defaults (wait_sleep 2, wait_max_sleep 4, wait_max_rps 10)"))
    print("ansible.cfg for both methods: %s" % (
        "internal_poll_interval = %s" % args.poll_interval if args.poll_interval else "ansible-core defaults"))
    try:
        for key, title, ids, seconds, methods in scenarios(args.seed):
            if key not in wanted:
                continue
            repeats = max(1, args.repeat_a) if key == "a" else 1
            print("\n(%s) %s; last job ends %.1f s after creation%s" % (
                key, title, max(seconds), "; %d runs per method, averaged" % repeats if repeats > 1 else ""))
            samples = dict((method, []) for method in methods)
            for _round in range(repeats):
                for method in methods:
                    r = one_run(python, collections, workdir, key, method, ids, seconds, role_vars, ansible_cfg)
                    samples[method].append(r)
                    print("  %-9s wall %6.1f s  requests %5d  cpu %6.2f s  rss %6.1f MB  pss %6.1f MB  latency %6.2f s%s" % (
                        method, r["wall"], r["requests"], r["cpu"], r["rss_mb"], r["pss_mb"], r["latency"],
                        ("  non-200: %s" % r["errors"]) if r["errors"] else ""))
                    if key in EMULATOR_ARGS:
                        print("  %-9s failures %d  requests sent %d  throttled (429) %d = %.1f %%  wall %.1f s" % (
                            "", r["failures"], r["requests"], r["throttled"],
                            100.0 * ratio(r["throttled"], r["requests"]), r["wall"]))
            for method in methods:
                results[(key, method)] = aggregate(samples[method])
    except BenchError as error:
        print("bench: %s" % error, file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print("\nResults (seed %d, %.0f s in all; (a) rows are means of %d runs)\n" % (
        args.seed, time.monotonic() - started, max(1, args.repeat_a)))
    print_table(results)
    print("\nRatios role / baseline")
    for key in sorted(set(k for k, _m in results)):
        r, b = results.get((key, "role")), results.get((key, "baseline"))
        if r and b:
            print("  (%s) wall %.2f  requests %.2f  cpu %.3f  rss %.2f  latency %.3f" % (
                key, ratio(r["wall"], b["wall"]), ratio(r["requests"], b["requests"]), ratio(r["cpu"], b["cpu"]),
                ratio(r["rss_mb"], b["rss_mb"]), ratio(r["latency"], b["latency"])))
    print("\nAcceptance bars")
    checks = acceptance(results)
    for name, detail, ok in checks:
        print("  %s  %-52s %s" % ("PASS" if ok else "FAIL", name, detail))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"seed": args.seed, "cpus": os.cpu_count(), "role_vars": role_vars,
                       "runs": dict(("%s/%s" % k, v) for k, v in results.items()),
                       "checks": [{"check": n, "detail": d, "pass": ok} for n, d, ok in checks]}, handle, indent=2)
    return 0 if all(ok for _n, _d, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
