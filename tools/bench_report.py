# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The figures of tools/bench.py: the table, the acceptance bars and the means."""

from __future__ import absolute_import, division, print_function

THROTTLE_BAR = 10.0  # per cent of the requests, (d)


def ratio(a, b):
    return a / b if b else float("inf")


def print_table(results):
    header = "%-3s %-9s %8s %9s %8s %8s %8s %10s" % ("", "method", "wall s", "requests", "cpu s", "rss MB", "pss MB", "latency s")
    print(header)
    print("-" * len(header))
    for (key, method), r in results.items():
        print("%-3s %-9s %8.1f %9.1f %8.2f %8.1f %8.1f %10.2f" % (
            key, method, r["wall"], r["requests"], r["cpu"], r["rss_mb"], r["pss_mb"], r["latency"]))


def acceptance(results):
    checks = []
    a_r, a_b = results.get(("a", "role")), results.get(("a", "baseline"))
    b_r, b_b = results.get(("b", "role")), results.get(("b", "baseline"))
    c_r, d_r = results.get(("c", "role")), results.get(("d", "role"))
    c_i = results.get(("c", "role+inst"))
    if a_r and a_b:
        checks.append(("(a) role gate latency <= baseline's",
                       "%.2f s vs %.2f s" % (a_r["latency"], a_b["latency"]), a_r["latency"] <= a_b["latency"]))
        checks.append(("(a) role requests <= baseline's + 3",
                       "%.1f vs %.1f" % (a_r["requests"], a_b["requests"]), a_r["requests"] <= a_b["requests"] + 3))
    if b_r and b_b:
        checks.append(("(b) role gate latency <= 0.2 x baseline's",
                       "%.2f s vs %.2f s, ratio %.3f" % (b_r["latency"], b_b["latency"], ratio(b_r["latency"], b_b["latency"])),
                       b_r["latency"] <= 0.2 * b_b["latency"]))
        detail = "%.2f s vs %.2f s, ratio %.3f" % (b_r["cpu"], b_b["cpu"], ratio(b_r["cpu"], b_b["cpu"]))
        b_i = results.get(("b", "idle"))
        if b_i:
            # What ansible-playbook alone costs while it waits as long as the jobs take.
            detail += "; idle playbook %.2f s, ratio %.3f" % (b_i["cpu"], ratio(b_i["cpu"], b_b["cpu"]))
        checks.append(("(b) role controller CPU <= 0.1 x baseline's", detail, b_r["cpu"] <= 0.1 * b_b["cpu"]))
    if c_r:
        checks.append(("(c) 500 resources, peak controller memory < 300 MB",
                       "%.1f MB summed RSS (%.1f MB PSS)" % (c_r["rss_mb"], c_r["pss_mb"]), c_r["rss_mb"] < 300.0))
    if c_i:
        checks.append(("(c) 500 resources with instance readiness: one instance list a round",
                       "%d instance-list requests (pages of 100) for 500 resources; polling each instance would "
                       "take at least 500 a round" % c_i["instance_requests"], c_i["failures"] == 0))
    if d_r:
        checks.append(("(d) quota 60/min: no failure", "%d failed task(s)" % d_r["failures"], d_r["failures"] == 0))
        share = 100.0 * ratio(d_r["throttled"], d_r["requests"])
        checks.append(("(d) quota 60/min: < %g %% of requests throttled" % THROTTLE_BAR,
                       "%d of %d requests, %.1f %%" % (d_r["throttled"], d_r["requests"], share), share < THROTTLE_BAR))
    return checks


NUMERIC = ("wall", "requests", "cpu", "rss_mb", "pss_mb", "max_single_rss_mb", "latency", "throttled", "failures",
           "instance_requests")


def aggregate(samples):
    """Means of the numeric figures (a single sample stays as it is); the samples are kept."""
    merged = dict((name, sum(r[name] for r in samples) / len(samples)) for name in NUMERIC)
    merged["runs"] = len(samples)
    merged["samples"] = [dict((name, r[name]) for name in NUMERIC) for r in samples]
    merged["errors"] = samples[-1]["errors"]
    return merged
