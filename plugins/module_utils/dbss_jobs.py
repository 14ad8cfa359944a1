# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The JobBean model: its fields, its states, and which job a wait follows
(docs/guide.md, "Which job is followed"): no ``jobs`` is no job (the SDK's
model makes it optional); a job of another resource makes the answer
malformed; the newest job has the greatest ``begin_time``, and one without a
usable ``begin_time`` has not begun, so it is newer than all (fail closed);
a ``job_id`` carried by several jobs is ambiguous.

``ChangeTracker`` turns the jobs followed under each key into state-change
events; the waiter keys it by resource, the EDA source by (resource, job).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

# The 13 documented JobBean fields, in the API reference's order.
JOB_FIELDS = ("job_id", "status", "job_type", "server_id", "server_name", "resource_id", "begin_time", "end_time",
              "charge_mode", "error_code", "fail_reason", "ha_id", "ha_name")

JOB_STATES = ("INIT", "READY", "RUNNING", "SUCCESS", "FAIL", "ERROR")
DEFAULT_TARGET_STATES = ("SUCCESS",)
DEFAULT_PENDING_STATES = ("INIT", "READY", "RUNNING")
DEFAULT_FAILURE_STATES = ("FAIL", "ERROR")


class MalformedJobs(ValueError):
    """An answer that is not a job list of the resource asked about."""


class AmbiguousJob(ValueError):
    """Several jobs of one resource carry the job_id a wait follows
    (``job_id``, and ``count`` jobs carry it)."""

    def __init__(self, job_id, count):
        self.job_id = job_id
        self.count = count
        super(AmbiguousJob, self).__init__(
            "job_id %s matches %d jobs, so which one to follow is ambiguous" % (job_id, count))


def normalise_job(job):
    """Every documented field present (None when the API left it out); extra
    fields the API may add later are kept, values untouched."""
    out = dict((name, job.get(name)) for name in JOB_FIELDS)
    for key, value in job.items():
        if key not in out:
            out[key] = value
    return out


def jobs_from_body(data, resource_id):
    """The normalised jobs of a decoded 200 answer for ``resource_id``;
    raises MalformedJobs saying what is wrong."""
    if not isinstance(data, dict):
        raise MalformedJobs("response body is not a JSON object")
    jobs = data.get("jobs")
    if jobs is None:
        return []
    if not isinstance(jobs, list):
        raise MalformedJobs("'jobs' is not a list")
    for job in jobs:
        if not isinstance(job, dict):
            raise MalformedJobs("'jobs' holds an entry that is not an object")
        owner = job.get("resource_id")
        if owner is not None and owner != resource_id:
            raise MalformedJobs("the answer lists job %s of another resource (%s), not of %s"
                                % (job.get("job_id"), owner, resource_id))
    return [normalise_job(job) for job in jobs]


def begin_time(job):
    """``begin_time`` as a number, or None when it is missing or unusable."""
    value = job.get("begin_time")
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, (int, float)) and not (math.isnan(value) or math.isinf(value)):
        return value
    return None


def age(job):
    """Sort key, oldest first: a job without a usable begin_time has not begun,
    so it is newer than any that has; on a tie, a job not (yet) SUCCESS counts
    as the newer, so a tie can never open a gate (fail closed)."""
    when = begin_time(job)
    return (when is None, when or 0, job.get("status") != "SUCCESS")


def newest_job(jobs):
    """The newest job (see ``age``; the first of equals), or None for no jobs."""
    best = None
    for job in jobs or ():
        if best is None or age(job) > age(best):
            best = job
    return best


def followed_job(jobs, job_id=None):
    """The job a wait follows, or None; raises AmbiguousJob."""
    if job_id is None:
        return newest_job(jobs)
    matches = [job for job in jobs if job.get("job_id") is not None and str(job.get("job_id")) == job_id]
    if len(matches) > 1:
        raise AmbiguousJob(job_id, len(matches))
    return matches[0] if matches else None


class ChangeTracker:
    """Says when the job followed under a key (a resource ID) changes, as an event.

    ``observe(key, job, elapsed=None)`` takes the job now followed (a JobBean
    dict, or None) and returns ``{"resource_id": key, "job_id", "previous_status",
    "status", "elapsed"}`` when it differs from the last one seen, else None:

    * a job followed for the first time (or again): ``previous_status`` None;
    * a status change of the same job: its old and new status;
    * the job disappeared: its ``job_id`` and last status, ``status`` None;
    * no job at the first observation, or no change: None.

    ``baseline=True`` makes the first observation of each key silent.
    ``forget(key)`` drops what is known of a key: its next observation is a first one.
    """

    def __init__(self, baseline=False):
        self.baseline = baseline
        self._last = {}  # key -> (job_id, status), or None: no job

    def forget(self, key):
        self._last.pop(key, None)

    def observe(self, key, job, elapsed=None):
        first = key not in self._last
        before = self._last.get(key)
        now = None if job is None else (job.get("job_id"), job.get("status"))
        self._last[key] = now
        if now == before or (first and self.baseline):
            return None
        if now is None:
            job_id, previous, status = before[0], before[1], None
        else:
            job_id, status = now
            previous = before[1] if before is not None and before[0] == job_id else None
        return {"resource_id": key, "job_id": job_id, "previous_status": previous,
                "status": status, "elapsed": elapsed}
