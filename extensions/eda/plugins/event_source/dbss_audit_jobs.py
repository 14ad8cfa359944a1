# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Event-Driven Ansible source plugin: DBSS audit instance job transitions.

ansible-rulebook loads this file with ``runpy.run_path`` and awaits
``main(queue, args)``. It polls ``GET /v1/{project_id}/audit/{resource_id}/jobs``
for every watched resource with the collection's own client (the code the
modules use) and puts one event on the queue for every job state transition.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import collections
import importlib.util
import logging
import os
import random
import sys
import time

DOCUMENTATION = r"""
---
short_description: Emit an event for every state change of a DBSS audit instance job.
description:
  - An ansible-rulebook event source plugin that watches the jobs of one or more Huawei Cloud
    Database Security Service (DBSS) audit instances and puts one event on the queue for
    every job state transition (V(INIT), V(READY), V(RUNNING), V(SUCCESS), V(FAIL)).
  - It polls C(GET /v1/{project_id}/audit/{resource_id}/jobs) every O(interval) seconds with
    the same client, options and authentication as the hwcloud.dbss modules.
  - The first observation of a job is silent when the job was already listed at the first
    successful poll of its resource, or when it is first seen in V(INIT). A job that appears
    later and is first seen past V(INIT) emits one event with C(previous_status: null).
    After that, each change of status emits one event. The same (resource, job, status)
    never produces two events, even if the API briefly answers an older status again.
  - Every job in the listing is watched, so a newer job on the same resource is followed
    as soon as it appears. With O(job_id) only that job is watched.
  - Every resource is polled on its own schedule, so a resource whose polls hang or fail
    does not delay the polls or the events of the others. At most 4 polls run at the same time.
  - Errors and throttling do not stop the source. A failed poll is retried after an
    exponential backoff (O(interval) doubled per consecutive failure, at most O(backoff_max)),
    never sooner than the C(Retry-After) the API sent. Every failure is logged, without secrets.
  - The values of O(auth_token), O(secret_key), O(security_token) and O(password) (also when they
    come from the environment) and a password written into O(endpoint) or O(auth_url) are masked
    as C(********) in every log line and every event, even when the API echoes them back.
  - Wrong options raise an error naming the option before any request is sent.
  - Event shape C({"dbss_audit_job": {"resource_id", "job_id", "previous_status", "status", "job"}}),
    where C(job) is the JobBean with its 13 documented fields.
options:
  resource_ids:
    description:
      - IDs of the DBSS audit instances to watch. Duplicates are dropped.
    type: list
    elements: str
    required: true
  interval:
    description:
      - Seconds between two polls of one resource when it answers normally. Above 0, at most 3600.
    type: float
    default: 10
  backoff_max:
    description:
      - Longest pause, in seconds, between polls of a resource that keeps failing. Above 0, at
        most 3600; never shorter than O(interval).
    type: float
    default: 300
  max_rps:
    description:
      - Most API requests per second, shared by the polls of every resource. Above 0.
      - After an HTTP 429 the rate is halved for all of them (honouring C(Retry-After)), then recovers
        gradually, as in the module's waits.
    type: float
    default: 10
  job_id:
    description:
      - Watch only the job with this ID (on whichever of O(resource_ids) lists it).
      - 1 to 128 characters, each a letter, a digit, V(_), V(.) or V(-), like a resource ID.
    type: str
  project_id:
    description:
      - ID of the Huawei Cloud project that owns the audit instances (32 to 64 characters).
      - Defaults to the E(HW_PROJECT_ID) environment variable.
    type: str
    required: true
  region:
    description:
      - Region of the DBSS service, for example V(cn-north-4); builds V(https://dbss.<region>.<cloud>).
      - Defaults to E(HW_REGION_NAME).
    type: str
  cloud:
    description:
      - Domain of the Huawei Cloud site. Defaults to E(HW_CLOUD), then V(myhuaweicloud.com).
    type: str
    default: myhuaweicloud.com
  endpoint:
    description:
      - Full base URL of the DBSS API; wins over O(region). Defaults to E(HW_DBSS_ENDPOINT).
    type: str
  auth_token:
    description:
      - IAM token sent as C(X-Auth-Token). Defaults to E(HW_AUTH_TOKEN), then E(OS_AUTH_TOKEN).
    type: str
  access_key:
    description:
      - Access key for AK/SK request signing, with O(secret_key). Defaults to E(HW_ACCESS_KEY).
    type: str
  secret_key:
    description:
      - Secret key for AK/SK request signing. Defaults to E(HW_SECRET_KEY).
    type: str
  security_token:
    description:
      - Security token of temporary AK/SK credentials. Defaults to E(HW_SECURITY_TOKEN).
    type: str
  auth_url:
    description:
      - IAM endpoint for password login. Defaults to E(HW_AUTH_URL), then V(https://iam.<region>.<cloud>/v3).
    type: str
  user_name:
    description:
      - IAM user for password login, with O(password) and O(domain_name). Defaults to E(HW_USER_NAME).
    type: str
  password:
    description:
      - Password of O(user_name). Defaults to E(HW_USER_PASSWORD).
    type: str
  domain_name:
    description:
      - Account (domain) of O(user_name). Defaults to E(HW_DOMAIN_NAME).
    type: str
  validate_certs:
    description:
      - Whether to verify the API's TLS certificate.
    type: bool
    default: true
  ca_path:
    description:
      - CA bundle (file or hashed directory) that verifies the API's certificate.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP answer, above 0 and at most 3600.
    type: float
    default: 30
  max_retries:
    description:
      - Retries of one request after a transient failure inside one poll (0 to 20).
        Defaults to E(HW_MAX_RETRIES), then V(5).
    type: int
    default: 5
notes:
  - Authentication modes and their precedence are those of the hwcloud.dbss modules
    (O(auth_token), then O(access_key) + O(secret_key), then O(user_name) + O(password) + O(domain_name)).
    Prefer the environment variables over writing credentials into a rulebook.
requirements:
  - python >= 3.9
  - ansible-core
  - requests
"""

EXAMPLES = r"""
- name: React to DBSS audit instance jobs
  hosts: localhost
  sources:
    - hwcloud.dbss.dbss_audit_jobs:
        project_id: "{{ project_id }}"
        region: cn-north-4
        resource_ids:
          - 8a4bc1a2f1e84e1bb1d6a6d9e8e3a3b1
        interval: 15
  rules:
    - name: Audit instance ready
      condition: event.dbss_audit_job.status == "SUCCESS"
      action:
        run_playbook:
          name: on_success.yml
    - name: Audit instance job failed
      condition: event.dbss_audit_job.status == "FAIL"
      action:
        run_playbook:
          name: on_failure.yml
"""


def _collection_importable():
    try:
        return importlib.util.find_spec("ansible_collections.hwcloud.dbss.plugins.module_utils") is not None
    except ImportError:
        return False


def _make_collection_importable():
    """ansible-rulebook runs this file with runpy and does not set up Ansible's
    collection loader. When the collection is not importable yet and this file
    lives in ``.../ansible_collections/hwcloud/dbss/extensions/eda/plugins/event_source``,
    put the folder that holds ``ansible_collections`` on ``sys.path``."""
    if _collection_importable():
        return
    here = os.path.dirname(os.path.abspath(__file__))
    collection_root = os.path.normpath(os.path.join(here, "..", "..", "..", ".."))
    namespace_dir, name = os.path.split(collection_root)
    collections_dir, namespace = os.path.split(namespace_dir)
    top, package = os.path.split(collections_dir)
    if (package, namespace, name) == ("ansible_collections", "hwcloud", "dbss") and top not in sys.path:
        sys.path.append(top)


_make_collection_importable()

# pylint: disable=wrong-import-position
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402
from ansible.module_utils.common.parameters import remove_values  # noqa: E402

from ansible_collections.hwcloud.dbss.plugins.module_utils import dbss_settings as settings  # noqa: E402
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_client import HAS_REQUESTS  # noqa: E402
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssConfigError, DbssError  # noqa: E402
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_module import (  # noqa: E402
    COMMON_ARGUMENT_SPEC,
    SECRET_OPTIONS,
    build_client,
    secret_values,
    url_passwords,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_ratelimit import DEFAULT_RATE, RateLimiter  # noqa: E402
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_waiter import followed_job  # noqa: E402
# pylint: enable=wrong-import-position

LOGGER = logging.getLogger("hwcloud.dbss.eda.dbss_audit_jobs")

EVENT_KEY = "dbss_audit_job"
INITIAL_STATUS = "INIT"
DEFAULT_INTERVAL = 10.0
DEFAULT_BACKOFF_MAX = 300.0
# A Retry-After longer than this is treated as this (a broken header must not
# silence a resource for days).
RETRY_AFTER_LIMIT = 3600.0
# Polls of different resources that may run at the same time (each one holds a
# worker thread of the event loop's default executor while it waits for HTTP).
MAX_PARALLEL_POLLS = 4
# Jobs remembered per resource; the least recently listed are forgotten first.
MAX_JOBS_REMEMBERED = 1000

PLUGIN_SPEC = dict(
    resource_ids=dict(type="list", elements="str", required=True),
    interval=dict(type="float", default=DEFAULT_INTERVAL),
    backoff_max=dict(type="float", default=DEFAULT_BACKOFF_MAX),
    job_id=dict(type="str"),
    max_rps=dict(type="float", default=DEFAULT_RATE),
)


class Settings:
    """The validated options of one source."""

    def __init__(self, params, resource_ids, interval, backoff_max, job_id, secrets=frozenset(),
                 rate_limiter=None):
        self.params = params
        self.resource_ids = resource_ids
        self.interval = interval
        self.backoff_max = backoff_max
        self.job_id = job_id
        # One request-rate limit for every resource's polls (slowed by a 429).
        self.rate_limiter = rate_limiter
        # Values masked in every log line and event; never part of repr().
        self.secrets = secrets

    def __repr__(self):
        return "Settings(resource_ids=%r, interval=%r, backoff_max=%r, job_id=%r)" % (
            self.resource_ids, self.interval, self.backoff_max, self.job_id)


def mask(value, secrets):
    """``value`` (a text, or an event with nested containers) with every secret
    replaced by ``********``, as the modules mask their results (remove_values;
    a text that is nothing but a secret becomes VALUE_SPECIFIED_IN_NO_LOG_PARAMETER)."""
    return remove_values(value, secrets) if secrets else value


def masked_log(secrets):
    """A ``log(level, message, *args)`` that writes to LOGGER with ``secrets``
    masked in the finished line: error texts come from the server, which may
    echo a credential back."""
    def log(level, message, *args):
        if LOGGER.isEnabledFor(level):
            LOGGER.log(level, "%s", mask(message % args if args else message, secrets))
    return log


def _secret_values(given, validation):
    """Everything the source must never print: what the modules mask
    (secret_values), and the secret options and URL passwords as given, for a
    value the validator refused to convert."""
    values = set(secret_values(validation)) | url_passwords(given)
    for options in (given, validation.validated_parameters):
        values.update(options.get(name) for name in SECRET_OPTIONS)
    # An empty string would "occur" everywhere and mask every character boundary.
    return frozenset(str(value) for value in values if value not in (None, ""))


def parse_args(args):
    """Validate ``args`` like the modules validate their options (types,
    environment fallbacks, then the collection's own rules). Returns a
    ``Settings``; raises DbssConfigError naming the first bad option."""
    if not isinstance(args, dict):
        raise DbssConfigError("args", "the source arguments must be a mapping")
    # ansible-rulebook adds its own entries (eda_feedback_queue); they are not options.
    given = dict((key, value) for key, value in args.items() if not str(key).startswith("eda_"))
    spec = dict(COMMON_ARGUMENT_SPEC)
    spec.update(PLUGIN_SPEC)
    result = ArgumentSpecValidator(spec).validate(given)
    secrets = _secret_values(given, result)
    unsupported = sorted(str(name) for name in result.unsupported_parameters)
    if unsupported:
        raise DbssConfigError(unsupported[0], "is not an option of hwcloud.dbss.dbss_audit_jobs (options: %s)"
                              % ", ".join(sorted(spec)))
    if result.error_messages:
        message = mask(result.error_messages[0], secrets)
        raise DbssConfigError(_option_in(message, spec), message)
    params = result.validated_parameters
    resource_ids = settings.validate_resource_ids(None, params.get("resource_ids"))
    interval = settings.validate_timeout(params.get("interval"), option="interval")
    backoff_max = max(settings.validate_timeout(params.get("backoff_max"), option="backoff_max"), interval)
    job_id = params.get("job_id")
    if job_id is not None:
        job_id = settings.validate_resource_id(job_id, option="job_id")
    rate_limiter = RateLimiter(rate=params.get("max_rps"), option="max_rps")  # refuses a rate <= 0
    return Settings(params, resource_ids, interval, backoff_max, job_id, secrets, rate_limiter)


def _option_in(message, spec):
    """The option a validator message is about (the first option name quoted or
    listed in it), for DbssConfigError.option."""
    for name in sorted(spec, key=len, reverse=True):
        if "'%s'" % name in message or message.endswith(": %s" % name) or ": %s," % name in message:
            return name
    return "args"


def backoff_delay(failures, interval, backoff_max, retry_after=None, rng=random.random):
    """Pause before the next poll of a resource after ``failures`` consecutive
    failed polls: ``interval * 2**failures`` capped at ``backoff_max``, with up
    to 10 % jitter below it, and never shorter than ``retry_after``."""
    base = min(backoff_max, interval * (2 ** min(failures, 30)))
    delay = base * (0.9 + 0.1 * rng())
    if retry_after is not None and not isinstance(retry_after, bool) and isinstance(retry_after, (int, float)) and retry_after > 0:
        delay = max(delay, min(float(retry_after), RETRY_AFTER_LIMIT))
    return delay


def _sort_key(job):
    begin = job.get("begin_time")
    if isinstance(begin, bool) or not isinstance(begin, (int, float)):
        begin = -1
    return begin


class JobTracker:
    """Turns successive job listings of resources into transition events.

    Pure state, no I/O but debug logging through ``log(level, message, *args)``:
    ``observe(resource_id, jobs)`` returns the events the listing causes, in
    order (older jobs first)."""

    def __init__(self, job_id=None, max_jobs=MAX_JOBS_REMEMBERED, log=LOGGER.log):
        self.job_id = job_id
        self.max_jobs = max_jobs
        self.log = log
        self._baselined = set()
        # resource_id -> OrderedDict(job_id -> {"last": status, "seen": set(statuses)})
        self._jobs = {}

    def observe(self, resource_id, jobs):
        if self.job_id is not None:
            found = followed_job(jobs, self.job_id)
            jobs = [] if found is None else [found]
        baseline = resource_id not in self._baselined
        self._baselined.add(resource_id)
        known = self._jobs.setdefault(resource_id, collections.OrderedDict())
        events = []
        for job in sorted((j for j in jobs or () if isinstance(j, dict)), key=_sort_key):
            job_id = job.get("job_id")
            status = job.get("status")
            if job_id is None or not isinstance(status, str):
                self.log(logging.DEBUG, "resource %s listed a job without job_id or status; ignored", resource_id)
                continue
            key = str(job_id)
            record = known.get(key)
            if record is None:
                record = {"last": status, "seen": set([status])}
                known[key] = record
                if not baseline and status != INITIAL_STATUS:
                    events.append(_event(resource_id, key, None, status, job))
            elif status not in record["seen"]:
                events.append(_event(resource_id, key, record["last"], status, job))
                record["seen"].add(status)
                record["last"] = status
            elif status != record["last"]:
                self.log(logging.DEBUG, "job %s of resource %s answered %s again after %s; no event",
                         key, resource_id, status, record["last"])
            known.move_to_end(key)
        while len(known) > self.max_jobs:
            known.popitem(last=False)
        return events


def _event(resource_id, job_id, previous, status, job):
    return {EVENT_KEY: {
        "resource_id": resource_id,
        "job_id": job_id,
        "previous_status": previous,
        "status": status,
        "job": dict(job),
    }}


async def _poll(client, resource_id, budget):
    """One listing in a worker thread; returns (jobs, None) or (None, error)."""
    deadline = time.monotonic() + budget
    try:
        jobs = await asyncio.to_thread(client.list_jobs, resource_id, deadline)
    except DbssError as error:
        return None, error
    except Exception as error:  # pylint: disable=broad-except
        # Whatever breaks one poll must not end the source; it is logged and retried later.
        return None, DbssError("unexpected %s while polling: %s" % (type(error).__name__, error))
    return jobs, None


def _describe_failure(error):
    kind = "transient" if getattr(error, "transient", False) else "permanent"
    return kind, str(error)


class _Watcher:
    """Polls the resources of one source, each in its own task on its own
    schedule: a resource whose polls hang or keep failing must not delay the
    polls, nor hold back the events, of any other resource."""

    def __init__(self, queue, client, config, rng=random.random):
        self.queue = queue
        self.client = client
        self.config = config
        self.rng = rng
        self.log = masked_log(config.secrets)
        self.tracker = JobTracker(job_id=config.job_id, log=self.log)
        # Time one poll may take, retries included.
        self.budget = max(config.interval, client.timeout)
        self.limit = asyncio.Semaphore(MAX_PARALLEL_POLLS)

    async def run(self):
        """Follow every resource until cancelled."""
        tasks = [asyncio.ensure_future(self.follow(resource_id)) for resource_id in self.config.resource_ids]
        try:
            # follow() never returns; an unexpected exception in one ends the source, as it always did.
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            # Wait until every task has really finished, so none outlives the source.
            await asyncio.gather(*tasks, return_exceptions=True)

    async def follow(self, resource_id):
        """Poll one resource forever: ``interval`` after a good answer, the
        backoff after a failure."""
        failures = 0
        while True:
            async with self.limit:
                jobs, error = await _poll(self.client, resource_id, self.budget)
            if error is not None:
                failures += 1
                await asyncio.sleep(self.failed(resource_id, failures, error))
                continue
            if failures:
                self.log(logging.INFO, "polling DBSS jobs of resource %s works again after %d failed polls",
                         resource_id, failures)
            failures = 0
            await self.emit(resource_id, jobs)
            await asyncio.sleep(self.config.interval)

    def failed(self, resource_id, failures, error):
        """Log a failed poll; returns the pause before the next one."""
        delay = backoff_delay(failures, self.config.interval, self.config.backoff_max,
                              getattr(error, "retry_after", None), self.rng)
        kind, text = _describe_failure(error)
        self.log(logging.WARNING, "polling DBSS jobs of resource %s failed (%s, %d in a row); next poll in %.1f s: %s",
                 resource_id, kind, failures, delay, text)
        return delay

    async def emit(self, resource_id, jobs):
        """Put the events of one listing on the queue, secrets masked."""
        for event in self.tracker.observe(resource_id, jobs):
            event = mask(event, self.config.secrets)
            body = event[EVENT_KEY]
            self.log(logging.INFO, "DBSS job %s of resource %s: %s -> %s",
                     body["job_id"], body["resource_id"], body["previous_status"], body["status"])
            await self.queue.put(event)


async def watch(queue, client, config, rng=random.random):
    """Poll until cancelled, putting transition events on ``queue``."""
    await _Watcher(queue, client, config, rng).run()


async def main(queue, args):
    """Entry point called by ansible-rulebook: validate ``args``, then watch
    the resources until the task is cancelled."""
    if not HAS_REQUESTS:
        raise DbssConfigError("requests", "the Python library requests is needed by hwcloud.dbss.dbss_audit_jobs; "
                                          "install it in the ansible-rulebook environment")
    config = parse_args(args)
    log = masked_log(config.secrets)
    client = build_client(config.params, rate_limiter=config.rate_limiter,
                          log=lambda message: log(logging.DEBUG, message))
    log(logging.INFO, "watching DBSS jobs of %d resource(s) at %s every %g s", len(config.resource_ids),
        client.base_url, config.interval)
    try:
        await watch(queue, client, config)
    finally:
        client.close()


if __name__ == "__main__":
    # A quick manual run: python dbss_audit_jobs.py RESOURCE_ID [RESOURCE_ID ...]
    # with HW_PROJECT_ID, HW_DBSS_ENDPOINT or HW_REGION_NAME and credentials in the environment.

    class _PrintQueue:
        async def put(self, event):
            print(event)

    logging.basicConfig(level=logging.INFO)
    asyncio.run(main(_PrintQueue(), {"resource_ids": sys.argv[1:], "interval": 5}))
