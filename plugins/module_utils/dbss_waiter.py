# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Wait for DBSS audit-instance jobs to settle.

``JobWaiter`` is pure logic: it does no I/O of its own and never reads the real
clock. The caller injects ``fetch`` (which polls resources), ``clock``, ``sleep``
and ``rng``; tests pass a fake clock whose ``sleep`` advances time.

Usage::

    spec = WaitSpec(target_states=("SUCCESS",), timeout=1800.0)
    spec.validate()                                  # DbssConfigError naming the option
    waiter = JobWaiter(spec, fetch, clock=time.monotonic, sleep=time.sleep,
                       rng=random.random, on_event=None)
    outcome = waiter.wait(["res-a", "res-b"])        # WaitOutcome, or raises WaitFailed

``fetch(resource_ids, deadline)`` returns ``{resource_id: [JobBean dict, ...] or
exception instance}``; it does not raise for per-resource errors (if it raises
anyway, the exception propagates out of ``wait``).

Semantics (option names as the modules spell them; the defaults are WaitSpec's,
the module's own defaults are wait_sleep 2 s and wait_max_sleep 4 s):

========================  =========  ===========================================================
Setting                   Default    Meaning
========================  =========  ===========================================================
target_states             SUCCESS    A resource is done when its followed job is first seen in
                                     one of these; ``wait`` returns when every resource is done.
pending_states            INIT,      Keep polling while the followed job is in one of these.
                          READY,
                          RUNNING
failure_states            FAIL       Seen once: the wait fails at once (kind ``failed``) with
                                     the job's error_code and fail_reason. No further polls.
(any other status)                   Fails at once (kind ``unexpected_state``), naming the three
                                     lists. Lists must be disjoint; target_states non-empty.
job_id                    none       Follow this job; without it, follow the newest job of each
                                     resource (``newest_job``: greatest begin_time, a job without
                                     begin_time ranks oldest, ties keep API order).
wait_timeout              1800 s     Overall deadline, counted from the call to ``wait``. The
                                     waiter never sleeps past it and starts no fetch after it
                                     (one already running may finish). Then kind ``timeout``,
                                     naming each unfinished resource and its last state.
wait_delay                0 s        Sleep this long before the first poll; must be shorter
                                     than wait_timeout.
wait_sleep                5 s        First poll interval of each resource, and the interval again
                                     when it starts following another job (a new job appears,
                                     or its job disappears or comes back).
wait_max_sleep            30 s       The interval doubles after every poll (a status change of
                                     the same job does not reset it), up to this cap. Each pause
                                     is jittered: interval * (0.8 + 0.2 * rng()) (never above
                                     the cap, never below 80 % of the interval).
wait_not_found_timeout    60 s       How long a resource may show no (matching) job, counted
                                     from the start of the wait or from when its job
                                     disappeared; then kind ``not_found``. 0: fail on the first
                                     poll that finds no job.
(transient error)                    An error whose ``transient`` is True (HTTP 429, 500, 502-504,
                                     connection errors) is retried with the same backoff while
                                     the deadline allows; Retry-After is honoured (that
                                     resource's next poll is no earlier than now + retry_after).
(permanent error)                    Any other error (400, 401, 403, 404, TLS, configuration):
                                     fails at once, kind ``api_error``, carrying the exception.
========================  =========  ===========================================================

Each resource has its own next-poll time; one round fetches every resource that
is due (or due within ``min(1 s, wait_sleep/4)``, so their polls share a round),
never one still inside a Retry-After pause. When several resources fail in the
same round, the first in ``resource_ids`` order is reported.

Results: ``WaitOutcome`` (success) and ``WaitFailed`` (a ``DbssError``) share the
attributes ``kind``, ``jobs`` {resource_id: followed JobBean at the last answer,
or None}, ``states`` {resource_id: its status, or None}, ``errors``
{resource_id: text of the last retried error, if the last poll failed},
``elapsed`` (seconds), ``polls`` (per-resource fetches asked for), ``resource_id``,
``job`` and ``cause`` (for single-resource failures), ``unfinished`` (timeouts).

``on_event(event)`` (optional) receives a dict for each change of a resource's
followed job, ``{"resource_id", "job_id", "previous_status", "status",
"elapsed"}`` (``status`` None: the job disappeared), and for each retried error,
``{"resource_id", "error", "elapsed"}``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssConfigError, DbssError

JOB_STATES = ("INIT", "READY", "RUNNING", "SUCCESS", "FAIL")
DEFAULT_TARGET_STATES = ("SUCCESS",)
DEFAULT_PENDING_STATES = ("INIT", "READY", "RUNNING")
DEFAULT_FAILURE_STATES = ("FAIL",)

KIND_SUCCESS = "success"
KIND_FAILED = "failed"
KIND_UNEXPECTED_STATE = "unexpected_state"
KIND_NOT_FOUND = "not_found"
KIND_API_ERROR = "api_error"
KIND_TIMEOUT = "timeout"

# WaitSpec attribute -> the option name used in error messages (the module's names).
OPTION_NAMES = {
    "target_states": "target_states",
    "pending_states": "pending_states",
    "failure_states": "failure_states",
    "timeout": "wait_timeout",
    "delay": "wait_delay",
    "sleep": "wait_sleep",
    "max_sleep": "wait_max_sleep",
    "not_found_timeout": "wait_not_found_timeout",
    "job_id": "job_id",
}

# How many unfinished resources a timeout message lists by name.
MAX_LISTED = 20
# Longest error text quoted per resource in a timeout message.
MAX_ERROR_TEXT = 200
# Polls due within min(COALESCE_MAX, sleep * COALESCE_FRACTION) join the current round.
COALESCE_MAX = 1.0
COALESCE_FRACTION = 0.25
# Each pause is drawn from [1 - JITTER_FRACTION, 1] x the interval.
JITTER_FRACTION = 0.2


def _begin_time(job):
    value = job.get("begin_time")
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return None if math.isnan(value) else value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return None if math.isnan(number) else number
    return None


def newest_job(jobs):
    """The newest JobBean of ``jobs``: greatest ``begin_time``; a job without one
    (null, missing or not a number) ranks oldest; ties keep API order (the first
    wins). None for an empty list. Entries that are not dicts are ignored."""
    best = None
    best_time = None
    for job in jobs or ():
        if not isinstance(job, dict):
            continue
        when = _begin_time(job)
        if best is None:
            best, best_time = job, when
        elif when is not None and (best_time is None or when > best_time):
            best, best_time = job, when
    return best


def followed_job(jobs, job_id=None):
    """The job a wait follows: the one whose ``job_id`` equals ``job_id`` if given,
    else ``newest_job(jobs)``. None when there is no such job."""
    if job_id is None:
        return newest_job(jobs)
    wanted = str(job_id)
    for job in jobs or ():
        if isinstance(job, dict) and job.get("job_id") is not None and str(job.get("job_id")) == wanted:
            return job
    return None


def format_seconds(value):
    """``1800 s`` for whole numbers, ``42.1 s`` otherwise."""
    value = float(value)
    if value == int(value):
        return "%d s" % int(value)
    return "%.1f s" % value


def _is_number(value):
    return not isinstance(value, bool) and isinstance(value, (int, float)) and not math.isnan(value) and not math.isinf(value)


def _shorten(text, limit=MAX_ERROR_TEXT):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


class WaitSpec:
    """What to wait for and how; plain values (see the module docstring)."""

    def __init__(self, target_states=DEFAULT_TARGET_STATES, pending_states=DEFAULT_PENDING_STATES,
                 failure_states=DEFAULT_FAILURE_STATES, timeout=1800.0, delay=0.0, sleep=5.0,
                 max_sleep=30.0, not_found_timeout=60.0, job_id=None):
        self.target_states = target_states
        self.pending_states = pending_states
        self.failure_states = failure_states
        self.timeout = timeout
        self.delay = delay
        self.sleep = sleep
        self.max_sleep = max_sleep
        self.not_found_timeout = not_found_timeout
        self.job_id = job_id

    def __repr__(self):
        return ("WaitSpec(target_states=%r, pending_states=%r, failure_states=%r, timeout=%r, delay=%r, "
                "sleep=%r, max_sleep=%r, not_found_timeout=%r, job_id=%r)" % (
                    self.target_states, self.pending_states, self.failure_states, self.timeout, self.delay,
                    self.sleep, self.max_sleep, self.not_found_timeout, self.job_id))

    def _number(self, attr, minimum, inclusive):
        value = getattr(self, attr)
        option = OPTION_NAMES[attr]
        if not _is_number(value):
            raise DbssConfigError(option, "must be a finite number of seconds; got %r" % (value,))
        if inclusive and value < minimum:
            raise DbssConfigError(option, "must not be negative; got %r" % (value,))
        if not inclusive and value <= minimum:
            raise DbssConfigError(option, "must be greater than zero; got %r" % (value,))

    def _states(self, attr):
        value = getattr(self, attr)
        option = OPTION_NAMES[attr]
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
            raise DbssConfigError(option, "must be a list of job states; got %r" % (value,))
        for state in value:
            if state not in JOB_STATES:
                raise DbssConfigError(option, "%r is not a DBSS job state; use %s" % (state, ", ".join(JOB_STATES)))
        return set(value)

    def validate(self):
        """Raise ``DbssConfigError`` naming the first option that breaks a rule."""
        self._number("timeout", 0, inclusive=False)
        self._number("delay", 0, inclusive=True)
        self._number("sleep", 0, inclusive=False)
        self._number("max_sleep", 0, inclusive=False)
        if self.sleep > self.max_sleep:
            raise DbssConfigError(OPTION_NAMES["sleep"], "must not exceed %s (%r); got %r" % (
                OPTION_NAMES["max_sleep"], self.max_sleep, self.sleep))
        if self.delay >= self.timeout:
            # The whole wait would pass before the first poll.
            raise DbssConfigError(OPTION_NAMES["delay"], "must be shorter than %s (%s); got %s" % (
                OPTION_NAMES["timeout"], format_seconds(self.timeout), format_seconds(self.delay)))
        self._number("not_found_timeout", 0, inclusive=True)
        target = self._states("target_states")
        pending = self._states("pending_states")
        failure = self._states("failure_states")
        if not target:
            raise DbssConfigError(OPTION_NAMES["target_states"], "must name at least one job state")
        for attr, states, other_attr, other in (("pending_states", pending, "target_states", target),
                                                ("failure_states", failure, "target_states", target),
                                                ("failure_states", failure, "pending_states", pending)):
            common = sorted(states & other)
            if common:
                raise DbssConfigError(OPTION_NAMES[attr], "must not share states with %s; both name %s" % (
                    OPTION_NAMES[other_attr], ", ".join(common)))
        if self.job_id is not None and (not isinstance(self.job_id, str) or not self.job_id.strip()):
            raise DbssConfigError(OPTION_NAMES["job_id"], "must be a non-empty string when given")
        return self


class _Report:
    """Attributes shared by WaitOutcome and WaitFailed."""

    def _fill(self, kind, jobs, states, errors, elapsed, polls, resource_id=None, job=None, cause=None, unfinished=None):
        self.kind = kind
        self.jobs = jobs
        self.states = states
        self.errors = errors
        self.elapsed = elapsed
        self.polls = polls
        self.resource_id = resource_id
        self.job = job
        self.cause = cause
        self.unfinished = unfinished or []

    def report(self):
        """Plain data for a module result (no exception objects)."""
        return {
            "kind": self.kind,
            "jobs": self.jobs,
            "states": self.states,
            "errors": self.errors,
            "elapsed": round(self.elapsed, 3),
            "polls": self.polls,
            "resource_id": self.resource_id,
            "job": self.job,
            "unfinished": list(self.unfinished),
        }


class WaitOutcome(_Report):
    """Every resource's followed job reached a target state."""

    def __init__(self, jobs, states, errors, elapsed, polls):
        self._fill(KIND_SUCCESS, jobs, states, errors, elapsed, polls)

    def __repr__(self):
        return "WaitOutcome(states=%r, elapsed=%r, polls=%r)" % (self.states, self.elapsed, self.polls)


class WaitFailed(DbssError, _Report):
    """The wait ended without success; ``kind`` says why (see KIND_*)."""

    def __init__(self, message, kind, jobs, states, errors, elapsed, polls, resource_id=None, job=None,
                 cause=None, unfinished=None):
        super(WaitFailed, self).__init__(message)
        self.message = message
        self._fill(kind, jobs, states, errors, elapsed, polls, resource_id=resource_id, job=job, cause=cause,
                   unfinished=unfinished)

    def to_result(self):
        result = self.report()
        if isinstance(self.cause, DbssError):
            for key, value in self.cause.to_result().items():
                result.setdefault(key, value)
        return result


class _Unseen:
    """Marks a resource whose jobs have not been read yet."""


_UNSEEN = _Unseen()


class _Track:
    """Per-resource polling state."""

    def __init__(self, resource_id, start, interval):
        self.resource_id = resource_id
        self.key = _UNSEEN          # (job_id, status) of the followed job, None: no job
        self.job = None
        self.status = None
        self.ever_answered = False
        self.ever_had_job = False
        self.missing_since = start
        self.interval = interval
        self.next_due = start
        self.not_before = start     # hard lower bound from Retry-After
        self.last_error = None
        self.done = False

    def describe(self):
        if self.status is not None:
            text = self.status
        elif not self.ever_answered:
            text = "no answer yet"
        elif self.ever_had_job:
            text = "job disappeared"
        else:
            text = "no job yet"
        if self.last_error is not None:
            text += "; last poll failed: %s" % _shorten(self.last_error)
        return text


class JobWaiter:
    """Poll resources with ``fetch`` until their followed jobs settle (see the module docstring)."""

    def __init__(self, spec, fetch, clock, sleep, rng, on_event=None):
        spec.validate()  # a zero wait_sleep would otherwise poll in a tight loop
        self.spec = spec
        self._fetch = fetch
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._on_event = on_event
        self._target_set = frozenset(spec.target_states)
        self._pending_set = frozenset(spec.pending_states)
        self._failure_set = frozenset(spec.failure_states)

    # -- helpers ---------------------------------------------------------

    def _pause(self, interval):
        """Jitter within the top fifth of ``interval``: enough to keep many
        resources from polling in lockstep, without polling (and spending
        requests) well before the interval asked for."""
        try:
            r = float(self._rng())
        except (TypeError, ValueError):
            r = 0.5
        r = min(1.0, max(0.0, r)) if not math.isnan(r) else 0.5
        return interval * (1.0 - JITTER_FRACTION) + r * interval * JITTER_FRACTION

    def _emit(self, event):
        if self._on_event is not None:
            self._on_event(event)

    def _snapshot(self, tracks):
        jobs = dict((t.resource_id, t.job) for t in tracks)
        states = dict((t.resource_id, t.status) for t in tracks)
        errors = dict((t.resource_id, _shorten(t.last_error)) for t in tracks if t.last_error is not None)
        return jobs, states, errors

    def _state_lists(self):
        return "target_states [%s], pending_states [%s], failure_states [%s]" % tuple(
            ", ".join(s for s in JOB_STATES if s in group) or "none"
            for group in (self._target_set, self._pending_set, self._failure_set))

    # -- one answer ------------------------------------------------------

    def _schedule(self, track, now, changed):
        spec = self.spec
        if changed:
            track.interval = float(spec.sleep)
        else:
            track.interval = min(track.interval * 2.0, float(spec.max_sleep))
        track.next_due = now + self._pause(track.interval)
        track.not_before = now

    def _on_error(self, track, error, now, elapsed):
        """Returns a failure tuple for permanent errors, None when the error is retried."""
        if getattr(error, "transient", False) is not True:
            return (KIND_API_ERROR, error)
        track.last_error = error
        self._schedule(track, now, changed=False)
        retry_after = getattr(error, "retry_after", None)
        if _is_number(retry_after) and retry_after > 0:
            track.not_before = now + retry_after
            track.next_due = max(track.next_due, track.not_before)
        self._emit({"resource_id": track.resource_id, "error": _shorten(error), "elapsed": elapsed})
        return None

    def _on_jobs(self, track, jobs, now, elapsed):
        """Returns a failure tuple, or None (done or still pending)."""
        spec = self.spec
        track.last_error = None
        track.ever_answered = True
        job = followed_job(jobs, spec.job_id)
        previous_key = track.key
        if job is None:
            key = None
        else:
            key = (job.get("job_id"), job.get("status"))
        first = previous_key is _UNSEEN
        changed = first or key != previous_key
        # The backoff starts again only for a job we have not followed yet: a
        # status change of the same job (INIT -> READY -> RUNNING) says nothing
        # about when the next one comes, and resetting would spend requests.
        new_job = first or (previous_key is None) != (key is None) or (
            key is not None and previous_key is not None and key[0] != previous_key[0])
        if changed and not (first and key is None):
            self._emit({
                "resource_id": track.resource_id,
                "job_id": None if job is None else job.get("job_id"),
                "previous_status": None if first or previous_key is None else previous_key[1],
                "status": None if job is None else job.get("status"),
                "elapsed": elapsed,
            })
        track.key = key
        track.job = job
        if job is None:
            track.status = None
            if previous_key is not None and not first:
                track.missing_since = now
            if now - track.missing_since >= float(spec.not_found_timeout):
                return (KIND_NOT_FOUND, None)
            self._schedule(track, now, new_job)
            expiry = track.missing_since + float(spec.not_found_timeout)
            if now < expiry < track.next_due:
                track.next_due = expiry
            return None
        track.ever_had_job = True
        status = job.get("status")
        if not isinstance(status, str):
            track.status = None if status is None else str(status)
            return (KIND_UNEXPECTED_STATE, None)
        track.status = status
        if status in self._target_set:
            track.done = True
            return None
        if status in self._failure_set:
            return (KIND_FAILED, None)
        if status not in self._pending_set:
            return (KIND_UNEXPECTED_STATE, None)
        self._schedule(track, now, new_job)
        return None

    # -- messages --------------------------------------------------------

    def _failure(self, kind, track, cause, tracks, now, start, polls):
        jobs, states, errors = self._snapshot(tracks)
        elapsed = now - start
        rid = track.resource_id
        job = track.job
        job_id = None if job is None else job.get("job_id")
        took = format_seconds(round(elapsed, 1))
        if kind == KIND_FAILED:
            reason = " ".join(str(part) for part in (job.get("error_code"), job.get("fail_reason")) if part)
            message = "DBSS job %s of resource %s ended in %s after %s: %s" % (
                job_id, rid, track.status, took, reason or "the API gave no error_code or fail_reason")
        elif kind == KIND_UNEXPECTED_STATE:
            message = "DBSS job %s of resource %s is in state %r after %s, which is in none of %s" % (
                job_id, rid, job.get("status"), took, self._state_lists())
        elif kind == KIND_NOT_FOUND:
            if self.spec.job_id is not None:
                what = "job %s was not found among the jobs of resource %s" % (self.spec.job_id, rid)
            else:
                what = "resource %s has no DBSS job" % rid
            message = "%s after %s (%s is %s)" % (
                what, took, OPTION_NAMES["not_found_timeout"], format_seconds(self.spec.not_found_timeout))
        else:
            message = "polling the jobs of resource %s failed after %s: %s" % (rid, took, cause)
        return WaitFailed(message, kind, jobs, states, errors, elapsed, polls, resource_id=rid, job=job, cause=cause)

    def _timeout(self, tracks, now, start, polls):
        jobs, states, errors = self._snapshot(tracks)
        unfinished = [t for t in tracks if not t.done]
        listed = ", ".join("%s (%s)" % (t.resource_id, t.describe()) for t in unfinished[:MAX_LISTED])
        if len(unfinished) > MAX_LISTED:
            listed += " and %d more" % (len(unfinished) - MAX_LISTED)
        message = "timed out after %s waiting for %s; unfinished: %s" % (
            format_seconds(self.spec.timeout), " or ".join(s for s in JOB_STATES if s in self._target_set), listed)
        return WaitFailed(message, KIND_TIMEOUT, jobs, states, errors, now - start, polls,
                          unfinished=[t.resource_id for t in unfinished])

    # -- the loop --------------------------------------------------------

    def wait(self, resource_ids):
        """Wait for every resource; return ``WaitOutcome`` or raise ``WaitFailed``."""
        spec = self.spec
        if isinstance(resource_ids, str):
            resource_ids = [resource_ids]
        ids = []
        for rid in resource_ids:
            if rid not in ids:
                ids.append(rid)
        if not ids:
            raise DbssConfigError("resource_id", "at least one resource is needed to wait for")
        start = self._clock()
        deadline = start + float(spec.timeout)
        tracks = [_Track(rid, start, float(spec.sleep)) for rid in ids]
        if spec.delay > 0:  # shorter than the timeout (WaitSpec.validate)
            self._sleep(float(spec.delay))
        first_poll = self._clock()
        for track in tracks:
            track.next_due = first_poll
            track.not_before = first_poll
        window = min(COALESCE_MAX, float(spec.sleep) * COALESCE_FRACTION)
        polls = 0
        while True:
            now = self._clock()
            if now >= deadline:
                raise self._timeout(tracks, now, start, polls)
            active = [t for t in tracks if not t.done]
            due = [t for t in active if t.not_before <= now and t.next_due <= now + window]
            if due:
                results = self._fetch([t.resource_id for t in due], deadline)
                polls += len(due)
                now = self._clock()
                elapsed = now - start
                failure = None
                for track in due:
                    if track.resource_id in results:
                        result = results[track.resource_id]
                    else:
                        result = DbssError("the poller returned no answer for this resource")
                        result.transient = True
                    if isinstance(result, BaseException):
                        verdict = self._on_error(track, result, now, elapsed)
                    elif isinstance(result, (list, tuple)):
                        verdict = self._on_jobs(track, result, now, elapsed)
                    else:
                        verdict = (KIND_API_ERROR, DbssError(
                            "the poller returned %s instead of a list of jobs" % type(result).__name__))
                    if verdict is not None and failure is None:
                        failure = (track, verdict)
                if failure is not None:
                    track, (kind, cause) = failure
                    raise self._failure(kind, track, cause, tracks, now, start, polls)
                if all(t.done for t in tracks):
                    jobs, states, errors = self._snapshot(tracks)
                    return WaitOutcome(jobs, states, errors, now - start, polls)
                continue
            wake = min(max(t.next_due, t.not_before) for t in active)
            if wake >= deadline:
                self._sleep(deadline - now)
                raise self._timeout(tracks, max(self._clock(), deadline), start, polls)
            self._sleep(wake - now)
