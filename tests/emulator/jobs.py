# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Audit-instance jobs: a timeline from creation, status computed from the clock."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import uuid

from .config import PROJECT_ID_RE

JOB_FIELDS = (
    "job_id", "status", "job_type", "server_id", "server_name", "resource_id",
    "begin_time", "end_time", "charge_mode", "error_code", "fail_reason", "ha_id", "ha_name",
)
PENDING_STATES = ("INIT", "READY", "RUNNING")
OUTCOMES = ("SUCCESS", "FAIL", "ERROR")
# Outcomes that carry error_code and fail_reason.
FAILED_OUTCOMES = ("FAIL", "ERROR")
DEFAULT_FAIL_CODE = "DBSS.10020200"
DEFAULT_FAIL_REASON = "Failed to create the ECS for the audit instance"
SPEC_KEYS = ("project_id", "resource_id", "timeline", "outcome", "fields", "error_code", "fail_reason",
             "instance")  # "instance": read by instances.parse_spec

# The 200 example of the API reference, values and key order as published.
EXAMPLE_RESOURCE_ID = "2c154fdd-0d43-47b7-9cf1-5236bf6a2ca7"
EXAMPLE_JOB = (
    ("resource_id", EXAMPLE_RESOURCE_ID),
    ("status", "SUCCESS"),
    ("job_type", None),
    ("job_id", "8abf9647852a1daa01852e517e1a1a0b"),
    ("begin_time", 1671519371000),
    ("end_time", 1671519417000),
    ("error_code", None),
    ("fail_reason", None),
    ("charge_mode", "Demand"),
    ("server_name", "DBSS-qct-1220"),
    ("server_id", "0aa8f621-bc19-4822-b66d-7ab9ae3c8693"),
    ("ha_id", None),
    ("ha_name", None),
)


class SpecError(ValueError):
    """A control-API job description that cannot be used."""


class Job:
    """One job.  ``timeline`` is a list of (state, seconds or None for "forever")."""

    def __init__(self, resource_id, created, timeline, outcome="SUCCESS", project_id=None, fields=None,
                 error_code=DEFAULT_FAIL_CODE, fail_reason=DEFAULT_FAIL_REASON, key_order=None):
        self.control_id = uuid.uuid4().hex
        self.resource_id = resource_id
        self.project_id = project_id
        self.created = created
        self.timeline = list(timeline)
        self.outcome = outcome
        self.fields = dict(fields or {})
        self.error_code = error_code
        self.fail_reason = fail_reason
        self.key_order = key_order
        self.defaults = {
            "job_id": self.control_id,
            "server_id": str(uuid.uuid4()),
            "server_name": "DBSS-emu-%s" % self.control_id[:6],
            "charge_mode": "Demand",
        }

    @property
    def job_id(self):
        return self.fields.get("job_id", self.defaults["job_id"])

    def finishes_at(self):
        """Epoch seconds when the job reaches its outcome, or None if it never does."""
        total = 0.0
        for _state, seconds in self.timeline:
            if seconds is None:
                return None
            total += seconds
        return self.created + total

    def status_at(self, now):
        elapsed = now - self.created
        for state, seconds in self.timeline:
            if seconds is None or elapsed < seconds:
                return state
            elapsed -= seconds
        return self.outcome

    def visible_to(self, project_id, resource_id):
        return self.resource_id == resource_id and self.project_id in (None, project_id)

    def view(self, now):
        """The JobBean the API answers at ``now``: 13 fields, then overrides."""
        status = self.status_at(now)
        finished = status in OUTCOMES
        failed = status in FAILED_OUTCOMES
        bean = {
            "job_id": self.defaults["job_id"],
            "status": status,
            "job_type": None,
            "server_id": self.defaults["server_id"],
            "server_name": self.defaults["server_name"],
            "resource_id": self.resource_id,
            "begin_time": int(self.created * 1000),
            "end_time": int(self.finishes_at() * 1000) if finished else None,
            "charge_mode": self.defaults["charge_mode"],
            "error_code": self.error_code if failed else None,
            "fail_reason": self.fail_reason if failed else None,
            "ha_id": None,
            "ha_name": None,
        }
        bean.update(self.fields)
        order = self.key_order or JOB_FIELDS
        out = dict((name, bean[name]) for name in order if name in bean)
        out.update((name, value) for name, value in bean.items() if name not in out)
        return out

    def control_view(self, now):
        """The job as the control API shows it: the JobBean plus helper fields."""
        out = self.view(now)
        finish = self.finishes_at()
        out["finishes_at"] = None if finish is None else int(finish * 1000)
        out["control_id"] = self.control_id
        out["project_id"] = self.project_id
        return out


def example_job(created):
    fields = dict(EXAMPLE_JOB)
    return Job(EXAMPLE_RESOURCE_ID, created, [], "SUCCESS", None, fields, key_order=[name for name, _v in EXAMPLE_JOB])


def _number(value, what):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise SpecError("%s must be a number of seconds >= 0 or null" % what)
    return float(value)


def job_from_spec(spec, now):
    """Validate one control-API job description and build the Job."""
    if not isinstance(spec, dict):
        raise SpecError("a job must be a JSON object")
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise SpecError("unknown job keys: %s (allowed: %s)" % (", ".join(unknown), ", ".join(SPEC_KEYS)))
    resource_id = spec.get("resource_id")
    if not isinstance(resource_id, str) or not resource_id:
        raise SpecError("resource_id (a non-empty string) is required")
    project_id = spec.get("project_id")
    if project_id is not None and (not isinstance(project_id, str) or not PROJECT_ID_RE.match(project_id)):
        raise SpecError("project_id must be 32 to 64 characters of [A-Za-z0-9_-] (or omitted for any project)")
    timeline_spec = spec.get("timeline") or {}
    if not isinstance(timeline_spec, dict):
        raise SpecError("timeline must be an object like {\"INIT\": 1, \"READY\": 1, \"RUNNING\": 2}")
    bad = sorted(set(timeline_spec) - set(PENDING_STATES))
    if bad:
        raise SpecError("unknown timeline states: %s" % ", ".join(bad))
    timeline = [(state, _number(timeline_spec.get(state, 0), "timeline." + state)) for state in PENDING_STATES]
    outcome = spec.get("outcome", "SUCCESS")
    if outcome not in OUTCOMES:
        raise SpecError("outcome must be one of: %s" % ", ".join(OUTCOMES))
    fields = spec.get("fields") or {}
    if not isinstance(fields, dict):
        raise SpecError("fields must be an object of JobBean field overrides")
    return Job(resource_id, now, timeline, outcome, project_id, fields,
               spec.get("error_code", DEFAULT_FAIL_CODE), spec.get("fail_reason", DEFAULT_FAIL_REASON))
