# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Readiness beyond the job: list the project's audit instances (every page),
and wait for instances to reach a target state.

``list_instances(client, deadline, retries)`` reads every page of
``GET /v2/{project_id}/audit/instances``. ``InstanceWaiter`` is pure logic like
dbss_waiter.JobWaiter (clock, sleep and random source injected): each round lists
the instances ONCE for every resource still waiting, whatever their number, then
decides each one (dbss_instances.phase). Same semantics as the job wait: one
deadline, backoff (reset by any change), transient errors retried, a resource
missing from the list tolerated for ``not_found_timeout``, progress events, and
a failure that names the instance and its state.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssError
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_instances import (
    FAILED, MAX_PAGES, PAGE_LIMIT, READY, UNEXPECTED, by_resource, describe, instances_page, phase,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_policy import jittered, next_interval
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_settings import format_seconds
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_secrets import shorten

KIND_FAILED = "instance_failed"
KIND_UNEXPECTED_STATE = "instance_unexpected_state"
KIND_NOT_FOUND = "instance_not_found"
KIND_API_ERROR = "api_error"
KIND_TIMEOUT = "timeout"

InstanceWaitSpec = namedtuple("InstanceWaitSpec", "target_states pending_states failure_states sleep max_sleep "
                                                  "not_found_timeout heartbeat")


def list_instances(client, deadline=None, retries=None):
    """Every audit instance of the client's project, page by page (PAGE_LIMIT
    a page, at most MAX_PAGES pages); raises the first DbssError."""
    project = client.find_project(deadline)
    instances, offset = [], 0
    for _page in range(MAX_PAGES):
        url = "%s/v2/%s/audit/instances?offset=%d&limit=%d" % (client.base_url, project, offset, PAGE_LIMIT)
        page, total = client.request("GET", url, deadline=deadline, retries=retries, parse=instances_page,
                                     operation="listing DBSS audit instances (offset %d)" % offset)
        instances.extend(page)
        offset += len(page)
        if not page or len(page) < PAGE_LIMIT or (total is not None and offset >= total):
            break
    return instances


def _text(value):
    """Server text for an event: shortened, None kept as None."""
    return None if value is None else shorten(str(value), 100)


class InstanceWaitFailed(DbssError):
    """The instance wait ended without success: ``kind``, and the result ``fields``."""

    def __init__(self, kind, message, fields, cause=None):
        super(InstanceWaitFailed, self).__init__(message)
        self.kind, self.fields, self.cause = kind, fields, cause


class InstanceWaiter:
    """Wait until each resource's instance is ready (see the module docstring).
    ``fetch(deadline)`` returns the instance list or raises a DbssError."""

    def __init__(self, spec, fetch, clock, sleep, rng, on_event=None):
        self.spec, self._fetch = spec, fetch
        self._clock, self._sleep, self._rng = clock, sleep, rng
        self._emit = on_event or (lambda event: None)

    def wait(self, resource_ids, start, deadline):
        """({resource_id: instance}, lists) once every one is ready; raises InstanceWaitFailed.
        ``start`` and ``deadline`` are ``clock`` times: the job wait's own."""
        spec, interval, lists = self.spec, self.spec.sleep, 0
        seen, since, missing = {}, {}, {}
        self._reported, self._error = None, None
        while True:
            now = self._clock()
            if now >= deadline:
                raise self._timeout(resource_ids, seen, since, now, start)
            try:
                found, error = by_resource(self._fetch(deadline)), None
            except DbssError as exc:
                found, error = None, exc
            lists += 1
            now = self._clock()
            self._error = error
            if error is not None:
                if not getattr(error, "transient", False):
                    raise InstanceWaitFailed(KIND_API_ERROR, "listing the audit instances failed after %s: %s"
                                             % (format_seconds(round(now - start, 1)), error),
                                             self._fields(resource_ids, seen), cause=error)
                self._emit({"resource_id": "(instance list)", "error": shorten(error, 200), "elapsed": now - start})
            else:
                if self._observe(resource_ids, found, seen, since, missing, now, start):
                    interval = spec.sleep  # something changed: look again soon
                if all(rid in seen and self._phase(seen[rid]) == READY for rid in resource_ids):
                    return dict((rid, seen[rid]) for rid in resource_ids), lists
            if self._reported is None:
                self._beat(resource_ids, seen, now, start)
            next_poll = min(now + jittered(interval, self._rng), deadline)
            interval = next_interval(interval, spec.max_sleep)
            while self._clock() < next_poll:
                beat = self._reported + spec.heartbeat
                self._sleep(max(0.0, min(next_poll, beat) - self._clock()))
                if self._clock() >= beat:
                    self._beat(resource_ids, seen, self._clock(), start)

    def _phase(self, bean):
        spec = self.spec
        return phase(bean, spec.target_states, spec.pending_states, spec.failure_states)

    def _observe(self, resource_ids, found, seen, since, missing, now, start):
        """Record each resource's instance; raise at the first failure."""
        changed = False
        for rid in resource_ids:
            bean = found.get(rid)
            before = seen.get(rid)
            took = format_seconds(round(now - start, 1))
            if bean is None:
                missing.setdefault(rid, now)
                if now - missing[rid] >= self.spec.not_found_timeout:
                    raise InstanceWaitFailed(KIND_NOT_FOUND, "resource %s has no audit instance in the instance "
                                             "list after %s (wait_not_found_timeout is %s)" % (
                                                 rid, took, format_seconds(self.spec.not_found_timeout)),
                                             self._fields(resource_ids, seen, rid))
                continue
            missing.pop(rid, None)
            state = (bean.get("status"), bean.get("task"))
            if before is None or (before.get("status"), before.get("task")) != state:
                changed = True
                since[rid] = now
                self._emit({"resource_id": rid, "instance_id": _text(bean.get("id")), "elapsed": now - start,
                            "first": before is None, "previous_status": _text((before or {}).get("status")),
                            "previous_task": _text((before or {}).get("task")), "status": _text(bean.get("status")),
                            "task": _text(bean.get("task"))})
            seen[rid] = bean
            verdict = self._phase(bean)
            if verdict == FAILED:
                raise InstanceWaitFailed(KIND_FAILED, "DBSS %s of resource %s is in a failure state after %s" % (
                    describe(bean), rid, took), self._fields(resource_ids, seen, rid))
            if verdict == UNEXPECTED:
                raise InstanceWaitFailed(KIND_UNEXPECTED_STATE, "DBSS %s of resource %s is in a state none of "
                                         "instance_target_states, instance_pending_states, instance_failure_states "
                                         "names, after %s" % (describe(bean), rid, took),
                                         self._fields(resource_ids, seen, rid))
        return changed

    def _beat(self, resource_ids, seen, now, start):
        """A progress line: after the first list, then while nothing changes."""
        self._reported = now
        counts = {}
        for rid in resource_ids:
            state = "instance %s" % seen[rid].get("status") if rid in seen else "instance not listed yet"
            counts[state] = counts.get(state, 0) + 1
        self._emit({"event": "progress", "elapsed": now - start, "counts": counts})

    def _timeout(self, resource_ids, seen, since, now, start):
        unready = [rid for rid in resource_ids if not (rid in seen and self._phase(seen[rid]) == READY)]
        listed = ", ".join("%s (%s for %s)" % (rid, describe(seen[rid]), format_seconds(round(now - since[rid], 1)))
                           if rid in seen else "%s (no instance listed)" % rid for rid in unready[:20])
        more = " and %d more" % (len(unready) - 20) if len(unready) > 20 else ""
        last = "" if self._error is None else "; the last instance list failed: %s" % shorten(self._error, 300)
        return InstanceWaitFailed(KIND_TIMEOUT, "timed out after %s waiting for the audit instances to be ready; "
                                  "unready: %s%s%s" % (format_seconds(round(now - start, 1)), listed, more, last),
                                  self._fields(resource_ids, seen, unready[0] if len(unready) == 1 else None))

    def _fields(self, resource_ids, seen, rid=None):
        fields = {"errors": {} if self._error is None else {"(instance list)": shorten(self._error, 200)},
                  "instance_states": dict((r, seen[r].get("status") if r in seen else None) for r in resource_ids),
                  "unfinished": [r for r in resource_ids if not (r in seen and self._phase(seen[r]) == READY)]}
        if rid is not None:
            fields.update(resource_id=rid, instance=seen.get(rid))
        return fields
