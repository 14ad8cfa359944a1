# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM ``POST /v3/auth/tokens``: password login scoped to a project by id or by name.

A name is resolved through the project catalogue (projects.py), so the token carries
the id ``GET /v3/projects?name=`` shows; a name without a project answers 400, a name
with several projects uses the first.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hmac
import json
import time

from .config import PROJECT_ID_RE, derived_id
from .replies import iam_error, json_reply

WRONG_CREDENTIALS = "The username or password is wrong."
PROJECT_NOT_FOUND = "The request you have made requires authentication. Could not find project: %s."


class BadLogin(ValueError):
    """The login body does not have the expected shape (answered with 400)."""


def _get(data, path):
    for key in path.split("."):
        if not isinstance(data, dict) or key not in data:
            raise BadLogin("the request body is missing auth.%s" % path)
        data = data[key]
    return data


def _text(data, path):
    value = _get(data, path)
    if not isinstance(value, str) or not value:
        raise BadLogin("auth.%s must be a non-empty string" % path)
    return value


def parse_login(body):
    """Return (user, password, domain, project_id or None, project_name or None)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise BadLogin("the request body is not JSON")
    auth = _get(data, "auth")
    methods = _get(auth, "identity.methods")
    if not isinstance(methods, list) or "password" not in methods:
        raise BadLogin("auth.identity.methods must contain \"password\"")
    user = _text(auth, "identity.password.user.name")
    password = _text(auth, "identity.password.user.password")
    domain = _text(auth, "identity.password.user.domain.name")
    project = _get(auth, "scope.project")
    if not isinstance(project, dict) or not (project.get("id") or project.get("name")):
        raise BadLogin("auth.scope.project needs an id or a name")
    project_id = project.get("id")
    if project_id is not None and (not isinstance(project_id, str) or not PROJECT_ID_RE.match(project_id)):
        raise BadLogin("auth.scope.project.id must be 32 to 64 characters of [A-Za-z0-9_-]")
    project_name = project.get("name")
    if project_name is not None and not isinstance(project_name, str):
        raise BadLogin("auth.scope.project.name must be a string")
    return user, password, domain, project_id, project_name


def _same(given, expected):
    if expected is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + ".%06dZ" % int((epoch % 1) * 1000000)


def login(config, state, body, now=None, projects=None):
    """Answer a login request; a Reply (201 with X-Subject-Token, 400 or 401).

    ``projects`` is the Catalogue resolving scope names (None: every name is a project).
    """
    now = time.time() if now is None else now
    try:
        user, password, domain, project_id, project_name = parse_login(body)
    except BadLogin as exc:
        return iam_error(400, "The request you have made requires authentication. %s" % exc)
    # Compare all three every time so a wrong user and a wrong password look alike.
    ok_user = _same(user, config.user)
    ok_password = _same(password, config.password)
    ok_domain = _same(domain, config.domain)
    if not (ok_user and ok_password and ok_domain):
        return iam_error(401, WRONG_CREDENTIALS)
    if project_id is None:
        ids = projects.ids_for(project_name) if projects is not None else [config.project_id_for_name(project_name)]
        if not ids:
            return iam_error(400, PROJECT_NOT_FOUND % project_name[:128])
        project_id = ids[0]
        name = project_name
    else:
        name = project_name or (projects.name_for(project_id) if projects is not None else config.project_name)
    domain_obj = {"id": derived_id("domain", domain), "name": domain}
    expires = now + config.token_ttl
    token_body = {
        "expires_at": _iso(expires),
        "issued_at": _iso(now),
        "methods": ["password"],
        "project": {"id": project_id, "name": name, "domain": domain_obj},
        "user": {"id": derived_id("user", user), "name": user, "domain": domain_obj, "password_expires_at": ""},
        "roles": [{"id": derived_id("role", "te_admin"), "name": "te_admin"}],
        "catalog": [],
    }
    token = state.issue_token({"expires": expires, "project_id": project_id})
    return json_reply(201, {"token": token_body}, headers=[("X-Subject-Token", token)])
