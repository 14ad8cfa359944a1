# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What dbss_audit_jobs_info does, wherever it runs (the module on a host, its
action plugin on the controller): validate every option, poll each resource's
jobs (one request first, to prove the credential, then the rest concurrently),
optionally wait for them, then filter and shape one result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time
from concurrent.futures import ThreadPoolExecutor

try:
    import jmespath
    HAS_JMESPATH = True
except ImportError:  # pragma: no cover - exercised by the sanity import test
    jmespath = None
    HAS_JMESPATH = False

from ansible_collections.hwcloud.dbss.plugins.module_utils import dbss_settings as settings
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import (
    DbssApiError,
    DbssConfigError,
    DbssError,
    DbssFailure,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs import (
    DEFAULT_FAILURE_STATES,
    DEFAULT_PENDING_STATES,
    DEFAULT_TARGET_STATES,
    JOB_STATES,
    newest_job,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_instance_wait import (
    InstanceWaiter,
    InstanceWaitFailed,
    InstanceWaitSpec,
    list_instances,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_instances import (
    DEFAULT_INSTANCE_FAILURE_STATES,
    DEFAULT_INSTANCE_PENDING_STATES,
    DEFAULT_INSTANCE_TARGET_STATES,
    INSTANCE_STATES,
    resolve_resources,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_options import build_client
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_ratelimit import RateLimiter
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_waiter import KIND_NOT_FOUND, JobWaiter, WaitFailed, WaitSpec

JOBS_INFO_ARGUMENT_SPEC = dict(
    resource_id=dict(type="str"),
    resource_ids=dict(type="list", elements="str"),
    job_id=dict(type="str"),
    status=dict(type="list", elements="str", choices=list(JOB_STATES)),
    query=dict(type="str"),
    wait=dict(type="bool", default=False),
    progress=dict(type="bool", default=True),  # read by the action plugin (controller route) only
    progress_interval=dict(type="raw", default=30),
    wait_timeout=dict(type="raw", default=1800),
    wait_delay=dict(type="raw", default=0),
    wait_sleep=dict(type="raw", default=2),
    wait_max_sleep=dict(type="raw"),  # None: settings.DEFAULT_MAX_SLEEP, or wait_sleep if larger
    wait_not_found_timeout=dict(type="raw", default=60),
    wait_max_rps=dict(type="raw", default=10.0),
    target_states=dict(type="list", elements="str", choices=list(JOB_STATES), default=list(DEFAULT_TARGET_STATES)),
    pending_states=dict(type="list", elements="str", choices=list(JOB_STATES), default=list(DEFAULT_PENDING_STATES)),
    failure_states=dict(type="list", elements="str", choices=list(JOB_STATES), default=list(DEFAULT_FAILURE_STATES)),
    instance_ids=dict(type="list", elements="str"),
    names=dict(type="list", elements="str"),
    wait_instance=dict(type="bool", default=False),
    instance_target_states=dict(type="list", elements="str", choices=list(INSTANCE_STATES),
                                default=list(DEFAULT_INSTANCE_TARGET_STATES)),
    instance_pending_states=dict(type="list", elements="str", choices=list(INSTANCE_STATES),
                                 default=list(DEFAULT_INSTANCE_PENDING_STATES)),
    instance_failure_states=dict(type="list", elements="str", choices=list(INSTANCE_STATES),
                                 default=list(DEFAULT_INSTANCE_FAILURE_STATES)),
)

JOBS_INFO_MODULE_KWARGS = dict(
    mutually_exclusive=[("resource_id", "resource_ids"), ("resource_id", "instance_ids"), ("resource_id", "names")],
    required_one_of=[("resource_id", "resource_ids", "instance_ids", "names")],
    supports_check_mode=True,
)

# Enough parallelism to hide network latency at the default 10 requests per
# second; more threads would only queue on the rate limiter.
MAX_WORKERS = 8


class JobsInfoRequest:
    """The validated options of one run (everything checked before any request)."""

    def __init__(self, params):
        self.instance_ids = settings.validate_names(params.get("instance_ids"), "instance_ids")
        self.names = settings.validate_names(params.get("names"), "names")
        self.resource_ids = settings.validate_resource_ids(params.get("resource_id"), params.get("resource_ids"),
                                                           others=bool(self.instance_ids or self.names))
        self.single = params.get("resource_id") is not None
        self.job_id = params.get("job_id")
        if self.job_id is not None and not self.job_id.strip():
            raise DbssConfigError("job_id", "must not be empty")
        self.status = params.get("status") or []
        self.query = compile_query(params.get("query"))
        self.wait = bool(params.get("wait"))
        self.max_rps = settings.validate_rate(params.get("wait_max_rps"), "wait_max_rps")
        self.wait_spec = None
        if self.wait:
            if self.job_id is not None and len(self.resource_ids) > 1:
                # A job belongs to one resource; every other resource would end
                # the wait as "not found".
                raise DbssConfigError("job_id", "with wait=true follows one job of one resource: give a single "
                                                "resource (resource_id), or leave job_id out to follow each "
                                                "resource's newest job")
            self.wait_spec = WaitSpec(job_id=self.job_id, **settings.validate_wait(params))
        self.instance_spec = None
        if params.get("wait_instance") and not self.wait:
            raise DbssConfigError("wait_instance", "needs wait: true (it waits for the instance after its job)")
        if self.wait and params.get("wait_instance"):
            states = settings.validate_states(params.get("instance_target_states"),
                                              params.get("instance_pending_states"),
                                              params.get("instance_failure_states"), prefix="instance_")
            spec = self.wait_spec
            self.instance_spec = InstanceWaitSpec(sleep=spec.sleep, max_sleep=spec.max_sleep, heartbeat=spec.heartbeat,
                                                  not_found_timeout=spec.not_found_timeout, **states)


def compile_query(expression):
    if expression is None:
        return None
    if not HAS_JMESPATH:
        raise DbssConfigError("query", "needs the Python library jmespath on the host that runs the module")
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:  # ParseError, LexerError, ...
        raise DbssConfigError("query", "is not a valid JMESPath expression: %s" % str(exc).replace("\n", " "))


class JobsPoller:
    """``poll(resource_ids, deadline)`` -> {resource_id: jobs, or the DbssError}.
    Until an answer proves the credential, resources go one at a time, so a
    wrong one reaches the API once (the client refuses the rest unsent).
    ``retries`` per call: a wait passes 0, as it retries each resource itself."""

    def __init__(self, client, retries=None):
        self.client = client
        self.retries = retries
        self._pool = None

    def __call__(self, resource_ids, deadline=None):
        ids = list(resource_ids)
        results = {}
        while ids and not self.client.authenticated:
            first = ids.pop(0)
            results[first] = self._one(first, deadline)
        if len(ids) == 1:
            results[ids[0]] = self._one(ids[0], deadline)
        elif ids:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(ids)))
            futures = [(rid, self._pool.submit(self._one, rid, deadline)) for rid in ids]
            results.update((rid, future.result()) for rid, future in futures)
        return results

    def _one(self, resource_id, deadline):
        try:
            return self.client.list_jobs(resource_id, deadline=deadline, retries=self.retries)
        except DbssError as error:
            return error

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def _keep(job, request):
    if request.job_id is not None and str(job.get("job_id")) != request.job_id:
        return False
    return not request.status or job.get("status") in request.status


def shape_result(request, jobs_by_resource):
    """The module's return values from each resource's job list."""
    all_jobs, resources = [], {}
    for resource_id in request.resource_ids:
        kept = [job for job in jobs_by_resource.get(resource_id) or [] if _keep(job, request)]
        all_jobs.extend(kept)
        resources[resource_id] = {"jobs": kept, "job": newest_job(kept)}
    result = {"jobs": all_jobs, "job": newest_job(all_jobs)}
    if not request.single:
        result["resources"] = resources
    if request.query is not None:
        result["query_result"] = run_query(request.query, all_jobs)
    return result


def run_query(query, items):
    try:
        return query.search(items)
    except jmespath.exceptions.JMESPathError as exc:  # e.g. a function given the wrong type
        raise DbssConfigError("query", "failed: %s" % str(exc).replace("\n", " "))


def jobs_info_task(params, masker, on_event=None):
    """run_jobs_info with a client built from the task's own options."""
    return run_jobs_info(params, lambda limiter: build_client(params, masker, rate_limiter=limiter),
                         on_event=on_event)


def run_jobs_info(params, client_factory, on_event=None, clock=time.monotonic, sleep=time.sleep, rng=random.random):
    """Run dbss_audit_jobs_info. ``client_factory(rate_limiter)`` returns a
    DbssClient built from the shared options (it validates them)."""
    request = JobsInfoRequest(params)
    limiter = RateLimiter(request.max_rps, clock=clock, sleep=sleep)
    client = client_factory(limiter)
    poller = JobsPoller(client, retries=0 if request.wait else None)
    start = clock()
    try:
        # Once, before any poll (a wrong name fails here), within the wait's deadline.
        client.find_project(start + request.wait_spec.timeout if request.wait else None)
        if request.instance_ids or request.names:
            # Gate by what users know: each instance ID or name, resolved before any wait, within its deadline.
            listed = instances_or_hint(client, start + request.wait_spec.timeout if request.wait else None)
            found = resolve_resources(listed, request.instance_ids, request.names)
            request.resource_ids = list(dict.fromkeys(request.resource_ids + found))
        if request.wait:
            result = _wait(request, client, poller, on_event, clock, sleep, rng, params, start)
        else:
            answers = poller(request.resource_ids)
            _raise_first_error(request.resource_ids, answers)
            result = shape_result(request, answers)
            empty = [rid for rid in request.resource_ids if not answers[rid]]
            if empty:
                client.warnings.append("no DBSS job for resource%s %s %s" % (
                    "s" if len(empty) > 1 else "", ", ".join(empty[:10]), where_asked(client, params)))
    except DbssError as error:
        # Said on success and on failure alike: a failed run is when it matters most.
        error.warnings = client_warnings(client)
        raise
    finally:
        poller.close()
        client.close()
    if client_warnings(client):
        result["warnings"] = client_warnings(client)
    return result


def client_warnings(client):
    unverified = [] if client.verify else [
        "validate_certs is false: the TLS certificate of %s was not verified; "
        "use ca_path to trust a private CA instead" % client.base_url]
    return unverified + list(client.warnings)


def _raise_first_error(resource_ids, answers):
    """The refused credential if one was (it is the cause), else the first
    error in resource order, naming its resource."""
    failed = [rid for rid in resource_ids if isinstance(answers[rid], DbssError)]
    failed.sort(key=lambda rid: not getattr(answers[rid], "auth_failure", False))
    if failed:
        error = answers[failed[0]]
        raise DbssFailure(str(error), dict(error.to_result(), resource_id=failed[0]))


def compact(fields, kind):
    """A failed wait's result without what grows with the number of resources and
    says nothing new: the events, empty errors, and the unfinished resources
    unless the wait timed out (``states`` already says which are done)."""
    fields.pop("events", None)
    if not fields.get("errors"):
        fields.pop("errors", None)
    if kind != "timeout":
        fields.pop("unfinished", None)
    return fields


def where_asked(client, params, given="resource_id (the instance's resource ID, not its name)"):
    """Which project, region and endpoint were asked, and what to check (``given``:
    what named the instances): the usual cause of nothing found is another project."""
    return "asked project %s (region %s) at %s: check %s, project_id or project_name, and region" % (
        client.project_id, params.get("region") or "not set", client.base_url, given)


def _wait(request, client, poller, on_event, clock, sleep, rng, params, start):
    waiter = JobWaiter(request.wait_spec, poller, clock=clock, sleep=sleep, rng=rng, on_event=on_event,
                       endpoint=client.base_url)
    try:
        outcome = waiter.wait(request.resource_ids, start)
    except WaitFailed as failed:
        # A compact failure: Ansible prints a failed task's whole result, and
        # every resource's job lists and events would turn one failure into
        # kilobytes of log. The failing resource's own job (never another's),
        # each resource's state and followed job id, what is unfinished and why.
        fields = compact(failed.to_result(), failed.kind)
        fields.update(requests=client.requests_sent)
        message = str(failed)
        if failed.kind == KIND_NOT_FOUND:
            message += "; " + where_asked(client, params)
        raise DbssFailure(message, fields)
    result = shape_result(request, outcome.jobs)
    result.update(outcome.to_result(), requests=client.requests_sent)
    if request.instance_spec is not None:
        result.update(_wait_instances(request, client, on_event, clock, sleep, rng, start, result))
    return result


def _wait_instances(request, client, on_event, clock, sleep, rng, start, job_result):
    """Then the instances, within the same deadline: one instance list a round for every resource."""
    waiter = InstanceWaiter(request.instance_spec, lambda deadline: list_instances(client, deadline, retries=0),
                            clock=clock, sleep=sleep, rng=rng, on_event=on_event)
    try:
        instances, lists = waiter.wait(request.resource_ids, start, start + request.wait_spec.timeout)
    except InstanceWaitFailed as failed:
        message = str(failed)
        if getattr(failed.cause, "status", None) == 403:
            message += "; " + PERMISSION_HINT
        fields = compact(dict(failed.fields, failure_kind=failed.kind, states=job_result["states"],
                              elapsed=round(clock() - start, 3), polls=job_result["polls"],
                              requests=client.requests_sent), failed.kind)
        if "resource_id" in fields:  # the job that the failing instance's resource finished
            fields["job"] = _resources(request, job_result).get(fields["resource_id"], {}).get("job")
        if failed.cause is not None:
            for key, value in failed.cause.to_result().items():
                fields.setdefault(key, value)
        raise DbssFailure(message, fields)
    return {"instances": instances, "instance_states": dict((rid, bean.get("status")) for rid, bean in instances.items()),
            "instance_lists": lists, "elapsed": round(clock() - start, 3), "requests": client.requests_sent}


PERMISSION = "the IAM policy must allow dbss:auditInstance:list to read the instance list"
PERMISSION_HINT = PERMISSION + ("; or set wait_instance: false (role: dbss_audit_job_wait_instance: false) to gate "
                                "on the job alone")


def instances_or_hint(client, deadline=None):
    """list_instances, a refusal naming the permission it needs."""
    try:
        return list_instances(client, deadline)
    except DbssApiError as error:
        if error.status != 403:
            raise
        raise DbssFailure("%s; %s" % (error, PERMISSION), error.to_result())


def _resources(request, result):
    if "resources" in result:
        return result["resources"]
    return {request.resource_ids[0]: {"job": result.get("job")}}
