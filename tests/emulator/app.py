# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulated APIs: routing, faults, authentication, answers and the request log."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re
import time
from urllib.parse import unquote

from . import auth, gateway, iam
from .config import PROJECT_ID_RE, RESOURCE_ID_RE
from .gateway import Gateway
from .instances import Instances, PagingError, example_instance, parse_paging
from .jobs import example_job
from .projects import Catalogue, list_projects
from .replies import dbss_error, gateway_error, iam_error, json_reply
from .state import State

JOBS_PATH = re.compile(r"^/v1/([^/]+)/audit/([^/]+)/jobs/?$")
LEGACY_PATH = re.compile(r"^/v1/([^/]+)/dbss/audit/jobs/([^/]+)/?$")
INSTANCES_PATH = re.compile(r"^/v2/([^/]+)/audit/instances/?$")
IAM_PATH = re.compile(r"^/v3/auth/tokens/?$")
PROJECTS_PATH = re.compile(r"^/v3/projects/?$")
IAM_UNAUTHORIZED = "The request you have made requires authentication."


class Route:
    """Where a request goes: area "dbss", "iam" or "other"; style "flat" or "nested"."""

    def __init__(self, area, name=None, project_id=None, resource_id=None, style="flat"):
        self.area = area
        self.name = name
        self.project_id = project_id
        self.resource_id = resource_id
        self.style = style


def route_for(raw_path):
    for pattern, name, style in ((JOBS_PATH, "jobs", "flat"), (LEGACY_PATH, "legacy", "nested")):
        match = pattern.match(raw_path)
        if match:
            return Route("dbss", name, unquote(match.group(1)), unquote(match.group(2)), style)
    match = INSTANCES_PATH.match(raw_path)
    if match:
        return Route("dbss", "instances", unquote(match.group(1)))
    if IAM_PATH.match(raw_path):
        return Route("iam", "iam")
    if PROJECTS_PATH.match(raw_path):
        return Route("iam", "projects")
    return Route("other")


class Emulator:
    """Holds the configuration and the state; ``handle`` answers one API request."""

    def __init__(self, config, clock=time.time, sleep=time.sleep):
        self.config = config
        self.clock = clock
        self.sleep = sleep
        seed = (lambda: [example_job(clock())]) if config.example else None
        self.state = State(seed)
        self.instances = Instances(config, (lambda: [example_instance()]) if config.example else None)
        self.projects = Catalogue(config)
        self.gateway = Gateway(config)
        self.scheme = "http"  # set to "https" by the server when it serves TLS

    def reset(self):
        """Back to the start: state, project overrides and gateway settings from the command line."""
        self.state.reset()
        self.instances.reset()
        self.projects.reset()
        self.gateway.reset()

    def handle(self, method, raw_path, raw_query, headers, body, request_id):
        """Return the Reply for an API request (never a control request) and log it."""
        route = route_for(raw_path)
        fault = self.state.take_fault(raw_path, route.resource_id, route.area == "dbss")
        reply = None
        if fault is not None and fault.kind == "delay":
            self.sleep(fault.seconds)  # outside the lock
        elif fault is not None:
            reply = fault.reply(route.style, lambda: self._normal_body(route, raw_query))
        if reply is None:
            reply = self._answer(route, method, raw_path, raw_query, headers, body)
        entry = {
            "time": self.clock(),
            "method": method,
            "path": raw_path,
            "status": reply.status if reply.action is None else None,
            "auth": "iam" if route.name == "iam" else auth.credential_kind(headers),
            "request_id": request_id,
            "route": route.name,
            "resource_id": route.resource_id,
            "fault": fault.kind if fault is not None else None,
        }
        self.state.record(entry, route.area)
        return reply

    def region_for(self, project_id):
        """The region of a project: its name without a ``_sub-project`` suffix."""
        return self.projects.name_for(project_id).split("_")[0]

    def _instances_body(self, route, raw_query):
        try:
            offset, limit = parse_paging(raw_query)
        except PagingError:
            offset, limit = parse_paging("")
        return self.instances.page(route.project_id, offset, limit, self.clock(), self.region_for(route.project_id))

    def _normal_body(self, route, raw_query):
        if route.name == "instances":
            return json.dumps(self._instances_body(route, raw_query)).encode("utf-8")
        jobs = self.state.jobs_for(route.project_id, route.resource_id, self.clock()) if route.area == "dbss" else []
        return json.dumps({"jobs": jobs}).encode("utf-8")

    def _answer(self, route, method, raw_path, raw_query, headers, body):
        if route.name == "iam":
            if method != "POST":
                return dbss_error(404, error_msg="The API does not exist.")
            return iam.login(self.config, self.state, body, self.clock(), self.projects)
        if route.name == "projects":
            return self._projects(method, raw_path, raw_query, headers, body)
        if route.name == "jobs" and not self.gateway.documented_path():
            return gateway_error(404, gateway.NOT_PUBLISHED_CODE, gateway.NOT_PUBLISHED_MSG)
        if route.area != "dbss" or method not in ("GET", "HEAD"):
            return dbss_error(404, error_msg=None if route.area != "dbss" else "The API does not exist.")
        failure = auth.check(self.config, self.state, method, raw_path, raw_query, headers, body, self.clock())
        if failure is not None:
            status, code, msg = failure
            return dbss_error(status, route.style, code, msg)
        throttled = self.gateway.admit(route.project_id, self.clock())
        if throttled is not None:
            limit, retry_after = throttled
            return dbss_error(429, route.style, gateway.THROTTLE_CODE, gateway.THROTTLE_MSG % limit,
                              headers=[("Retry-After", str(retry_after))])
        if not PROJECT_ID_RE.match(route.project_id):
            return dbss_error(400, route.style, "DBSS.10000001",
                              "Invalid request: project_id must be 32 to 64 characters of [A-Za-z0-9_-].")
        if route.name == "instances":
            try:
                parse_paging(raw_query)
            except PagingError as exc:
                return dbss_error(400, route.style, "DBSS.10000001", str(exc))
            return json_reply(200, self._instances_body(route, raw_query))
        if not RESOURCE_ID_RE.match(route.resource_id):
            return dbss_error(400, route.style, "DBSS.10020021", "Invalid ID parameter: resource_id.")
        jobs = self.state.jobs_for(route.project_id, route.resource_id, self.clock())
        return json_reply(200, {"jobs": jobs})

    def _projects(self, method, raw_path, raw_query, headers, body):
        """IAM ``GET /v3/projects``: authenticated like DBSS (token or verified AK/SK)."""
        if method not in ("GET", "HEAD"):
            return dbss_error(404, error_msg="The API does not exist.")
        if auth.check(self.config, self.state, method, raw_path, raw_query, headers, body, self.clock()) is not None:
            return iam_error(401, IAM_UNAUTHORIZED)
        return json_reply(200, list_projects(self.projects, self.config, raw_query, headers.get("host"), self.scheme))
