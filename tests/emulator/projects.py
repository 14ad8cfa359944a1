# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM projects: the catalogue behind ``GET /v3/projects`` and name-scoped logins.

By default every well-formed region name (``cn-north-4``, ``eu-west-101``, optionally
with a ``_sub-project`` suffix) is exactly one project, whose id is
``Config.project_id_for_name(name)``.  The control API can override what a name gives:
no project at all, or several projects with the same name (to test ambiguity).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading
from urllib.parse import parse_qsl, quote

from .config import PROJECT_ID_RE, PROJECT_NAME_RE


class ProjectSpecError(ValueError):
    """A control-API project override that cannot be used."""


class Catalogue:
    """Project names -> ids, with overrides from the control API (cleared by reset)."""

    def __init__(self, config):
        self.config = config
        self._lock = threading.Lock()
        self._overrides = {}

    def reset(self):
        with self._lock:
            self._overrides = {}

    def override(self, spec):
        """Apply ``{"name": N, "ids": [..]}`` (``"ids": null`` drops the override); return it."""
        if not isinstance(spec, dict) or set(spec) - {"name", "ids"}:
            raise ProjectSpecError("a project override is {\"name\": \"cn-north-4\", \"ids\": [id, ...]}")
        name, ids = spec.get("name"), spec.get("ids")
        if not isinstance(name, str) or not name or len(name) > 128:
            raise ProjectSpecError("name must be a non-empty string of at most 128 characters")
        if ids is not None:
            if not isinstance(ids, list) or not all(isinstance(i, str) and PROJECT_ID_RE.match(i) for i in ids):
                raise ProjectSpecError("ids must be a list of project ids (32 to 64 characters of [A-Za-z0-9_-])")
            if len(set(ids)) != len(ids):
                raise ProjectSpecError("ids must not repeat")
        with self._lock:
            if ids is None:
                self._overrides.pop(name, None)
            else:
                self._overrides[name] = list(ids)
        return {"name": name, "ids": ids}

    def overrides(self):
        with self._lock:
            return dict((name, list(ids)) for name, ids in self._overrides.items())

    def ids_for(self, name):
        """The ids of the projects called ``name`` (a list, possibly empty)."""
        with self._lock:
            if name in self._overrides:
                return list(self._overrides[name])
        if isinstance(name, str) and PROJECT_NAME_RE.match(name):
            return [self.config.project_id_for_name(name)]
        return []

    def name_for(self, project_id):
        """The name of the project with this id (for tokens scoped by id)."""
        with self._lock:
            for name, ids in self._overrides.items():
                if project_id in ids:
                    return name
        return self.config.project_name

    def listed(self, name=None):
        """(name, id) pairs ``GET /v3/projects`` shows: one name, or the configured ones."""
        if name is not None:
            return [(name, pid) for pid in self.ids_for(name)]
        names = [self.config.project_name] + [n for n in self.overrides() if n != self.config.project_name]
        return [(n, pid) for n in names for pid in self.ids_for(n)]


def list_projects(catalogue, config, raw_query, host, scheme="http"):
    """The Keystone list body for ``GET /v3/projects[?name=...]``."""
    query = parse_qsl(raw_query or "", keep_blank_values=True)
    names = [value for key, value in query if key == "name"]
    base = "%s://%s/v3/projects" % (scheme, host or "localhost")
    domain_id = config.domain_id
    projects = [{
        "id": pid,
        "name": name,
        "domain_id": domain_id,
        "enabled": True,
        "is_domain": False,
        "parent_id": domain_id,
        "description": "",
        "links": {"self": "%s/%s" % (base, pid)},
    } for name, pid in catalogue.listed(names[0] if names else None)]
    self_link = base + ("?name=%s" % quote(names[0], safe="") if names else "")
    return {"projects": projects, "links": {"self": self_link, "next": None, "previous": None}}
