# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Audit instances: created with their jobs, status computed from the clock.

An instance belongs to a (project_id or None, resource_id).  It is ``BUILD`` until the job
driving it (the newest job created with it) ends; then ``ERROR`` if that job failed, else
its ``outcome`` (default ``ACTIVE``) once ``after`` more seconds have passed.  The control
API can force a status / task at any time (``forced``), which a new job clears.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math
import threading
import time
import uuid
from urllib.parse import parse_qsl

from .config import PROJECT_ID_RE
from .jobs import EXAMPLE_JOB, EXAMPLE_RESOURCE_ID, FAILED_OUTCOMES, OUTCOMES, SpecError

# AuditInstanceBean, in the SDK's order.
INSTANCE_FIELDS = (
    "charge_model", "comment", "config_num", "connect_ip", "connect_ipv6", "cpu", "created", "database_limit",
    "effect", "expired", "id", "keep_days", "name", "new_version", "port_id", "ram", "region", "remain_days",
    "resource_id", "resource_spec_code", "scene", "security_group_id", "specification", "status", "subnet_id",
    "task", "version", "vpc_id", "zone", "supported_feature",
)
STATUSES = ("SHUTOFF", "ACTIVE", "DELETING", "BUILD", "DELETED", "ERROR", "HAWAIT", "FROZEN", "UPGRADING")
TASKS = ("NO_TASK", "powering-on", "powering-off", "rebooting", "delete_wait")
SPEC_KEYS = ("name", "id", "after", "outcome", "task", "fields")  # the job spec's "instance" object
CONTROL_KEYS = ("project_id", "resource_id") + SPEC_KEYS + ("status",)  # POST /_emulator/instances
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
PERIOD_DAYS = 30
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class InstanceError(SpecError):
    """A control-API instance description that cannot be used."""


class PagingError(ValueError):
    """A bad ``offset`` / ``limit`` query parameter."""


def _derived(*parts):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "hwcloud-dbss-emulator:" + ":".join(str(p) for p in parts)))


def _stamp(seconds):
    return time.strftime(TIME_FORMAT, time.gmtime(seconds))


def parse_spec(value, keys=SPEC_KEYS):
    """Check an instance description; None for ``false`` (no instance), else a dict."""
    if value is False:
        return None
    if value is None or value is True:
        return {}
    if not isinstance(value, dict):
        raise InstanceError("instance must be true, false or an object with some of: %s" % ", ".join(keys))
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise InstanceError("unknown instance keys: %s (allowed: %s)" % (", ".join(unknown), ", ".join(keys)))
    for key in ("name", "id", "resource_id"):
        if key in value and (not isinstance(value[key], str) or not 0 < len(value[key]) <= 128):
            raise InstanceError("instance %s must be a string of 1 to 128 characters" % key)
    after = value.get("after")
    if after is not None and (isinstance(after, bool) or not isinstance(after, (int, float)) or after < 0):
        raise InstanceError("instance after must be a number of seconds >= 0")
    for key, allowed in (("outcome", STATUSES), ("status", STATUSES), ("task", TASKS)):
        if value.get(key) is not None and value[key] not in allowed:
            raise InstanceError("instance %s must be one of: %s" % (key, ", ".join(allowed)))
    if not isinstance(value.get("fields", {}), dict):
        raise InstanceError("instance fields must be an object of AuditInstanceBean field overrides")
    project_id = value.get("project_id")
    if project_id is not None and (not isinstance(project_id, str) or not PROJECT_ID_RE.match(project_id)):
        raise InstanceError("project_id must be 32 to 64 characters of [A-Za-z0-9_-] (or omitted)")
    return dict(value)


def parse_paging(raw_query):
    """(offset, limit) from the query; PagingError on a bad value."""
    query = dict(reversed(parse_qsl(raw_query or "", keep_blank_values=True)))  # the first of repeated keys
    values = []
    for name, default, low, high in (("offset", 0, 0, None), ("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)):
        text = query.get(name)
        if text is None:
            values.append(default)
            continue
        number = int(text) if text.isdigit() and text.isascii() else -1
        if number < low or (high is not None and number > high):
            rule = "an integer >= 0" if high is None else "an integer from %d to %d" % (low, high)
            raise PagingError("Invalid request: %s must be %s." % (name, rule))
        values.append(number)
    return tuple(values)


class Instance:
    """One audit instance; ``view`` computes its AuditInstanceBean from the clock."""

    def __init__(self, project_id, resource_id, created, ident, name, after, charge_model="Demand"):
        self.project_id = project_id
        self.resource_id = resource_id
        self.created = created
        self.id = ident
        self.name = name
        self.after = after
        self.outcome = "ACTIVE"
        self.task = "NO_TASK"
        self.fields = {}
        self.job = None
        self.forced = {}  # "status" / "task" set through the control API
        self.charge_model = charge_model

    def apply(self, spec, control=False):
        """Lifecycle keys of a spec (after, outcome, task, fields); ``control``: status / task are forced."""
        if spec.get("after") is not None:
            self.after = float(spec["after"])
        if spec.get("outcome") is not None:
            self.outcome = spec["outcome"]
        if spec.get("fields"):
            self.fields.update(spec["fields"])
        if control:
            for key in ("status", "task"):
                if key in spec and spec[key] is None:
                    self.forced.pop(key, None)
                elif key in spec:
                    self.forced[key] = spec[key]
        elif spec.get("task") is not None:
            self.task = spec["task"]

    def ready_at(self):
        """Epoch seconds when the lifecycle reaches its outcome (None: never, or no job)."""
        finish = self.job.finishes_at() if self.job is not None else None
        if finish is None:
            return None
        return finish if self.job.outcome in FAILED_OUTCOMES else finish + self.after

    def status_task(self, now):
        status, task = self.outcome, self.task
        if self.job is not None:
            job_status = self.job.status_at(now)
            if job_status in FAILED_OUTCOMES:
                status, task = "ERROR", "NO_TASK"
            elif job_status not in OUTCOMES or now < self.ready_at():
                status, task = "BUILD", "NO_TASK"
        return self.forced.get("status", status), self.forced.get("task", task)

    def view(self, now, region):
        """The AuditInstanceBean at ``now`` (``region``: of the project asked), then overrides."""
        status, task = self.status_task(now)
        charge_model = self.fields.get("charge_model", self.charge_model)
        period = charge_model == "Period"
        expired = self.created + PERIOD_DAYS * 86400
        days = str(max(0, int(math.ceil((expired - now) / 86400.0)))) if period else None
        digest = uuid.UUID(self.id).bytes if _is_uuid(self.id) else uuid.UUID(_derived("ip", self.id)).bytes
        net = self.project_id or "shared"
        bean = {
            "charge_model": charge_model, "comment": "", "config_num": 0,
            "connect_ip": "192.168.%d.%d" % (digest[0] % 254 + 1, digest[1] % 254 + 1), "connect_ipv6": None,
            "cpu": 4, "created": _stamp(self.created), "database_limit": 3,
            "effect": 1 if status == "FROZEN" else None, "expired": _stamp(expired) if period else None,
            "id": self.id, "keep_days": days, "name": self.name, "new_version": None,
            "port_id": _derived("port", self.id), "ram": 16, "region": region, "remain_days": days,
            "resource_id": self.resource_id, "resource_spec_code": "dbss.bypassaudit.low", "scene": "GENERAL",
            "security_group_id": _derived("sg", net), "specification": "4U16G", "status": status,
            "subnet_id": _derived("subnet", net), "task": task, "version": "24.10.1.0",
            "vpc_id": _derived("vpc", net), "zone": region + "a", "supported_feature": ["audit", "risk_rule"],
        }
        bean.update(self.fields)
        return bean

    def control_view(self, now, region):
        out = self.view(now, region)
        ready = self.ready_at()
        out["project_id"] = self.project_id
        out["job_id"] = self.job.job_id if self.job is not None else None
        out["ready_at"] = None if ready is None else int(ready * 1000)
        return out


def example_instance():
    """The instance of the reference example job (``--example``): ACTIVE, its server id and name."""
    job = dict(EXAMPLE_JOB)
    return Instance(None, EXAMPLE_RESOURCE_ID, job["begin_time"] / 1000.0, job["server_id"], job["server_name"], 0.0)


def _is_uuid(text):
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


class Instances:
    """All instances (creation order), indexed by (project_id, resource_id); one lock."""

    def __init__(self, config, seed=None):
        self.config = config
        self._seed = seed
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self._order, self._by_key, self._names, self._ids = [], {}, {}, set()
            for instance in (self._seed() if self._seed else []):
                self._add(instance)

    def count(self):
        with self._lock:
            return len(self._order)

    def _add(self, instance):
        self._order.append(instance)
        self._by_key[(instance.project_id, instance.resource_id)] = instance
        self._ids.add(instance.id)
        self._count_name(instance.project_id, instance.name, 1)

    def _count_name(self, project_id, name, step):
        names = self._names.setdefault(project_id, {})
        names[name] = names.get(name, 0) + step

    def _name_taken(self, project_id, name):
        scopes = list(self._names) if project_id is None else [project_id, None]
        return any(self._names.get(scope, {}).get(name) for scope in scopes)

    def _new(self, project_id, resource_id, spec, now, charge_model="Demand"):
        ident = spec.get("id") or _derived("instance", project_id, resource_id)
        if ident in self._ids:
            raise InstanceError("instance id %s is already used" % ident)
        name, salt = spec.get("name"), 0
        while name is None or (spec.get("name") is None and self._name_taken(project_id, name)):
            name = "DBSS-emu-" + uuid.UUID(_derived("name", project_id, resource_id, salt)).hex[:6]
            salt += 1
        after = spec.get("after")
        return Instance(project_id, resource_id, now, ident, name,
                        self.config.instance_delay if after is None else float(after), charge_model)

    def _update(self, instance, spec, control=False):
        """Apply a spec to an existing instance: its id cannot change; a new name is counted."""
        if spec.get("id") is not None and spec["id"] != instance.id:
            raise InstanceError("resource %s already has instance %s (not %s)" % (
                instance.resource_id, instance.id, spec["id"]))
        name = spec.get("name")
        if name is not None and name != instance.name:
            self._count_name(instance.project_id, instance.name, -1)
            instance.name = name
            self._count_name(instance.project_id, name, 1)
        instance.apply(spec, control)

    def _check_batch(self, pairs):
        """Refuse a batch of job instances whose explicit ids clash (before anything changes)."""
        first_id, claimed = {}, {}
        for job, spec in pairs:
            key = (job.project_id, job.resource_id)
            existing, ident = self._by_key.get(key), spec.get("id")
            if key in first_id and ident is not None and ident != first_id[key]:
                raise InstanceError("resource %s is given two instance ids" % job.resource_id)
            first_id.setdefault(key, existing.id if existing is not None else ident)
            if ident is None:
                continue
            if existing is not None and existing.id != ident:
                raise InstanceError("resource %s already has instance %s (not %s)" % (
                    job.resource_id, existing.id, ident))
            if claimed.setdefault(ident, key) != key or (existing is None and ident in self._ids):
                raise InstanceError("instance id %s is already used" % ident)

    def attach(self, pairs, now):
        """Create or re-drive the instances of new jobs: ``pairs`` of (Job, spec or None)."""
        pairs = [(job, spec) for job, spec in pairs if spec is not None]
        with self._lock:
            self._check_batch(pairs)
            for job, spec in pairs:
                instance = self._by_key.get((job.project_id, job.resource_id))
                if instance is None:
                    instance = self._new(job.project_id, job.resource_id, spec, now,
                                         job.fields.get("charge_mode") or job.defaults["charge_mode"])
                    self._add(instance)
                self._update(instance, spec)
                instance.job, instance.forced = job, {}
                job.defaults["server_name"], job.defaults["server_id"] = instance.name, instance.id

    def upsert(self, spec, now, region_for):
        """``POST /_emulator/instances``: change the instance a spec names, or create it.

        Returns (created?, the instance as the control API shows it).
        """
        spec = parse_spec(spec, CONTROL_KEYS) or {}
        with self._lock:
            instance = self._find(spec)
            created = instance is None
            if created:
                instance = self._new(spec.get("project_id"), spec["resource_id"], spec, now)
                self._add(instance)
            self._update(instance, spec, control=True)
            return created, instance.control_view(now, region_for(instance.project_id))

    def _find(self, spec):
        ident, resource_id = spec.get("id"), spec.get("resource_id")
        if ident is not None:
            for instance in self._order:
                if instance.id == ident:
                    return instance
        if resource_id is None:
            raise InstanceError("an instance is named by resource_id (and project_id), or by the id of an "
                                "existing one; resource_id is required to create one")
        if "project_id" in spec:
            return self._by_key.get((spec["project_id"], resource_id))
        found = [i for i in self._order if i.resource_id == resource_id]
        if len(found) > 1:
            raise InstanceError("several projects have an instance for %s: give project_id" % resource_id)
        return found[0] if found else None

    def page(self, project_id, offset, limit, now, region):
        """``{"instances": [...], "total": N}`` for one project (DELETED ones are not shown)."""
        with self._lock:
            visible = [i.view(now, region) for i in self._order if i.project_id in (None, project_id)]
        shown = [bean for bean in visible if bean.get("status") != "DELETED"]
        return {"instances": shown[offset:offset + limit], "total": len(shown)}

    def control_list(self, now, region_for):
        with self._lock:
            return [i.control_view(now, region_for(i.project_id)) for i in self._order]
