# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 12, items 2 to 5, end to end: what a hostile server can make
dbss_audit_jobs_info do, on both routes.

The server is tests/system/hostile.py (one for the whole file). Every answer
runs through

(a) the controller-side runner ``support.run_task`` (what the action plugin
    runs): in this process, or, for an answer that could take memory, in a
    child process stopped at 1.5 GB (``hostile.run_watched``);
(b) ``ansible-playbook`` running the module itself, over a connection that is
    not ``local`` (``hostile_remote``, written next to the playbook), and for a
    few answers under ``async`` on a local connection. The playbooks start
    once per module in the background (fixture ``background``), in lanes side
    by side, while route (a) runs.

Besides the answers: every duration and count option past its upper bound
(refused, naming the option, before any request), a ``~/.netrc`` with a
password for every host (never sent: no ``Basic`` in any mode), and
``HTTP_PROXY`` / ``NO_PROXY`` (still honoured).

Asserted for each: the verdict (a malformed or transient answer refused with a
message naming the cap or the problem, the wait's ``failure_kind``), never
``Traceback``, ``RecursionError``, ``MemoryError`` or ``OverflowError``, and how
many requests reached the server (max_retries + 1 for a listing; one for a
wrong credential, whatever the number of resources).

The secret echo: credentials of 8, 64, 1,204, 4,096 and 16,000 characters (a
token, an AK/SK security token and secret key, an IAM password, the token IAM
issues) are put back by the server in every place it can quote them, raw,
JSON-escaped and URL-encoded. No run of eight characters of any form of any of
them may appear in a result, a progress line, or (b) anything ansible-playbook
prints at -vvvv. The access key is echoed too but is not a secret
(``access_key`` is not no_log; Ansible itself shows it).

Timings are bounds with slack, never measurements; peak memory is measured by
tools/reliability.py, not asserted here. The figures go to
``build/reliability/hostile.json``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, quote_plus

import pytest

import hostile
from hostile import (
    SECRET_LENGTHS, HostileServer, issued_token, make_secret, playbook_env, run_watched, write_playbook,
)
from support import clear_hw_environment, run_task, save_figures

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs_info import (
    JOBS_INFO_ARGUMENT_SPEC,
    JOBS_INFO_MODULE_KWARGS,
    jobs_info_task,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_options import run_as_task

HERE = os.path.dirname(os.path.abspath(__file__))
PID = hostile.PROJECT_ID
TOKEN = "hostile-token-0123456789abcdef"
ACCESS_KEY = "HOSTILEAK0123456789A"
SECRET_KEY = "hostile-sk-0123456789abcdef"

REQUEST = dict(timeout=2, max_retries=1)
WAIT = dict(wait=True, wait_timeout=3, wait_sleep=0.2, wait_max_sleep=0.5, wait_not_found_timeout=1)
FORBIDDEN = ("Traceback", "RecursionError", "MemoryError", "OverflowError", "unexpected error")
RSS_LIMIT_MB = 1536
# Past a deadline, for scheduling on a loaded 2-core machine (everything here runs side by side).
SLACK = 1.5

FIGURES = {"answers_tried": 0, "runs": 0, "secret_checks": 0, "secrets_leaked": 0, "outputs_scanned": 0}


@pytest.fixture(scope="module", autouse=True)
def write_figures():
    yield
    save_figures("hostile", FIGURES)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    clear_hw_environment(monkeypatch)


@pytest.fixture(scope="module")
def server():
    srv = HostileServer()
    hostile.bomb("gzip")  # built once (a few seconds), before any timed run
    yield srv
    srv.close()


# ---------------------------------------------------------------------------
# the hostile answers and their verdicts
# ---------------------------------------------------------------------------

SIZE_CAP = r"larger than \d+ ?MiB"
TIMED_OUT = r"(?i)time ?out|timed out|time limit|within \d"
# mode -> what the failure must say (the listing's msg; the wait's last error)
MALFORMED = {
    "gzip-bomb": SIZE_CAP,
    "deflate-bomb": SIZE_CAP,
    "gzip-bomb-chunked": SIZE_CAP,
    "endless-chunked": SIZE_CAP,
    "big-length": SIZE_CAP,
    "big-close": SIZE_CAP,
    "unknown-encoding": r"Content-Encoding: x-hostile",
    "deep-nest": r"nested deeper than \d+ levels",
    "deep-error": r"HTTP 500",
    "many-values": r"more than \d+ values",
    "many-details": r"HTTP 500.*more than \d+ values",
    "huge-int": r"more than \d+ digits",
    "huge-float": r"more than \d+ digits",
    "trickle-body": TIMED_OUT,
    "trickle-headers": TIMED_OUT,
    "other-resource": r"another resource \(someone-else-entirely\)",
}
# A poll the wait starts in its last moments ends in a timeout of what little
# time was left, and that error, not the answer's, is then the "last error".
LAST_MOMENT = r"within 0\.0\d* s \(timeout\)"
MEMORY = ("gzip-bomb", "deflate-bomb", "gzip-bomb-chunked", "endless-chunked", "big-length", "big-close")
BATCH = tuple(sorted(set(MALFORMED) - set(MEMORY)))


class Run:
    """One task: its options for a tag (which keeps the request counts of its
    runs apart) and the checks of its result."""

    def __init__(self, name, build, check, lane, memory=False, async_too=False, env=None):
        # memory: on route (a), run in a child process stopped past RSS_LIMIT_MB, whose
        # stderr must be clean too (deep JSON: a finalizer that the garbage collector
        # runs while the parser is at the recursion limit fails with RecursionError,
        # reported as "Exception ignored in ..." on stderr)
        self.name, self.build, self.check, self.lane, self.memory = name, build, check, lane, memory
        self.async_too = async_too
        # env(url, directory): environment variables the run needs (it then runs
        # in a process of its own on both routes)
        self.env = env


def base(url, **extra):
    args = dict(endpoint=url, project_id=PID, auth_token=TOKEN, **REQUEST)
    args.update(extra)
    return args


def assert_clean(result, where="result"):
    text = json.dumps(result, default=str)
    for word in FORBIDDEN:
        assert word not in text, "%s in the %s: %s" % (word, where, text[:3000])


def failed_with(result, pattern):
    assert result.get("failed") is True, result
    assert re.search(pattern, result.get("msg", "")), (pattern, result.get("msg"))


def info_malformed(mode):
    def build(url, tag):
        return base(url, resource_id="%s.%s" % (mode, tag))

    def check(result, ctx):
        failed_with(result, MALFORMED[mode])
        assert ctx.server.requests_for("%s.%s" % (mode, ctx.tag)) == REQUEST["max_retries"] + 1
        # every attempt within its timeout, plus one backoff pause; slack for a loaded machine
        ctx.within(REQUEST["timeout"] * 2 + 1 + 4)
    return Run("info-" + mode, build, check, "memory-" + mode if mode in MEMORY else "info",
               memory=mode in MEMORY or mode.startswith("deep"))


def wait_malformed(mode):
    def build(url, tag):
        return base(url, resource_id="%s.%s" % (mode, tag), **WAIT)

    def check(result, ctx):
        rid = "%s.%s" % (mode, ctx.tag)
        assert result.get("failed") is True and result.get("failure_kind") == "timeout", result
        assert rid in result["msg"] and "last poll failed" in result["msg"], result["msg"]
        assert re.search(MALFORMED[mode], result["msg"]) or re.search(LAST_MOMENT, result["msg"]), result["msg"]
        assert result["elapsed"] <= WAIT["wait_timeout"] + REQUEST["timeout"] + SLACK, result["elapsed"]
        assert 1 <= ctx.server.requests_for(rid) <= polls_bound()
    return Run("wait-" + mode, build, check, "memory-" + mode, memory=True)


def polls_bound():
    """The most requests one resource may send in a WAIT: a poll at least every
    0.8 x wait_sleep, each with max_retries retries."""
    return int(WAIT["wait_timeout"] / (0.8 * WAIT["wait_sleep"]) + 2) * (REQUEST["max_retries"] + 1)


def wait_batch():
    """Every non-memory malformed answer in one wait, behind a resource that answers."""
    def build(url, tag):
        ids = ["running.%s.0" % tag] + ["%s.%s" % (mode, tag) for mode in BATCH]
        # a rate limit high enough that every resource's last poll reaches the server
        return base(url, resource_ids=ids, wait_max_rps=200, **WAIT)

    def check(result, ctx):
        assert result.get("failed") is True and result.get("failure_kind") == "timeout", result
        wrong = []
        for mode in BATCH:
            rid = "%s.%s" % (mode, ctx.tag)
            error = result["errors"].get(rid) or ""
            sent = ctx.server.requests_for(rid)
            if rid not in result["msg"] or not (re.search(MALFORMED[mode], error) or re.search(LAST_MOMENT, error)) or \
                    result["states"].get(rid) == "SUCCESS" or not 1 <= sent <= polls_bound():
                wrong.append("%s: state %s, %d requests, last error %r" % (mode, result["states"].get(rid), sent, error))
        assert not wrong, "answers the wait did not refuse as it must:\n" + "\n".join(wrong)
        assert result["elapsed"] <= WAIT["wait_timeout"] + REQUEST["timeout"] + SLACK, result["elapsed"]
    return Run("wait-batch", build, check, "wait", memory=True)


def info_closing(mode):
    """Not hostile, but what some gateways do: the answer ends the connection."""
    def build(url, tag):
        return base(url, resource_id="%s.%s" % (mode, tag))

    def check(result, ctx):
        assert result.get("failed") is False, result.get("msg")
        assert result["job"]["status"] == "SUCCESS"
        assert ctx.server.requests_for("%s.%s" % (mode, ctx.tag)) == 1
    return Run("info-" + mode, build, check, "info")


def info_empty(mode):
    def build(url, tag):
        return base(url, resource_id="%s.%s" % (mode, tag))

    def check(result, ctx):
        assert result.get("failed") is False, result.get("msg")
        assert result["jobs"] == [] and result["job"] is None
        assert ctx.server.requests_for("%s.%s" % (mode, ctx.tag)) == 1
    return Run("info-" + mode, build, check, "info")


def wait_empty(mode):
    def build(url, tag):
        args = base(url, resource_id="%s.%s" % (mode, tag), **WAIT)
        args["wait_timeout"] = 20  # the verdict must come long before it
        return args

    def check(result, ctx):
        # bounded by wait_not_found_timeout (1 s), not by wait_timeout (20 s)
        assert result.get("failed") is True and result.get("failure_kind") == "not_found", result
        assert "wait_not_found_timeout" in result["msg"]
        assert result["elapsed"] < WAIT["wait_not_found_timeout"] + 4, result["elapsed"]
    return Run("wait-" + mode, build, check, "wait")


def info_retry_after(mode):
    def build(url, tag):
        return base(url, resource_id="%s.%s" % (mode, tag))

    def check(result, ctx):
        failed_with(result, r"HTTP 429")
        assert ctx.server.requests_for("%s.%s" % (mode, ctx.tag)) == 1  # never slept on, never retried
        ctx.within(4)
    return Run("info-" + mode, build, check, "info")


def wait_retry_after(mode):
    def build(url, tag):
        args = base(url, resource_id="%s.%s" % (mode, tag), **WAIT)
        args["wait_timeout"] = 20  # the verdict must come long before it
        return args

    def check(result, ctx):
        # ends at once, saying the server asked for a retry past the deadline
        assert result.get("failed") is True and result.get("failure_kind") == "timeout", result
        assert re.search(r"(?i)retry.*past the deadline|Retry-After", result["msg"]), result["msg"]
        assert result["elapsed"] < 4, result["elapsed"]
        assert ctx.server.requests_for("%s.%s" % (mode, ctx.tag)) == 1
    return Run("wait-" + mode, build, check, "wait", async_too=mode == "retry-after")


def wait_duplicate_job():
    def build(url, tag):
        return base(url, resource_id="dup-job.%s" % tag, job_id="dup", **WAIT)

    def check(result, ctx):
        assert result.get("failed") is True and result.get("failure_kind") == "api_error", result
        assert "ambiguous" in result["msg"] and "dup" in result["msg"], result["msg"]
        assert result["states"].get("dup-job.%s" % ctx.tag) != "SUCCESS"
    return Run("wait-dup-job", build, check, "wait")


DENIALS = {
    # name: (mode of the 10 resources, credentials, words)
    "token-401": ("deny401", {}, r"HTTP 401"),
    "aksk-401": ("deny401-aksk", {"auth_token": None, "access_key": ACCESS_KEY, "secret_key": SECRET_KEY}, r"HTTP 401"),
    "token-403": ("deny403", {}, r"HTTP 403"),
}


def denied(name, wait):
    mode, creds, words = DENIALS[name]

    def build(url, tag):
        args = base(url, resource_ids=["%s.%s.%d" % (mode, tag, i) for i in range(10)], **(WAIT if wait else {}))
        args.update(creds)
        return dict((k, v) for k, v in args.items() if v is not None)

    def check(result, ctx):
        failed_with(result, words)
        if wait:
            assert result.get("failure_kind") == "api_error", result
        # the first resource alone; the other nine are refused without a request
        assert ctx.server.requests_for("%s.%s." % (mode, ctx.tag)) == 1
    return Run(("wait-" if wait else "info-") + name + "-x10", build, check, "deny",
               async_too=(name == "token-401" and not wait))


def login_refused(wait):
    def build(url, tag):
        args = base(url, resource_ids=["ok.%s.%d" % (tag, i) for i in range(10)], auth_token=None,
                    user_name="wrong-" + tag, password="hostile-password", domain_name="hostile-domain",
                    auth_url=url + "/v3", **(WAIT if wait else {}))
        return dict((k, v) for k, v in args.items() if v is not None)

    def check(result, ctx):
        failed_with(result, r"authentication failed")
        assert ctx.server.logins_for("wrong-" + ctx.tag) == 1
        assert ctx.server.requests_for("ok.%s." % ctx.tag) == 0
    return Run(("wait-" if wait else "info-") + "password-refused-x10", build, check, "deny")


def token_refused_after_login(wait):
    def build(url, tag):
        args = base(url, resource_ids=["deny401.%s.%d" % (tag, i) for i in range(10)], auth_token=None,
                    user_name="issue-64-" + tag, password="hostile-password", domain_name="hostile-domain",
                    auth_url=url + "/v3", **(WAIT if wait else {}))
        return dict((k, v) for k, v in args.items() if v is not None)

    def check(result, ctx):
        failed_with(result, r"HTTP 401")
        # one login, one refused request, one login again, one request again: then stop
        assert ctx.server.logins_for("issue-64-" + ctx.tag) <= 2
        assert ctx.server.requests_for("deny401.%s." % ctx.tag) <= 2
    return Run(("wait-" if wait else "info-") + "password-token-401-x10", build, check, "deny")


# (option, value): each above its documented upper bound (docs/reliability.md)
BOUNDS = (
    ("wait_timeout", "999999999h"), ("wait_timeout", 86401), ("wait_timeout", "1e400"),
    ("wait_not_found_timeout", "25h"), ("wait_delay", 10 ** 30), ("wait_sleep", "61m"), ("wait_max_sleep", 3601),
    ("timeout", 3601), ("timeout", 1e308), ("max_retries", 21), ("wait_max_rps", 1001),
)


def beyond_bound(index):
    option, value = BOUNDS[index]

    def build(url, tag):
        args = base(url, resource_id="ok.%s" % tag, **WAIT)
        args[option] = value
        return args

    def check(result, ctx):
        failed_with(result, r"^%s: " % option)  # the option named first
        assert ctx.server.requests_for("ok.%s" % ctx.tag) == 0  # refused before any request
    return Run("bound-%s-%d" % (option, index), build, check, "info")


NETRC_PASSWORD = "netrc-S3cr3t-0c0ffee5"
NETRC = ("default login netrc-user password %s\n"
         "machine 127.0.0.1 login netrc-user password %s\n") % (NETRC_PASSWORD, NETRC_PASSWORD)


def netrc_env(url, directory):
    """A HOME whose ~/.netrc (also named by NETRC) holds a password for every host."""
    path = os.path.join(directory, ".netrc")
    with open(path, "w") as handle:
        handle.write(NETRC)
    os.chmod(path, 0o600)
    return {"HOME": directory, "NETRC": path}


NETRC_MODES = {
    # mode: (credentials, the Authorization scheme every request must carry)
    "token": ({}, None),
    "aksk": ({"auth_token": None, "access_key": ACCESS_KEY, "secret_key": SECRET_KEY}, "SDK-HMAC-SHA256"),
    "password": ({"auth_token": None, "user_name": "issue-64-netrc", "password": "hostile-password",
                  "domain_name": "hostile-domain"}, None),
}


def netrc_ignored(mode):
    creds, scheme = NETRC_MODES[mode]

    def build(url, tag):
        args = base(url, resource_ids=["ok.%s.%d" % (tag, i) for i in range(3)], **creds)
        if mode == "password":
            args.update(auth_url=url + "/v3", user_name="issue-64-" + tag)
        return dict((k, v) for k, v in args.items() if v is not None)

    def check(result, ctx):
        assert result.get("failed") is False, result.get("msg")
        schemes = ctx.server.schemes_for(prefix="ok.%s." % ctx.tag)
        assert schemes == [scheme] * 3, schemes  # never Basic from ~/.netrc
        if mode == "password":
            assert ctx.server.schemes_for(user_name="issue-64-" + ctx.tag) == [None]
        assert NETRC_PASSWORD not in json.dumps(result)
    return Run("netrc-ignored-" + mode, build, check, "env-netrc-" + mode, env=netrc_env)


def through_proxy():
    """HTTP_PROXY still applies: the endpoint's name never resolves here, the
    proxy (the hostile server) answers for it."""
    def build(url, tag):
        return base("http://dbss-behind-a-proxy.invalid:8080", resource_id="ok.%s" % tag)

    def check(result, ctx):
        assert result.get("failed") is False, result.get("msg")
        assert ctx.server.requests_for("ok.%s" % ctx.tag) == 1

    def env(url, directory):
        return {"HTTP_PROXY": url, "http_proxy": url, "NO_PROXY": "", "no_proxy": ""}
    return Run("proxy-applies", build, check, "env-proxy", env=env)


def proxy_bypassed():
    """NO_PROXY still applies: the proxy named does not exist, the endpoint is reached directly."""
    def build(url, tag):
        return base(url, resource_id="ok.%s" % tag)

    def check(result, ctx):
        assert result.get("failed") is False, result.get("msg")
        assert ctx.server.requests_for("ok.%s" % ctx.tag) == 1

    def env(url, directory):
        dead = "http://127.0.0.1:9"  # discard: nothing listens there
        return {"HTTP_PROXY": dead, "http_proxy": dead, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    return Run("no-proxy-applies", build, check, "env-no-proxy", env=env)


RUNS = (
    [beyond_bound(index) for index in range(len(BOUNDS))]
    + [netrc_ignored(mode) for mode in sorted(NETRC_MODES)]
    + [through_proxy(), proxy_bypassed()]
    + [info_malformed(mode) for mode in sorted(MALFORMED)]
    + [wait_malformed(mode) for mode in MEMORY]
    + [wait_batch()]
    + [info_closing(mode) for mode in ("ok-close", "ok-close-nolength")]
    + [info_empty(mode) for mode in ("jobs-null", "jobs-missing")]
    + [wait_empty(mode) for mode in ("jobs-null", "jobs-missing")]
    + [info_retry_after(mode) for mode in ("retry-after", "retry-after-date")]
    + [wait_retry_after(mode) for mode in ("retry-after", "retry-after-date")]
    + [wait_duplicate_job()]
    + [denied(name, wait) for name in sorted(DENIALS) for wait in (False, True)]
    + [login_refused(wait) for wait in (False, True)]
    + [token_refused_after_login(wait) for wait in (False, True)]
)
RUNS_BY_NAME = dict((run.name, run) for run in RUNS)
assert len(RUNS_BY_NAME) == len(RUNS)


class Context:
    def __init__(self, server, tag, wall=None):
        self.server, self.tag, self.wall = server, tag, wall

    def within(self, seconds):
        if self.wall is not None:
            assert self.wall <= seconds, "took %.1f s, bound %.1f s" % (self.wall, seconds)


def tag_for(route, run):
    # short, unique per run and route, never a prefix of another tag
    return "%s%02d" % (route, RUNS.index(run))


# -- (a) the controller-side runner -------------------------------------------------

CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from support import run_task
print(json.dumps(run_task(json.loads(sys.argv[2])), default=str))
"""


def run_in_child(args, extra_env=None):
    """run_task in a child process (with ``extra_env``) that is stopped past RSS_LIMIT_MB."""
    env = dict(os.environ)
    env.update(extra_env or {})
    outcome = run_watched([sys.executable, "-c", CHILD, HERE, json.dumps(args)], env=env,
                          timeout=120, rss_limit_mb=RSS_LIMIT_MB)
    assert outcome["killed"] is None, "the run was stopped (%s) at %s MB" % (outcome["killed"], outcome["peak_mb"])
    assert outcome["returncode"] == 0, outcome["stderr"][-3000:]
    for word in FORBIDDEN + ("Exception ignored",):
        assert word not in outcome["stderr"], "%s on the stderr of the run:\n%s" % (word, outcome["stderr"][-3000:])
    return json.loads(outcome["stdout"].strip().splitlines()[-1])


def run_controller(run, url, directory):
    """(result or the exception, wall seconds) of one run on route (a)."""
    args = run.build(url, tag_for("a", run))
    started = time.monotonic()
    try:
        if run.env is not None:
            home = os.path.join(directory, run.name)
            os.makedirs(home)
            result = run_in_child(args, run.env(url, home))
        else:
            result = run_in_child(args) if run.memory else run_task(args)
    except BaseException as exc:  # pytest.fail included: reported by the run's own test
        result = exc
    return result, time.monotonic() - started


def selected_runs(request, test_name):
    """The runs of the tests named ``test_name`` that this session runs."""
    names = set(item.callspec.params["name"] for item in request.session.items
                if item.module is request.module and item.originalname == test_name)
    return [run for run in RUNS if run.name in names]


@pytest.fixture(scope="module")
def controller_route(request, server, background, tmp_path_factory):
    """Every selected run on route (a), side by side (the playbooks of route (b) run meanwhile)."""
    directory = str(tmp_path_factory.mktemp("controller-route"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = dict((run.name, pool.submit(run_controller, run, server.url, directory))
                       for run in selected_runs(request, "test_controller_route"))
        return dict((name, future.result()) for name, future in futures.items())


@pytest.mark.parametrize("name", [run.name for run in RUNS])
def test_controller_route(server, controller_route, name):
    run = RUNS_BY_NAME[name]
    FIGURES["answers_tried"] += 1
    FIGURES["runs"] += 1
    result, wall = controller_route[name]
    if isinstance(result, BaseException):
        raise result
    assert_clean(result)
    run.check(result, Context(server, tag_for("a", run), wall))


@pytest.mark.parametrize("length", SECRET_LENGTHS)
def test_no_secret_echoed_by_the_controller_route(server, background, length):
    # (background: the playbooks run meanwhile; the helpers are in the secrets section below)
    grams = grams_of(secrets_of(length))
    cases = []
    for kind in ("token", "aksk", "password"):
        tag = "sa%d%s" % (length, kind[0])
        cases.extend(("%s-%s" % (kind, name), args) for name, args in echo_runs(kind, length, server.url, tag))
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda case: (case[0], run_with_events(case[1])), cases))
    for name, (result, progress) in outcomes:
        FIGURES["runs"] += 1
        assert_clean(result, name)
        expect_echo(name.split("-", 1)[1], result)
        scan(json.dumps(result, default=str), grams, "the result of %s (%d characters)" % (name, length))
        scan(json.dumps(result, default=str, ensure_ascii=False), grams, "the result of %s (%d characters)" % (name, length))
        scan(progress, grams, "the progress lines of %s (%d characters)" % (name, length))


def test_the_netrc_file_would_be_used_by_plain_requests(tmp_path, monkeypatch):
    """The netrc runs prove something only if plain requests reads that file."""
    requests_utils = pytest.importorskip("requests.utils")
    for name, value in netrc_env("http://127.0.0.1:1", str(tmp_path)).items():
        monkeypatch.setenv(name, value)
    assert requests_utils.get_netrc_auth("http://127.0.0.1:1/v1") == ("netrc-user", NETRC_PASSWORD)


# -- (b) the module, through ansible-playbook -----------------------------------------

def ansible_playbook():
    candidate = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return candidate if os.path.exists(candidate) else shutil.which("ansible-playbook")


def module_task(name, args, async_run=False):
    task = {"name": name, "hwcloud.dbss.dbss_audit_jobs_info": args, "register": "r_" + re.sub(r"\W", "_", name),
            "ignore_errors": True}
    if async_run:
        task.update({"async": 60, "poll": 1})
    return task


def run_playbook(directory, name, plays, inventory=None, verbosity=1, timeout=240, extra_env=None):
    binary = ansible_playbook()
    path, inventory_path = write_playbook(directory, name, plays, inventory)
    command = [binary, "-i", inventory_path, path, "-" + "v" * verbosity]
    env = playbook_env(directory, sys.executable, os.environ.get("ANSIBLE_COLLECTIONS_PATH") or "/tmp/coll")
    env.update(extra_env or {})
    outcome = run_watched(command, env=env, cwd=directory, timeout=timeout, rss_limit_mb=RSS_LIMIT_MB)
    results = {}
    for play_name, _connection, _pattern, _tasks in plays:
        for host in (inventory or {"all": {"hosts": {"hostile": {}}}})["all"]["hosts"]:
            file_name = os.path.join(directory, "%s-%s-%s.json" % (name, play_name, host))
            if os.path.exists(file_name):
                with open(file_name) as handle:
                    results[(play_name, host)] = json.load(handle)
    outcome["results"] = results
    outcome["output"] = outcome.pop("stdout") + outcome.pop("stderr")
    return outcome


def module_route_lanes(url, base_dir, runs, async_runs):
    """``runs`` through the module, once: one playbook per lane, lanes side by side;
    ``async_runs`` under async on a local connection (the action plugin hands
    the run to the module). Returns {run name or "async:" + run name: (result
    or None, lane outcome)}."""
    lanes, lane_env = {}, {}
    for run in runs:
        lanes.setdefault(run.lane, []).append(module_task(run.name, run.build(url, tag_for("b", run))))
        if run.env is not None:
            lane_env[run.lane] = run.env
    if async_runs:
        lanes["async"] = [module_task("async:" + run.name, run.build(url, tag_for("c", run)), async_run=True)
                          for run in async_runs]

    def one(lane):
        directory = os.path.join(base_dir, lane)
        os.makedirs(directory)
        connection = "local" if lane == "async" else "hostile_remote"
        extra_env = lane_env[lane](url, directory) if lane in lane_env else None
        return lane, run_playbook(directory, lane, [("play", connection, "all", lanes[lane])], extra_env=extra_env)

    by_name = {}
    with ThreadPoolExecutor(max_workers=3) as pool:
        for lane, outcome in pool.map(one, sorted(lanes, key=lambda lane: -len(lanes[lane]))):
            registered = outcome["results"].get(("play", "hostile"), {})
            for task in lanes[lane]:
                by_name[task["name"]] = (registered.get(task["register"][2:]), outcome)
    return by_name


@pytest.fixture(scope="module")
def background(request, server, tmp_path_factory):
    """The ansible-playbook runs of route (b) and of the secret echo that the
    selected tests need, started at once in the background (they are
    CPU-bound; route (a) mostly waits meanwhile)."""
    runs = selected_runs(request, "test_module_route")
    async_runs = selected_runs(request, "test_module_route_async")
    secrets = any(item.module is request.module and item.originalname == "test_no_secret_echoed_through_ansible_playbook"
                  for item in request.session.items)
    if (runs or async_runs or secrets) and ansible_playbook() is None:
        pytest.skip("ansible-playbook not found")
    pool = ThreadPoolExecutor(max_workers=2)
    futures = {}
    if runs or async_runs:
        futures["module_route"] = pool.submit(module_route_lanes, server.url, str(tmp_path_factory.mktemp("module-route")),
                                              runs, async_runs)
    if secrets:
        futures["secrets"] = pool.submit(secrets_playbook_run, server.url, str(tmp_path_factory.mktemp("secrets")))
    yield futures
    pool.shutdown(wait=True)


@pytest.fixture(scope="module")
def module_route(background):
    return background["module_route"].result(timeout=290)


def check_module_outcome(name, entry):
    result, outcome = entry
    assert outcome["killed"] is None, "ansible-playbook was stopped (%s) at %s MB" % (outcome["killed"], outcome["peak_mb"])
    for word in FORBIDDEN:
        assert word not in outcome["output"], "%s in the ansible-playbook output:\n%s" % (word, outcome["output"][-4000:])
    assert result is not None, "no result registered for %s:\n%s" % (name, outcome["output"][-4000:])
    # ansible-core 2.19 adds "exception": "(traceback unavailable)" to module failures
    assert "Traceback" not in str(result.get("exception", "")), result
    assert "Module failed" not in str(result.get("msg", "")), result
    assert_clean(result)


@pytest.mark.parametrize("name", [run.name for run in RUNS])
def test_module_route(server, module_route, name):
    run = RUNS_BY_NAME[name]
    FIGURES["answers_tried"] += 1
    FIGURES["runs"] += 1
    check_module_outcome(name, module_route[name])
    run.check(module_route[name][0], Context(server, tag_for("b", run)))


@pytest.mark.parametrize("name", [run.name for run in RUNS if run.async_too])
def test_module_route_async(server, module_route, name):
    run = RUNS_BY_NAME[name]
    FIGURES["runs"] += 1
    check_module_outcome(name, module_route["async:" + name])
    result = module_route["async:" + name][0]
    assert result.get("ansible_job_id"), result  # it did run under Ansible's async wrapper
    run.check(result, Context(server, tag_for("c", run)))


# ---------------------------------------------------------------------------
# secrets echoed back
# ---------------------------------------------------------------------------

def secrets_of(length):
    """label -> secret, for one length."""
    return {"token": make_secret(length, "tok"), "secret_key": make_secret(length, "sk"),
            "security_token": make_secret(length, "st"), "password": make_secret(length, "pw"),
            "issued_token": issued_token(length)}


def credentials(kind, length, url):
    secrets = secrets_of(length)
    if kind == "token":
        return {"auth_token": secrets["token"]}
    if kind == "aksk":
        return {"access_key": ACCESS_KEY, "secret_key": secrets["secret_key"], "security_token": secrets["security_token"]}
    return {"user_name": "issue-%d" % length, "password": secrets["password"], "domain_name": "hostile-domain",
            "auth_url": url + "/v3"}


def forms_of(secret):
    return set((secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
                quote(secret, safe=""), quote(secret), quote_plus(secret)))


def grams_of(secrets):
    """Every run of 8 characters of every form of every secret -> its label."""
    grams = {}
    for label, secret in secrets.items():
        for form in forms_of(secret):
            for start in range(max(1, len(form) - 7)):
                grams.setdefault(form[start:start + 8], label)
    return grams


def scan(text, grams, where):
    FIGURES["outputs_scanned"] += 1
    FIGURES["secret_checks"] += len(set(grams.values()))
    leaks = {}
    for start in range(len(text) - 7):
        label = grams.get(text[start:start + 8])
        if label is not None and label not in leaks:
            context = text[max(0, start - 60):start] + "<8 chars of the %s>" % label + text[start + 8:start + 40]
            leaks[label] = context
    FIGURES["secrets_leaked"] += len(leaks)
    assert not leaks, "secrets leaked in %s (context shown, the secret itself replaced): %r" % (where, leaks)


FORM_NAMES = ("raw", "json", "url")


def echo_runs(kind, length, url, tag, forms=FORM_NAMES, merged=False):
    """(name, args) of every echo case of one credential kind: each place, each
    form. ``merged``: the job echo rides in the busy wait (one task fewer)."""
    creds = credentials(kind, length, url)
    # What is tested is the masking: a roomy request timeout, so a loaded machine
    # (16,000-character secrets echoed in every form) cannot turn a 403 into a timeout.
    one = dict(endpoint=url, project_id=PID, **dict(REQUEST, timeout=15))
    one.update(creds)
    waiting = dict(one, **WAIT)
    waiting["wait_timeout"] = 10  # these end at once, with a verdict, long before
    busy_wait = dict(waiting)
    busy_wait["wait_timeout"] = 1.5  # this one ends at its deadline, listing the retried errors
    runs = []
    for form in forms:
        runs.append(("deny-" + form, dict(one, resource_id="echo-deny-%s.%s" % (form, tag))))
        runs.append(("fail-" + form, dict(waiting, resource_id="echo-fail-%s.%s" % (form, tag))))
        runs.append(("status-" + form, dict(waiting, resource_id="echo-status-%s.%s" % (form, tag))))
        if kind == "password":
            runs.append(("iam-" + form, dict(one, resource_id="ok.%s" % tag, user_name="echo-" + form)))
    jobs = ["echo-job-%s.%s" % (form, tag) for form in forms]
    busy = ["echo-busy-%s.%s" % (form, tag) for form in forms]
    if merged:
        runs.append(("busy", dict(busy_wait, resource_ids=jobs + busy)))
    else:
        runs.append(("job", dict(one, resource_ids=jobs)))
        runs.append(("busy", dict(busy_wait, resource_ids=["running.%s" % tag] + busy)))
    return runs


def expect_echo(name, result):
    """The verdict of an echo case (its text must be masked, not the run refused)."""
    if name.startswith(("deny", "iam", "fail", "status", "busy")):
        assert result.get("failed") is True, (name, result)
    if name.startswith("deny"):
        assert result.get("status_code") == 403, (name, result)
    if name.startswith("fail"):
        assert result.get("failure_kind") == "failed", (name, result)
    if name.startswith("status"):
        assert result.get("failure_kind") == "unexpected_state", (name, result)
    if name.startswith("busy"):
        assert result.get("failure_kind") == "timeout", (name, result)
    if name.startswith("iam"):
        assert result.get("status_code") == 401, (name, result)
    if name == "busy":
        echoed = [job for job in result.get("jobs", []) if str(job.get("resource_id", "")).startswith("echo-job")]
        assert all(job["status"] == "RUNNING" for job in echoed), echoed
    if name == "job":
        assert result.get("failed") is False, (name, result.get("msg"))
        assert result["jobs"] and all(job["status"] == "RUNNING" for job in result["jobs"]), result["jobs"]


def run_with_events(args):
    """run_task, with the progress events the action plugin prints (as it prints them)."""
    from ansible_collections.hwcloud.dbss.plugins.action.dbss_audit_jobs_info import describe_event
    events = []
    result = run_as_task(JOBS_INFO_ARGUMENT_SPEC, JOBS_INFO_MODULE_KWARGS, args, jobs_info_task, on_event=events.append)
    assert not str(result.get("msg", "")).startswith("unexpected error"), result["msg"]
    result.setdefault("failed", False)
    return result, "\n".join(describe_event(event)[1] for event in events)


def secrets_playbook_run(url, directory):
    """One ansible-playbook run at -vvvv: a host per secret length; the echo
    cases (every form at once in each place) through the module on a non-local
    connection for every length; through the action plugin on a local one, and
    under async, for some."""
    hosts = {}
    for length in SECRET_LENGTHS:
        hosts["h%d" % length] = dict(("s_" + label, secret) for label, secret in secrets_of(length).items())
        hosts["h%d" % length]["length"] = length

    def tasks(route, only=None):
        made = []
        for kind in ("token", "aksk", "password"):
            # the credentials come from host variables; the tag from the host's length
            tag = "s%s{{ length }}%s" % (route, kind[0])
            for name, args in echo_runs(kind, 0, url, tag, forms=("all",), merged=True):
                if only and name not in only:
                    continue
                args = dict(args)
                if kind == "token":
                    args["auth_token"] = "{{ s_token }}"
                elif kind == "aksk":
                    args.update(secret_key="{{ s_secret_key }}", security_token="{{ s_security_token }}")
                else:
                    args["password"] = "{{ s_password }}"
                    args["user_name"] = args["user_name"] if name.startswith("iam") else "issue-{{ length }}"
                made.append(module_task("%s-%s" % (kind, name), args, async_run=(route == "c")))
        return made

    plays = [("module", "hostile_remote", "all", tasks("b")),
             ("action", "local", "h1204:h16000", tasks("a")),
             ("async", "local", "h1204", tasks("c", only=("deny-all", "iam-all")))]
    outcome = run_playbook(directory, "secrets", plays, inventory={"all": {"hosts": hosts}}, verbosity=4, timeout=280)
    return outcome, plays


@pytest.fixture(scope="module")
def secrets_playbook(background):
    return background["secrets"].result(timeout=290)


def test_no_secret_echoed_through_ansible_playbook(secrets_playbook):
    outcome, plays = secrets_playbook
    assert outcome["killed"] is None, outcome["killed"]
    everything = dict((label + str(length), secret) for length in SECRET_LENGTHS
                      for label, secret in secrets_of(length).items())
    grams = grams_of(everything)
    scan(outcome["output"], grams, "the ansible-playbook -vvvv output")
    for word in FORBIDDEN:
        assert word not in outcome["output"], word
    for play_name, _connection, pattern, tasks in plays:
        for length in SECRET_LENGTHS:
            if pattern != "all" and "h%d" % length not in pattern.split(":"):
                continue
            registered = outcome["results"].get((play_name, "h%d" % length))
            assert registered is not None, "play %s saved no result for %d characters:\n%s" % (
                play_name, length, outcome["output"][-3000:])
            scan(json.dumps(registered), grams, "the registered results of play %s (%d)" % (play_name, length))
            for task in tasks:
                result = registered[task["register"][2:]]
                FIGURES["runs"] += 1
                assert_clean(result, task["name"])
                assert "Module failed" not in str(result.get("msg", "")), result
                expect_echo(task["name"].split("-", 1)[1], result)
