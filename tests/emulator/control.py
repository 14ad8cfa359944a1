# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The control API under ``/_emulator/`` (no authentication, not in the request log)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from . import __version__
from .faults import Fault, FaultError
from .gateway import SettingsError
from .instances import parse_spec
from .jobs import SpecError, job_from_spec
from .projects import ProjectSpecError
from .replies import json_reply

PREFIX = "/_emulator"


def _error(status, message):
    return json_reply(status, {"error": message})


def _json_body(body):
    if not body:
        return {}
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise SpecError("the request body is not JSON")


def _many(data, key):
    """A bulk body {"<key>": [...]} or a single object; returns (list, bulk?)."""
    if isinstance(data, dict) and key in data and isinstance(data[key], list):
        return data[key], True
    return [data], False


def handle(emulator, method, raw_path, body):
    """Answer a control request; ``raw_path`` starts with /_emulator."""
    path = raw_path[len(PREFIX):].rstrip("/") or "/"
    state = emulator.state
    try:
        if path == "/health" and method == "GET":
            return json_reply(200, {"status": "ok", "version": __version__, "example": emulator.config.example})
        if path == "/jobs" and method == "POST":
            return _create_jobs(emulator, _json_body(body))
        if path == "/jobs" and method == "GET":
            return json_reply(200, {"jobs": state.control_jobs(emulator.clock())})
        if path.startswith("/jobs/") and method == "DELETE":
            ident = path[len("/jobs/"):]
            if state.delete_job(ident):
                return json_reply(200, {"deleted": ident})
            return _error(404, "no job with that id")
        if path == "/faults" and method == "POST":
            specs, bulk = _many(_json_body(body), "faults")
            faults = [Fault(spec) for spec in specs]
            state.add_faults(faults)
            described = [fault.describe() for fault in faults]
            return json_reply(201, {"faults": described} if bulk else {"fault": described[0]})
        if path == "/faults" and method == "GET":
            return json_reply(200, {"faults": state.faults()})
        if path == "/faults" and method == "DELETE":
            return json_reply(200, {"cleared": state.clear_faults()})
        if path == "/tokens/revoke" and method == "POST":
            return json_reply(200, {"revoked": state.revoke_tokens()})
        if path == "/requests" and method == "GET":
            return json_reply(200, {"requests": state.requests()})
        if path == "/counters" and method == "GET":
            return json_reply(200, dict(state.counters(), instances=emulator.instances.count()))
        if path == "/instances":
            return _instances(emulator, method, body)
        if path == "/reset" and method == "POST":
            emulator.reset()
            return json_reply(200, {"reset": True})
        if path in ("/projects", "/quota", "/config"):
            return _settings(emulator, method, path, body)
    except (SpecError, FaultError, ProjectSpecError, SettingsError) as exc:
        return _error(400, str(exc))
    return _error(404, "unknown control endpoint %s %s" % (method, raw_path))


def _create_jobs(emulator, data):
    specs, bulk = _many(data, "jobs")
    now = emulator.clock()
    jobs = [job_from_spec(spec, now) for spec in specs]
    instance_specs = [parse_spec(spec.get("instance")) for spec in specs]
    emulator.instances.attach(list(zip(jobs, instance_specs)), now)  # refuses a bad batch before any change
    emulator.state.add_jobs(jobs)
    views = [job.control_view(now) for job in jobs]
    return json_reply(201, {"jobs": views} if bulk else views[0])


def _instances(emulator, method, body):
    """``GET``: every instance (DELETED ones too); ``POST``: change or create one, or many."""
    now = emulator.clock()
    if method == "GET":
        return json_reply(200, {"instances": emulator.instances.control_list(now, emulator.region_for)})
    if method != "POST":
        return _error(404, "unknown control endpoint %s /_emulator/instances" % method)
    specs, bulk = _many(_json_body(body), "instances")
    answers = [emulator.instances.upsert(spec, now, emulator.region_for) for spec in specs]
    if bulk:
        return json_reply(200, {"instances": [view for _created, view in answers]})
    created, view = answers[0]
    return json_reply(201 if created else 200, view)


def _settings(emulator, method, path, body):
    """Project overrides (``/projects``), the quota (``/quota``) and gateway switches (``/config``)."""
    gateway, projects, now = emulator.gateway, emulator.projects, emulator.clock()
    if path == "/projects" and method == "POST":
        return json_reply(201, {"project": projects.override(_json_body(body))})
    if path == "/projects" and method == "GET":
        listed = [{"name": name, "id": pid} for name, pid in projects.listed()]
        return json_reply(200, {"projects": listed, "overrides": projects.overrides()})
    if path == "/projects" and method == "DELETE":
        projects.reset()
        return json_reply(200, {"cleared": True})
    if path == "/quota" and method == "POST":
        data = _json_body(body)
        if not isinstance(data, dict) or set(data) != {"requests_per_minute"}:
            raise SpecError("the quota is {\"requests_per_minute\": N} (0 or null: no quota)")
        gateway.update(data)
        return json_reply(200, gateway.quota(now))
    if path == "/quota" and method == "GET":
        return json_reply(200, gateway.quota(now))
    if path == "/config" and method == "POST":
        return json_reply(200, gateway.update(_json_body(body)))
    if path == "/config" and method == "GET":
        return json_reply(200, gateway.settings())
    return _error(404, "unknown control endpoint %s /_emulator%s" % (method, path))
