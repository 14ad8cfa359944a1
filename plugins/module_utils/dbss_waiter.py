# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Wait for DBSS audit-instance jobs to settle (Terraform's StateChangeConf,
with failure states and an injected clock).

``JobWaiter(spec, fetch, clock, sleep, rng, on_event=None, endpoint=...)`` is pure logic:
``fetch(resource_ids, deadline)`` returns ``{resource_id: job list or exception}``; the
clock, sleep and random source are injected. ``WaitSpec`` is trusted (dbss_settings
validates it). The semantics, one row per setting and case, are the table in
docs/guide.md, "How a wait decides"; the unit tests run every row on a fake clock.

Each resource has its own next-poll time; a round fetches those due, or due within
``min(1 s, wait_sleep / 4)``, never one inside a Retry-After pause. When several fail in
one round, the first in ``resource_ids`` order is reported. ``on_event`` receives every
state change ``{"resource_id", "job_id", "previous_status", "status", "elapsed"}``
(dbss_jobs.ChangeTracker: ``previous_status`` None for a job followed anew, ``status``
None when it disappeared; ``first`` True on a resource's first answer), every retried
error ``{"resource_id", "error", "elapsed"}``, and progress for a log:
``{"event": "start", "resources", "timeout", "elapsed"}``, then ``{"event": "progress",
"elapsed", "counts"}`` after the first round and whenever ``spec.heartbeat`` seconds passed
without a state change (``counts``: resources per state). Only state changes go into ``events``.
``WaitOutcome`` / ``WaitFailed`` (a DbssError) carry the whole result: ``kind``, ``message``,
``elapsed``, ``polls``, ``states``, ``followed``, ``jobs`` (each resource's last list),
``events``, ``errors``, ``resource_id``, ``job``, ``cause``, ``unfinished``; ``to_result()``
gives them under the module's result names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_settings import format_seconds
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssError
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs import (
    DEFAULT_FAILURE_STATES, DEFAULT_PENDING_STATES, DEFAULT_TARGET_STATES, JOB_STATES, AmbiguousJob, ChangeTracker,
    followed_job,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_policy import jittered, next_interval
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_secrets import shorten

KIND_SUCCESS = "success"
KIND_FAILED = "failed"
KIND_UNEXPECTED_STATE = "unexpected_state"
KIND_NOT_FOUND = "not_found"
KIND_API_ERROR = "api_error"
KIND_TIMEOUT = "timeout"
KIND_UNREACHABLE = "unreachable"

MAX_LISTED = 20          # unfinished resources named in a timeout message
MAX_ERROR_TEXT = 200     # quoted error per resource (timeout message, ``errors``)
MAX_CAUSE_TEXT = 500     # quoted server text in a single-resource failure message
COALESCE_MAX = 1.0
COALESCE_FRACTION = 0.25
# Longest silence of the progress log by default (some CI systems end a job silent for 10 minutes).
HEARTBEAT = 30.0
# Resources fetched at once within a round (4 s at the default 10 requests a second).
ROUND_PART = 40
# A resource's state in ``counts`` before its first answer, and without a job.
NO_ANSWER = "no answer yet"
NO_JOB = "no job"

WaitSpec = namedtuple("WaitSpec", "target_states pending_states failure_states timeout delay sleep max_sleep "
                                  "not_found_timeout job_id unreachable_timeout heartbeat",
                      defaults=(DEFAULT_TARGET_STATES, DEFAULT_PENDING_STATES, DEFAULT_FAILURE_STATES,
                                1800.0, 0.0, 5.0, 30.0, 60.0, None, 60.0, HEARTBEAT))
WaitSpec.__doc__ = "What to wait for and how: plain values, trusted (validated by dbss_settings)."


def _took(seconds):
    return format_seconds(round(seconds, 1))


def _quote(value, limit=MAX_CAUSE_TEXT):
    """Server text (already masked by the client) on one line, shortened."""
    return "none" if value is None or value == "" else shorten(value, limit)


class _Report:
    """What a wait saw; shared by WaitOutcome and WaitFailed."""

    def _fill(self, kind, message, elapsed, polls, tracks, events, track=None, cause=None):
        self.kind, self.message, self.elapsed, self.polls, self.cause = kind, message, elapsed, polls, cause
        self.states = dict((t.rid, t.status) for t in tracks)
        self.followed = dict((t.rid, t.job) for t in tracks)
        self.jobs = dict((t.rid, t.jobs) for t in tracks)
        self.events = list(events)
        self.errors = dict((t.rid, shorten(t.error, MAX_ERROR_TEXT)) for t in tracks if t.error is not None)
        self.resource_id = None if track is None else track.rid
        self.job = None if track is None else track.job
        self.unfinished = [t.rid for t in tracks if not t.done]

    def to_result(self):
        """Plain data under the module's result names."""
        result = {"elapsed": round(self.elapsed, 3), "polls": self.polls, "states": dict(self.states),
                  "events": list(self.events)}
        if self.kind != KIND_SUCCESS:
            result.update(failure_kind=self.kind, unfinished=list(self.unfinished), errors=dict(self.errors),
                          resource_id=self.resource_id, job=self.job)
            if isinstance(self.cause, DbssError):
                for key, value in self.cause.to_result().items():
                    result.setdefault(key, value)
        return result


class WaitOutcome(_Report):
    """Every resource's followed job reached a target state."""

    def __init__(self, elapsed, polls, tracks, events):
        self._fill(KIND_SUCCESS, None, elapsed, polls, tracks, events)


class WaitFailed(_Report, DbssError):
    """The wait ended without success; ``kind`` says why, ``message`` how."""

    def __init__(self, kind, message, elapsed, polls, tracks, events, track=None, cause=None):
        DbssError.__init__(self, message)
        self._fill(kind, message, elapsed, polls, tracks, events, track, cause)


class _Track:
    """One resource's polling state."""

    def __init__(self, rid, start, interval):
        self.rid, self.interval = rid, interval
        self.jobs = self.job = self.status = self.error = None  # last list (None: never answered), followed job
        self.since = self.missing_since = start  # when its state began; since when it has had no job
        self.next_due = self.not_before = start  # not_before: Retry-After
        self.had_job = self.done = False

    def describe(self, now):
        if self.job is not None:
            text = "job %s %s for %s" % (_quote(self.job.get("job_id"), 100), _quote(self.status, 100),
                                         _took(now - self.since))
        elif self.jobs is None:
            text = "no answer for %s" % _took(now - self.since)
        elif self.had_job:
            text = "job gone for %s" % _took(now - self.since)
        else:
            text = "no job for %s" % _took(now - self.since)
        if self.error is not None:
            text += "; last poll failed: %s" % shorten(self.error, MAX_ERROR_TEXT)
        return text


class JobWaiter:
    """Poll resources with ``fetch`` until their followed jobs settle (see the module docstring).
    ``endpoint`` labels the API in messages only."""

    def __init__(self, spec, fetch, clock, sleep, rng, on_event=None, endpoint="the DBSS endpoint"):
        self.spec, self.endpoint, self._fetch = spec, endpoint, fetch
        self._clock, self._sleep, self._rng = clock, sleep, rng
        self._emit = on_event or (lambda event: None)

    def _schedule(self, track, now, reset):
        if reset:
            track.interval = self.spec.sleep
        track.next_due = now + jittered(track.interval, self._rng)
        track.interval = next_interval(track.interval, self.spec.max_sleep)

    def _lists(self):
        spec = self.spec
        return ", ".join("%s [%s]" % (name, ", ".join(s for s in JOB_STATES if s in group) or "none")
                         for name, group in (("target_states", spec.target_states),
                                             ("pending_states", spec.pending_states),
                                             ("failure_states", spec.failure_states)))

    def _on_error(self, track, error, now, took):
        """A failure (kind, message, cause) or None when the error is retried."""
        spec, rid = self.spec, track.rid
        if now < self._deadline or track.error is None:
            # A poll cut by the deadline itself would hide the cause seen before it.
            track.error = error
        window_end = self._first_poll + spec.unreachable_timeout
        if getattr(error, "transient", False) is not True:
            return KIND_API_ERROR, "polling the jobs of resource %s failed after %s: %s" % (
                rid, took, _quote(error)), error
        if not self._answered and now >= window_end:
            return KIND_UNREACHABLE, (
                "no answer from the DBSS API at %s after %s: no poll got a job list or a JSON error (the wait "
                "gives an endpoint that never answers %s); last error, polling resource %s: %s"
                % (self.endpoint, took, format_seconds(spec.unreachable_timeout), rid, _quote(error))), error
        self._schedule(track, now, reset=False)
        retry_after = getattr(error, "retry_after", None)
        if retry_after:
            track.not_before = now + retry_after
            if track.not_before >= self._deadline:
                return KIND_TIMEOUT, (
                    "the API asked to retry resource %s after %s, past the deadline (wait_timeout %s, %s left); "
                    "last error: %s" % (rid, _took(retry_after), format_seconds(spec.timeout),
                                        _took(self._deadline - now), _quote(error))), error
            track.next_due = max(track.next_due, track.not_before)
        if not self._answered:  # one poll when the window ends, not later
            track.next_due = min(track.next_due, max(window_end, track.not_before))
        self._emit({"resource_id": rid, "error": shorten(error, MAX_ERROR_TEXT), "elapsed": now - self._start})
        return None

    def _on_jobs(self, track, jobs, now, took):
        """A failure (kind, message, cause), or None (done or still pending)."""
        spec, rid = self.spec, track.rid
        first = track.jobs is None
        track.error, track.jobs = None, jobs
        try:
            job = followed_job(jobs, spec.job_id)
        except AmbiguousJob as error:
            return KIND_API_ERROR, ("job_id %s matches %d jobs of resource %s after %s, so which one to follow "
                                    "is ambiguous" % (error.job_id, error.count, rid, took)), error
        track.job, event = job, self._tracker.observe(rid, job, now - self._start)
        # The backoff starts again for another job, not for a status change of the same one.
        reset = event is not None and None in (event["previous_status"], event["status"])
        if event is not None:
            track.since = now
            self._events.append(event)
            self._changed = True
            self._emit(dict(event, first=True) if first else event)
        if job is None:
            track.status = None
            if event is not None:  # the job disappeared
                track.missing_since = now
            expiry = track.missing_since + spec.not_found_timeout
            if now >= expiry:
                what = ("job %s was not found among the jobs of resource %s" % (spec.job_id, rid)
                        if spec.job_id is not None else "resource %s has no DBSS job" % rid)
                return KIND_NOT_FOUND, "%s after %s (wait_not_found_timeout is %s)" % (
                    what, took, format_seconds(spec.not_found_timeout)), None
            self._schedule(track, now, reset)
            track.next_due = min(track.next_due, expiry)
            return None
        track.had_job = True
        status = job.get("status")
        track.status = status if status is None or isinstance(status, str) else str(status)
        name = "DBSS job %s of resource %s" % (_quote(job.get("job_id"), 100), rid)
        if track.status in spec.target_states:
            track.done = True
            return None
        if track.status in spec.failure_states:
            return KIND_FAILED, "%s ended in %s after %s; error_code: %s; fail_reason: %s" % (
                name, _quote(track.status, 100), took, _quote(job.get("error_code")), _quote(job.get("fail_reason"))), None
        if track.status not in spec.pending_states:
            return KIND_UNEXPECTED_STATE, "%s is in state %s after %s, which is in none of %s" % (
                name, shorten(repr(status), 100), took, self._lists()), None
        self._schedule(track, now, reset)
        return None

    def _failed(self, kind, message, now, track=None, cause=None):
        return WaitFailed(kind, message, now - self._start, self._polls, self._tracks, self._events, track, cause)

    def _timeout(self, now):
        unfinished = [t for t in self._tracks if not t.done]
        listed = ", ".join("%s (%s)" % (t.rid, t.describe(now)) for t in unfinished[:MAX_LISTED])
        if len(unfinished) > MAX_LISTED:
            listed += " and %d more" % (len(unfinished) - MAX_LISTED)
        message = "timed out after %s waiting for %s; unfinished: %s" % (
            format_seconds(self.spec.timeout), " or ".join(s for s in JOB_STATES if s in self.spec.target_states),
            listed)
        # One unfinished resource: the timeout is its, so is the job reported.
        return self._failed(KIND_TIMEOUT, message, now, unfinished[0] if len(unfinished) == 1 else None)

    def wait(self, resource_ids, start=None):
        """Wait for every resource; return ``WaitOutcome`` or raise ``WaitFailed``.
        ``start``: a ``clock`` time the wait counts from (default: now)."""
        spec = self.spec
        self._start = self._clock() if start is None else start
        self._deadline = self._start + spec.timeout
        self._tracks = [_Track(rid, self._start, spec.sleep) for rid in dict.fromkeys(resource_ids)]
        self._tracker = ChangeTracker()
        self._events, self._polls, self._answered = [], 0, False
        self._emit({"event": "start", "resources": len(self._tracks), "timeout": spec.timeout, "elapsed": 0.0})
        # The start line counts as news; the first round ends with a summary.
        self._reported, self._changed, self._summarized = self._start, False, False
        if spec.delay > 0:
            self._sleep(spec.delay)
        self._first_poll = self._clock()
        for track in self._tracks:
            track.next_due = track.not_before = self._first_poll
        window = min(COALESCE_MAX, spec.sleep * COALESCE_FRACTION)
        while True:
            now = self._clock()
            if now >= self._deadline:
                raise self._timeout(now)
            active = [t for t in self._tracks if not t.done]
            due = [t for t in active if t.not_before <= now and t.next_due <= now + window]
            if not due:
                wake = min(max(t.next_due, t.not_before) for t in active)
                if now >= self._reported + spec.heartbeat:
                    self._progress(now)
                wake = min(wake, self._reported + spec.heartbeat)
                if wake >= self._deadline:
                    self._sleep(self._deadline - now)
                    raise self._timeout(max(self._clock(), self._deadline))
                self._sleep(wake - now)
                continue
            results = self._round(due, spec)
            self._polls += len(due)
            now = self._clock()
            took = _took(now - self._start)
            self._answered = self._answered or any(
                not isinstance(r, BaseException) or getattr(r, "from_api", False) is True for r in results.values())
            failure = None
            for track in due:
                result = results[track.rid]
                if isinstance(result, BaseException):
                    verdict = self._on_error(track, result, now, took)
                else:
                    verdict = self._on_jobs(track, result, now, took)
                if verdict is not None and failure is None:
                    failure = (track, verdict)
            if failure is not None:
                track, (kind, message, cause) = failure
                raise self._failed(kind, message, now, track, cause)
            if all(t.done for t in self._tracks):
                return WaitOutcome(now - self._start, self._polls, self._tracks, self._events)
            if not self._summarized or self._changed or now >= self._reported + spec.heartbeat:
                # After the first round (a summary, not one line per resource), then as a
                # heartbeat while nothing changes; a state change counts as news.
                self._progress(now, quiet=self._summarized and self._changed)
                self._summarized = True

    def _round(self, due, spec):
        """Fetch the due resources in parts, so a long round (hundreds of resources at
        the request-rate limit) still beats every ``spec.heartbeat`` seconds."""
        results = {}
        for index in range(0, len(due), ROUND_PART):
            if index and self._clock() >= self._reported + spec.heartbeat:
                self._progress(self._clock())
            results.update(self._fetch([t.rid for t in due[index:index + ROUND_PART]], self._deadline))
        return results

    def _progress(self, now, quiet=False):
        self._reported, self._changed = now, False
        if quiet:
            return
        counts = {}
        for track in self._tracks:
            state = track.status if track.job is not None else (NO_ANSWER if track.jobs is None else NO_JOB)
            counts[state] = counts.get(state, 0) + 1
        self._emit({"event": "progress", "elapsed": now - self._start, "counts": counts})
