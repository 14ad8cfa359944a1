# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What dbss_audit_jobs_info does, independent of where it runs.

The module (on a target host) and its action plugin (on the controller, for
live progress) both call ``run_jobs_info``: validate every option, fetch the
jobs of each resource concurrently, optionally wait for them, then filter and
shape the result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time

try:
    import jmespath
    HAS_JMESPATH = True
except ImportError:  # pragma: no cover - exercised by the sanity import test
    jmespath = None
    HAS_JMESPATH = False

from ansible_collections.hwcloud.dbss.plugins.module_utils import dbss_settings as settings
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_duration import parse_duration
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssConfigError, DbssError, DbssFailure
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_fetch import ConcurrentFetcher
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_module import build_client
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_ratelimit import RateLimiter
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_waiter import JOB_STATES, JobWaiter, WaitFailed, WaitSpec, newest_job

# The default cap of the interval between two polls of a resource, in seconds.
DEFAULT_MAX_SLEEP = 4.0

JOBS_INFO_ARGUMENT_SPEC = dict(
    resource_id=dict(type="str"),
    resource_ids=dict(type="list", elements="str"),
    job_id=dict(type="str"),
    status=dict(type="list", elements="str", choices=list(JOB_STATES)),
    query=dict(type="str"),
    wait=dict(type="bool", default=False),
    wait_timeout=dict(type="raw", default=1800),
    wait_delay=dict(type="raw", default=0),
    wait_sleep=dict(type="raw", default=2),
    # None: DEFAULT_MAX_SLEEP, or wait_sleep when that is larger (so wait_sleep
    # alone can be raised without also having to set wait_max_sleep).
    wait_max_sleep=dict(type="raw"),
    wait_not_found_timeout=dict(type="raw", default=60),
    wait_max_rps=dict(type="float", default=10.0),
    target_states=dict(type="list", elements="str", choices=list(JOB_STATES), default=["SUCCESS"]),
    pending_states=dict(type="list", elements="str", choices=list(JOB_STATES), default=["INIT", "READY", "RUNNING"]),
    failure_states=dict(type="list", elements="str", choices=list(JOB_STATES), default=["FAIL"]),
)

JOBS_INFO_MODULE_KWARGS = dict(
    mutually_exclusive=[("resource_id", "resource_ids")],
    required_one_of=[("resource_id", "resource_ids")],
    supports_check_mode=True,
)


class JobsInfoRequest:
    """The validated options of one run (everything checked before any request)."""

    def __init__(self, params):
        self.resource_ids = settings.validate_resource_ids(params.get("resource_id"), params.get("resource_ids"))
        self.single = params.get("resource_id") is not None
        self.job_id = params.get("job_id")
        if self.job_id is not None and not self.job_id.strip():
            raise DbssConfigError("job_id", "must not be empty")
        # State names are checked by the argument spec's choices; the wait's
        # lists (non-empty target, disjoint) by WaitSpec.validate, and
        # wait_max_rps by the RateLimiter built from it.
        self.status = params.get("status") or []
        self.query = _compile_query(params.get("query"))
        self.wait = bool(params.get("wait"))
        self.max_rps = params.get("wait_max_rps")
        self.wait_spec = None
        if self.wait:
            if self.job_id is not None and len(self.resource_ids) > 1:
                # A job belongs to one resource; every other resource would end
                # the wait as "not found".
                raise DbssConfigError("job_id", "with wait=true follows one job of one resource: give a single "
                                                "resource (resource_id), or leave job_id out to follow each "
                                                "resource's newest job")
            timeout = parse_duration(params.get("wait_timeout"), "wait_timeout")
            delay = parse_duration(params.get("wait_delay"), "wait_delay", allow_zero=True)
            sleep = parse_duration(params.get("wait_sleep"), "wait_sleep")
            self.wait_spec = WaitSpec(
                target_states=tuple(params.get("target_states") or ()),
                pending_states=tuple(params.get("pending_states") or ()),
                failure_states=tuple(params.get("failure_states") or ()),
                timeout=timeout,
                delay=delay,
                sleep=sleep,
                max_sleep=_max_sleep(params.get("wait_max_sleep"), sleep),
                not_found_timeout=parse_duration(params.get("wait_not_found_timeout"), "wait_not_found_timeout", allow_zero=True),
                job_id=self.job_id,
            )
            self.wait_spec.validate()


def _max_sleep(value, sleep):
    """wait_max_sleep as given, else the default cap raised to wait_sleep."""
    if value is not None:
        return parse_duration(value, "wait_max_sleep")
    return max(DEFAULT_MAX_SLEEP, sleep)


def _compile_query(expression):
    if expression is None:
        return None
    if not HAS_JMESPATH:
        raise DbssConfigError("query", "needs the Python library jmespath on the host that runs the module")
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:  # ParseError, LexerError, ...
        raise DbssConfigError("query", "is not a valid JMESPath expression: %s" % str(exc).replace("\n", " "))


def _keep(job, request):
    if request.job_id is not None and job.get("job_id") != request.job_id:
        return False
    if request.status and job.get("status") not in request.status:
        return False
    return True


def shape_result(request, jobs_by_resource):
    """The module's return values from each resource's job list."""
    all_jobs, resources = [], {}
    for resource_id in request.resource_ids:
        kept = [job for job in jobs_by_resource.get(resource_id) or [] if _keep(job, request)]
        all_jobs.extend(kept)
        resources[resource_id] = {"jobs": kept, "job": newest_job(kept)}
    result = {"changed": False, "jobs": all_jobs, "job": newest_job(all_jobs)}
    if not request.single:
        result["resources"] = resources
    if request.query is not None:
        result["query_result"] = request.query.search(all_jobs)
    return result


def jobs_info_task(params, on_event=None):
    """run_jobs_info with a client built from the task's own options."""
    return run_jobs_info(params, lambda limiter: build_client(params, rate_limiter=limiter), on_event=on_event)


def run_jobs_info(params, client_factory, on_event=None, clock=time.monotonic, sleep=time.sleep, rng=random.random):
    """Run dbss_audit_jobs_info. ``client_factory(rate_limiter)`` returns a
    DbssClient built from the (already validated) shared options."""
    request = JobsInfoRequest(params)
    limiter = RateLimiter(rate=request.max_rps, clock=clock, sleep=sleep, option="wait_max_rps")
    client = client_factory(limiter)
    fetcher = ConcurrentFetcher(client)
    # Said on success and on failure alike: a failed run is when it matters most.
    warnings = [] if client.verify else [
        "validate_certs is false: the TLS certificate of %s was not verified; "
        "use ca_path to trust a private CA instead" % client.base_url]
    try:
        if not request.wait:
            result = shape_result(request, fetcher.fetch_all_or_raise(request.resource_ids))
        else:
            result = _wait(request, client, fetcher, on_event, clock, sleep, rng)
    except DbssError as error:
        error.warnings = warnings
        raise
    finally:
        fetcher.close()
        client.close()
    if warnings:
        result["warnings"] = warnings
    return result


def _wait(request, client, fetcher, on_event, clock, sleep, rng):
    events = []

    def record(event):
        events.append(event)
        if on_event is not None:
            on_event(event)

    waiter = JobWaiter(request.wait_spec, fetcher.fetch, clock=clock, sleep=sleep, rng=rng, on_event=record)
    try:
        outcome = waiter.wait(request.resource_ids)
    except WaitFailed as failed:
        fields = shape_result(request, fetcher.last_jobs)
        fields.update(_wait_fields(failed, client, events))
        fields["failure_kind"] = failed.kind
        fields["unfinished"] = list(failed.unfinished)
        fields["errors"] = dict(failed.errors or {})
        if failed.job is not None:
            fields["job"] = failed.job
        if failed.resource_id is not None:
            fields["resource_id"] = failed.resource_id
        cause = getattr(failed, "cause", None)
        if isinstance(cause, DbssError):
            fields.update(cause.to_result())
        raise DbssFailure(str(failed), fields)
    result = shape_result(request, fetcher.last_jobs)
    result.update(_wait_fields(outcome, client, events))
    return result


def _wait_fields(outcome, client, events):
    return {
        "events": [event for event in events if "status" in event],
        "elapsed": round(outcome.elapsed, 3),
        "polls": client.requests_sent,
        "states": dict(outcome.states),
    }
