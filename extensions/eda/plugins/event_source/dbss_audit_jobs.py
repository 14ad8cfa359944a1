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
import threading
import time

DOCUMENTATION = r"""
---
short_description: Emit an event for every state change of a DBSS audit instance job.
description:
  - An ansible-rulebook event source plugin that watches the jobs of one or more Huawei Cloud
    Database Security Service (DBSS) audit instances and puts one event on the queue for
    every job state transition (V(INIT), V(READY), V(RUNNING), V(SUCCESS), V(FAIL), V(ERROR)).
  - It polls C(GET /v1/{project_id}/audit/{resource_id}/jobs) every O(interval) seconds with
    the same client, options and authentication as the hwcloud.dbss modules.
  - The first observation of a job is silent when the job was already listed at the first
    successful poll of its resource, or when it is first seen in V(INIT). A job that appears
    later and is first seen past V(INIT) emits one event whose C(previous_status) is null.
    After that, each change of status emits one event. The same (resource, job, status)
    never produces two events, even if the API briefly answers an older status again.
  - Every job in the listing is watched, so a newer job on the same resource is followed
    as soon as it appears. With O(job_id) only that job is watched.
  - Every resource is polled on its own schedule (at most 8 polls at the same time), so a resource
    whose polls hang, fail or are throttled does not delay the polls or the events of the others.
  - Until an answer has proved the credentials, polls run one at a time: a wrong credential reaches
    the API once. A refusal no new login cures (HTTP 401 or 403, a refused IAM login, a locked
    AK/SK) is logged once and stops the source with an error naming the authentication mode.
  - Other errors and throttling do not stop the source. A failed poll is retried after
    O(interval) doubled per failure in a row (at most O(backoff_max), less up to a fifth as
    jitter), never sooner than the C(Retry-After) sent with it (at most 120 seconds). Every
    failure is logged, without secrets.
  - The values of O(auth_token), O(secret_key), O(security_token) and O(password) (also when they
    come from the environment) and a password written into O(endpoint) or O(auth_url) are masked
    as C(********) in every log line and every event, even when the API echoes them back,
    whole or in part (any 8 characters of one), JSON-escaped or URL-encoded.
  - Wrong options raise an error naming the option before any request is sent.
  - Each event is a mapping with one key, C(dbss_audit_job), holding C(resource_id), C(job_id),
    C(previous_status), C(status) and C(job), the JobBean with its 13 documented fields.
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
    type: raw
    default: 10
  backoff_max:
    description:
      - Longest pause, in seconds, between polls of a resource that keeps failing. Above 0, at
        most 3600; never shorter than O(interval).
    type: raw
    default: 300
  max_rps:
    description:
      - Most API requests per second, shared by the polls of every resource. Above 0, at most 1000.
      - After an HTTP 429 the shared rate is lowered for all of them (to what the quota allowed), then recovers gradually, as in the
        module's waits; the C(Retry-After) of the 429 pauses only the resource it came with.
    type: raw
    default: 10
  job_id:
    description:
      - Watch only the job with this ID (on whichever of O(resource_ids) lists it).
      - 1 to 128 characters, each a letter, a digit, V(_), V(.) or V(-), like a resource ID.
    type: str
extends_documentation_fragment:
  - hwcloud.dbss.dbss
notes:
  - The connection and authentication options, their C(HW_*) and C(OS_*) environment variables and their
    precedence are those of the hwcloud.dbss modules (the C(hwcloud.dbss.dbss) documentation fragment).
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


def _make_collection_importable():
    """ansible-rulebook runs this file with runpy and does not set up Ansible's
    collection loader. When the collection is not importable yet and this file
    lives in ``.../ansible_collections/hwcloud/dbss/extensions/eda/plugins/event_source``,
    put the folder that holds ``ansible_collections`` on ``sys.path``."""
    try:
        if importlib.util.find_spec("ansible_collections.hwcloud.dbss.plugins.module_utils") is not None:
            return
    except ImportError:
        pass
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

from ansible_collections.hwcloud.dbss.plugins.module_utils import dbss_settings as settings  # noqa: E402
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_client import HAS_REQUESTS  # noqa: E402
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssConfigError, DbssError  # noqa: E402
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs import ChangeTracker, age, followed_job  # noqa: E402
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_options import (  # noqa: E402
    argument_spec, build_client, secret_values)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_policy import (  # noqa: E402
    RETRY_AFTER_CAP, jittered, next_interval)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_ratelimit import RateLimiter  # noqa: E402
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_secrets import SecretMasker, shorten  # noqa: E402
# pylint: enable=wrong-import-position

NAME = "hwcloud.dbss.dbss_audit_jobs"
LOGGER = logging.getLogger("hwcloud.dbss.eda.dbss_audit_jobs")
EVENT_KEY = "dbss_audit_job"
INITIAL_STATUS = "INIT"
# Polls of different resources that may run at the same time (each one in a daemon thread).
MAX_PARALLEL_POLLS = 8
# Jobs remembered per resource; the least recently listed are forgotten first.
MAX_JOBS_REMEMBERED = 1000
# Longest log line, in characters (cut after masking, never before).
MAX_LOG_LINE = 2000

PLUGIN_SPEC = dict(
    resource_ids=dict(type="list", elements="str", required=True),
    # raw: the collection reads the number (ansible-core's float conversion overflows on 1e999)
    interval=dict(type="raw", default=10.0),
    backoff_max=dict(type="raw", default=300.0),
    job_id=dict(type="str"),
    max_rps=dict(type="raw", default=10.0),
)


class Settings:
    """The validated options of one source; raises DbssConfigError naming the
    first bad one. ``params`` hold credentials: no repr shows them."""

    def __init__(self, params, masker):
        self.params = params
        self.masker = masker
        self.resource_ids = settings.validate_resource_ids(None, params.get("resource_ids"))
        self.interval = settings.validate_timeout(params.get("interval"), option="interval")
        self.backoff_max = max(settings.validate_timeout(params.get("backoff_max"), option="backoff_max"),
                               self.interval)
        job_id = params.get("job_id")
        self.job_id = None if job_id is None else settings.validate_resource_id(job_id, option="job_id")
        self.max_rps = settings.validate_rate(params.get("max_rps"), "max_rps")


def parse_args(args):
    """Validate ``args`` like the modules validate their options (types,
    environment fallbacks, then the collection's own rules)."""
    if not isinstance(args, dict):
        raise DbssConfigError("args", "the source arguments must be a mapping")
    # ansible-rulebook adds its own entries (eda_feedback_queue); they are not options.
    given = dict((key, value) for key, value in args.items() if not str(key).startswith("eda_"))
    spec = argument_spec(PLUGIN_SPEC)
    result = ArgumentSpecValidator(spec).validate(given)
    # pylint: disable-next=protected-access
    masker = SecretMasker(secret_values(result.validated_parameters, result._no_log_values))
    unsupported = sorted(str(name) for name in result.unsupported_parameters)
    if unsupported:
        raise DbssConfigError(unsupported[0], "is not an option of %s (options: %s)" % (NAME, ", ".join(sorted(spec))))
    if result.error_messages:
        message = masker.text(result.error_messages[0])
        raise DbssConfigError(_option_in(message, spec), message)
    return Settings(result.validated_parameters, masker)


def _option_in(message, spec):
    """The option a validator message is about (the first option name quoted or
    listed in it), for DbssConfigError.option."""
    for name in sorted(spec, key=len, reverse=True):
        if "'%s'" % name in message or message.endswith(": %s" % name) or ": %s," % name in message:
            return name
    return "args"


def masked_log(masker):
    """``log(level, message, *args)`` to LOGGER: the finished line masked, then
    shortened (error texts come from the server, which may echo a credential)."""
    def log(level, message, *args):
        if LOGGER.isEnabledFor(level):
            LOGGER.log(level, "%s", shorten(masker.text(message % args if args else message), MAX_LOG_LINE))
    return log


class JobEvents:
    """Turns successive job listings of resources into transition events (the
    rules of docs/eda.md, "When an event is sent", on ChangeTracker keyed by
    (resource_id, job_id)): ``observe(resource_id, jobs)`` returns the events a
    listing causes, older jobs first. Raises AmbiguousJob when ``job_id``
    matches several jobs."""

    def __init__(self, job_id=None, max_jobs=MAX_JOBS_REMEMBERED):
        self.job_id, self.max_jobs, self.changes = job_id, max_jobs, ChangeTracker()
        self._seen = {}  # resource_id -> OrderedDict(job_id -> statuses seen), least recently listed first

    def observe(self, resource_id, jobs):
        if self.job_id is not None:
            found = followed_job(jobs, self.job_id)
            jobs = [] if found is None else [found]
        first = resource_id not in self._seen
        seen = self._seen.setdefault(resource_id, collections.OrderedDict())
        events = []
        for job in sorted(jobs, key=age):
            status = job.get("status")
            if job.get("job_id") is None or not isinstance(status, str):
                continue  # nothing to follow
            key = str(job["job_id"])
            statuses = seen.setdefault(key, set())
            seen.move_to_end(key)
            if status in statuses:
                continue  # each status once, even when a lagging replica answers an older one again
            statuses.add(status)
            # Never None: a status not seen yet differs from the last one observed for the key.
            previous = self.changes.observe((resource_id, key), {"job_id": key, "status": status})["previous_status"]
            if previous is not None or not (first or status == INITIAL_STATUS):  # else a silent first sighting
                events.append({EVENT_KEY: {"resource_id": resource_id, "job_id": key, "previous_status": previous,
                                           "status": status, "job": dict(job)}})
        while len(seen) > self.max_jobs:
            self.changes.forget((resource_id, seen.popitem(last=False)[0]))
        return events


def in_daemon_thread(function, *args):
    """``function(*args)`` in a daemon thread, as a future of the running loop.
    Unlike the loop's default executor, whose threads are joined at exit, a call
    hanging in the client keeps neither a cancelled source nor the interpreter
    from ending; its result is dropped."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def settle(result, error):
        if future.done():  # cancelled meanwhile
            return
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    def run():
        try:
            outcome = (function(*args), None)
        except Exception as error:  # pylint: disable=broad-except
            outcome = (None, error)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    threading.Thread(target=run, name="%s poll" % NAME, daemon=True).start()
    return future


class SourceStopped(DbssError):
    """The source stopped: the API refused its credentials."""


class _Watcher:
    """Polls the resources of one source, each in its own task on its own
    schedule: a resource whose polls hang, fail or are throttled must not delay
    the polls, nor hold back the events, of any other resource."""

    def __init__(self, queue, client, config, sleep, rng):
        self.queue = queue
        self.client = client
        self.config = config
        self.sleep = sleep
        self.rng = rng
        self.log = masked_log(config.masker)
        self.tracker = JobEvents(job_id=config.job_id)
        # Time one poll may take, retries included.
        self.budget = max(config.interval, client.timeout)
        self.slots = asyncio.Semaphore(MAX_PARALLEL_POLLS)
        # Until an answer proves the credentials, one poll at a time: a wrong one reaches the API once
        # (the client then raises the same refusal for every later call without sending it).
        self.probe = asyncio.Lock()
        self.stopped = None

    async def run(self):
        """Follow every resource until cancelled or stopped."""
        loop = asyncio.get_running_loop()
        # Each task is named after its resource (asyncio debug output, tests).
        tasks = [loop.create_task(self.follow(rid), name=rid) for rid in self.config.resource_ids]
        try:
            await asyncio.gather(*tasks)  # follow() only ends by raising
        finally:
            for task in tasks:
                task.cancel()
            # Wait until every task has really finished, so none outlives the source.
            await asyncio.gather(*tasks, return_exceptions=True)

    async def poll(self, resource_id):
        """One listing of ``resource_id``, in a daemon thread."""
        async with self.slots:
            if not self.client.authenticated:
                async with self.probe:
                    if self.stopped is not None:
                        raise self.stopped
                    if not self.client.authenticated:  # else proven while this poll waited its turn
                        return await self._list(resource_id)
            return await self._list(resource_id)

    def _list(self, resource_id):
        # No retries inside the call: the source backs off (and honours Retry-After) for
        # this resource alone, so a throttled resource never holds a poll slot meanwhile.
        return in_daemon_thread(self.client.list_jobs, resource_id, time.monotonic() + self.budget, 0)

    async def follow(self, resource_id):
        """Poll one resource until cancelled: ``interval`` after a good answer,
        the backoff after a failure."""
        failures, backoff = 0, self.config.interval
        while True:
            try:
                events = self.tracker.observe(resource_id, await self.poll(resource_id))
            except SourceStopped:
                raise
            except Exception as error:  # pylint: disable=broad-except
                # Whatever breaks one poll is logged and retried later; only refused credentials stop the source.
                if getattr(error, "auth_failure", False):  # a 401 no re-login cures, a 403, a locked key
                    raise self.stop(error)
                failures += 1
                backoff = next_interval(backoff, self.config.backoff_max)
                pause = self.failed(resource_id, failures, jittered(backoff, self.rng), error)
            else:
                if failures:
                    self.log(logging.INFO, "polling DBSS jobs of resource %s works again after %d failed polls",
                             resource_id, failures)
                failures, backoff, pause = 0, self.config.interval, self.config.interval
                for event in events:
                    await self.emit(event)
            await self.sleep(pause)

    def failed(self, resource_id, failures, pause, error):
        """Log a failed poll; returns the pause before the next one: ``pause``,
        or the Retry-After sent with the failure (capped) if that is longer."""
        # dbss_policy.parse_retry_after: seconds, never negative, or None.
        pause = max(pause, min(getattr(error, "retry_after", None) or 0, RETRY_AFTER_CAP))
        if isinstance(error, DbssError):
            kind, text = ("transient" if getattr(error, "transient", False) else "permanent"), str(error)
        else:
            kind, text = "unexpected", "%s: %s" % (type(error).__name__, error)
        self.log(logging.WARNING, "polling DBSS jobs of resource %s failed (%s, %d in a row); next poll in %.1f s: %s",
                 resource_id, kind, failures, pause, text)
        return pause

    def stop(self, error):
        """The credentials were refused: log it once; the error that ends every resource."""
        if self.stopped is None:
            said = str(error) if getattr(error, "auth_label", None) else "(mode: %s) %s" % (self.client.auth.label, error)
            self.stopped = SourceStopped(shorten(self.config.masker.text(
                "%s stopped polling every resource; fix the credentials, then restart the rulebook. %s"
                % (NAME, said)), MAX_LOG_LINE))
            self.log(logging.ERROR, "%s", self.stopped)
        return self.stopped

    async def emit(self, event):
        """Put one event on the queue, secrets masked."""
        event = self.config.masker.data(event)
        body = event[EVENT_KEY]
        self.log(logging.INFO, "DBSS job %s of resource %s: %s -> %s",
                 body["job_id"], body["resource_id"], body["previous_status"], body["status"])
        await self.queue.put(event)


async def main(queue, args, sleep=asyncio.sleep, rng=random.random):
    """Entry point called by ansible-rulebook: validate ``args``, then watch
    the resources until the task is cancelled (``sleep`` and ``rng``: for tests)."""
    if not HAS_REQUESTS:
        raise DbssConfigError("requests", "the Python library requests is needed by %s; "
                                          "install it in the ansible-rulebook environment" % NAME)
    config = parse_args(args)
    log = masked_log(config.masker)
    # A 429 slows every resource down; its Retry-After pauses only the resource it answered.
    limiter = RateLimiter(config.max_rps, pause_all=False)
    client = build_client(config.params, config.masker, rate_limiter=limiter,
                          log=lambda message: log(logging.DEBUG, "%s", message))
    log(logging.INFO, "watching DBSS jobs of %d resource(s) at %s every %g s", len(config.resource_ids),
        client.base_url, config.interval)
    try:
        await _Watcher(queue, client, config, sleep, rng).run()
    finally:
        client.close()
