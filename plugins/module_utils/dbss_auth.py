# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Authentication for hwcloud.dbss: token, AK/SK signing and IAM password login.

``select_auth`` picks the mode from the options; when several are complete the
first wins: ``auth_token``; ``access_key`` + ``secret_key`` (+ ``security_token``);
``user_name`` + ``password`` + ``domain_name`` (an IAM login scoped to
``project_id``, or to a project name, renewed once on a 401). A half-given AK/SK
pair is an error whatever else is complete: it is almost always a typo. A
half-given password set is one only when no token or AK/SK is complete: the
Terraform provider ignores it too, and OpenStack environments export
OS_USERNAME / OS_PASSWORD whatever the mode (docs/guide.md, "Connecting and
authenticating").

The modes are ``requests.auth.AuthBase`` objects: requests applies them to the
prepared request before every attempt. Each has ``kind``, a ``label`` for
messages, a ``masker`` of its secrets (the IAM token it obtained included),
``bind(send)`` (only the login sends) and ``renew(request)`` (True when a
request answered 401 is worth one more try). Without a project id, AK/SK
and password modes carry ``project_name`` and ``iam_url``, from which the
client finds the project once (``project_from_list``, or the login's token).
``NO_AUTH`` adds nothing: it
goes on requests without credentials, for requests adds its own
(``~/.netrc``) to a request without auth. Nothing made here shows a secret.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import threading

try:
    from requests.auth import AuthBase
except ImportError:  # pragma: no cover - the client reports the missing requests library
    AuthBase = object

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssApiError, DbssConfigError
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_secrets import NO_SECRETS, SecretMasker
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_settings import (
    PROJECT_ID_RE,
    resolve_iam_url,
    validate_header_secret,
    validate_project_name,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_signer import format_date, host_header, sign_request

# Added by the transport after the request is built (the SDK does not sign them
# either), and a proxy may rewrite them: signing them could only break a signature.
UNSIGNED_HEADERS = frozenset(("accept-encoding", "connection", "content-length", "transfer-encoding"))


class _Auth(AuthBase):
    """No credential; used as is (``NO_AUTH``) so that none comes from ``~/.netrc``."""

    kind = "none"
    label = "no credentials"
    masker = NO_SECRETS
    # Set by select_auth when the project is to be found by name: the name,
    # the option that gave it (for messages) and the IAM v3 endpoint.
    project_id = project_name = project_option = iam_url = None

    def __call__(self, request):
        return request

    def bind(self, send):
        """Nothing to log in to."""

    def renew(self, request):  # pylint: disable=unused-argument
        """A 401 to ``request`` cannot be cured by this credential."""
        return False

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, self.label)


NO_AUTH = _Auth()


class TokenAuth(_Auth):
    """A token given by the user, sent as ``X-Auth-Token``."""

    kind = "token"
    label = "token (auth_token)"

    def __init__(self, token):
        self._token = token
        self.masker = SecretMasker((token,))

    def __call__(self, request):
        request.headers["X-Auth-Token"] = self._token
        return request


class AkSkAuth(_Auth):
    """AK/SK request signing, as the Huawei Cloud SDKs do. ``utcnow`` returns
    the current UTC time (tests pass a fixed one)."""

    kind = "aksk"
    label = "AK/SK signing (access_key, secret_key)"

    def __init__(self, access_key, secret_key, security_token=None, project_id=None, utcnow=None,
                 project_name=None, iam_url=None):
        self._access_key = access_key
        self._secret_key = secret_key
        self._security_token = security_token or None
        self.project_id = project_id or None
        self.project_name = project_name
        self.iam_url = iam_url
        self._utcnow = utcnow or _utcnow
        self.masker = SecretMasker((secret_key, self._security_token))

    def __call__(self, request):
        headers = request.headers
        headers.pop("Authorization", None)  # a retry's old signature
        headers["X-Sdk-Date"] = format_date(self._utcnow())
        headers["Host"] = host_header(request.url)
        if self.project_id:
            headers["X-Project-Id"] = self.project_id
        if self._security_token:
            headers["X-Security-Token"] = self._security_token
        signed = dict((name, value) for name, value in headers.items() if name.lower() not in UNSIGNED_HEADERS)
        headers.update(sign_request(request.method, request.url, signed, request.body,
                                    self._access_key, self._secret_key))
        return request


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


class PasswordAuth(_Auth):
    """IAM password login; one cached token for all threads. ``bind(send)``:
    ``send(method, url, headers, body)`` returns the 2xx answer or raises (the
    client's keeps to the deadline of the call that needs the token).

    Logging in holds a lock, so threads starting together log in once;
    ``renew`` logs in again only if the refused request carried the current
    token, so a burst of 401s to one token causes one login. A refused login
    is raised again, never repeated (each try brings an account lockout closer)."""

    kind = "password"
    label = "IAM password (user_name, password, domain_name)"

    def __init__(self, auth_url, user_name, password, domain_name, project_id=None, project_name=None):
        self.auth_url = self.iam_url = auth_url.rstrip("/")
        self.user_name = user_name
        self._password = password
        self.domain_name = domain_name
        # Scoped by id when given, else by name; the token then names the id.
        self._scope = {"id": project_id} if project_id else {"name": project_name}
        self.project_id = project_id
        self.project_name = project_name
        self.masker = SecretMasker((password,))
        self._send = None
        self._token = None
        self._refused = None
        self._issued = []
        self._lock = threading.Lock()

    @property
    def operation(self):
        """What a failed login reports it was doing (no secret in it)."""
        return "IAM password login to %s as user %s in domain %s" % (self.auth_url, self.user_name, self.domain_name)

    def bind(self, send):
        self._send = send

    def __call__(self, request):
        request.headers["X-Auth-Token"] = self.token()
        return request

    def token(self):
        """The current token; logs in first if there is none."""
        with self._lock:
            if self._token is None:
                self._login()
            return self._token

    def renew(self, request):
        with self._lock:
            if self._token is None or self._token == request.headers.get("X-Auth-Token"):
                self._token = None
                self._login()
        return True

    def _login(self):
        """Log in once (the caller holds the lock); raises DbssError."""
        if self._refused is not None:
            raise self._refused
        if self._send is None:
            raise RuntimeError("PasswordAuth must be bound to a client before use")
        try:
            answer = self._send("POST", self.auth_url + "/auth/tokens",
                                {"Content-Type": "application/json;charset=utf8"}, self._body())
        except DbssApiError as error:
            if error.login_refused:
                self._refused = error
            raise
        token = answer.headers.get("X-Subject-Token") or ""
        try:
            self._token = validate_header_secret(token, "X-Subject-Token")
        except DbssConfigError:
            raise DbssApiError(answer.status, request_id=answer.headers.get("X-Request-Id"),
                               operation=self.operation, error_msg="IAM answered without a usable X-Subject-Token "
                               "header, so no token was issued (mode: %s)" % self.label) from None
        # Every token obtained stays masked: a server may echo an older one.
        self._issued.append(token)
        self.masker = SecretMasker([self._password] + self._issued)
        if self.project_id is None:
            self.project_id = self._token_project(answer)

    def _token_project(self, answer):
        """The project id of a token scoped by name (token.project.id)."""
        project = ((answer.data or {}).get("token") or {}).get("project") if isinstance(answer.data, dict) else None
        project_id = project.get("id") if isinstance(project, dict) else None
        if not isinstance(project_id, str) or not PROJECT_ID_RE.match(project_id):
            raise DbssApiError(answer.status, request_id=answer.headers.get("X-Request-Id"), operation=self.operation,
                               error_msg="IAM issued a token without a usable token.project.id, so the id of "
                                         "project %s is unknown; set project_id" % self.project_name)
        return project_id

    def _body(self):
        """The login request body (holds the password: never log it)."""
        user = {"name": self.user_name, "password": self._password, "domain": {"name": self.domain_name}}
        return json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": user}},
                                    "scope": {"project": self._scope}}}).encode("utf-8")


_OPTIONS = ("auth_token", "access_key", "secret_key", "security_token", "auth_url", "user_name", "password",
            "domain_name", "project_id", "project_name", "region", "cloud")


def _env(option, env_names, form):
    """``form`` naming the environment variables ``option`` falls back to, or ""."""
    names = (env_names or {}).get(option)
    return form % " or ".join(names) if names else ""


def _required(option, when, env_names):
    how = "set it" + _env(option, env_names, " or the %s environment variable")
    return DbssConfigError(option, "is required when %s; %s" % (when, how))


def _check_aksk_set(p, env):
    if p["access_key"] and not p["secret_key"]:
        raise _required("secret_key", "access_key is set (AK/SK signing)", env)
    if p["secret_key"] and not p["access_key"]:
        raise _required("access_key", "secret_key is set (AK/SK signing)", env)
    if p["security_token"] and not p["access_key"]:
        raise _required("access_key", "security_token is set (temporary AK/SK credentials need access_key "
                                      "and secret_key)", env)


def _check_password_set(p, env):
    if not (p["user_name"] or p["password"]):
        return
    for option in ("user_name", "password", "domain_name"):
        if not p[option]:
            raise _required(option, "user_name or password is set (IAM password login needs user_name, "
                                    "password and domain_name)", env)


def _no_mode_error(p, env):
    """No mode is complete: auth_url or domain_name given alone is an
    incomplete password login, anything else means no credentials at all."""
    for option in ("auth_url", "domain_name"):
        if p[option]:
            return _required("user_name", "%s is set (IAM password login needs user_name, password and "
                                          "domain_name)" % option, env)
    return DbssConfigError(
        "auth_token", "no credentials: set auth_token, or access_key and secret_key, or user_name, password and "
                      "domain_name (or their environment variables)")


class UnusableProjects(ValueError):
    """An IAM project list that no retry will make usable."""

    final = True


def project_from_list(body, name, option, iam_host="IAM"):
    """The id of the one project called ``name`` in an IAM ``GET /v3/projects``
    answer. None, or several: DbssConfigError naming ``option`` (what gave the
    name) and where IAM was asked. A body of another shape: UnusableProjects."""
    projects = body.get("projects") if isinstance(body, dict) else None
    if not isinstance(projects, list) or not all(isinstance(item, dict) for item in projects):
        raise UnusableProjects("the IAM project list has no 'projects' list of objects")
    ids = [item.get("id") for item in projects if item.get("name") == name]
    if not ids:
        raise DbssConfigError(option, "IAM at %s knows no project named %s that these credentials can see; check "
                                      "region and project_name, or set project_id" % (iam_host, name))
    if len(ids) > 1:
        raise DbssConfigError(option, "IAM at %s has %d projects named %s (%s); set project_id to the one to use"
                              % (iam_host, len(ids), name, ", ".join(str(i) for i in ids[:10])))
    if not isinstance(ids[0], str) or not PROJECT_ID_RE.match(ids[0]):
        raise UnusableProjects("the IAM project named %s has no usable id" % name)
    return ids[0]


def _project_scope(p, env_names, mode):
    """(project_name, the option that gave it) for a mode that can find its
    project, or raises when nothing names one."""
    if p["project_name"]:
        return validate_project_name(p["project_name"]), "project_name"
    if p["region"]:
        return p["region"], "region"
    raise _required("project_id", "%s and neither project_name%s nor region%s names the project to find" % (
        mode, _env("project_name", env_names, " (%s)"), _env("region", env_names, " (%s)")), env_names)


def _iam_url(p, env_names):
    url = resolve_iam_url(p["auth_url"], p["region"], p["cloud"])
    if url is None:
        raise DbssConfigError("auth_url", "is required to reach IAM when region is not set; set auth_url%s or "
                                          "region%s" % (_env("auth_url", env_names, " (%s)"),
                                                        _env("region", env_names, " (%s)")))
    return url


def select_auth(params, env_names=None, utcnow=None):
    """The auth object for the task's options; raises DbssConfigError.

    ``params`` holds the options of ``_OPTIONS`` (missing keys count as not
    set). ``env_names`` maps an option to the environment variables it falls
    back to, for messages (the caller takes them from its argument spec).
    The rules are in the module docstring. ``utcnow`` goes to AkSkAuth."""
    p = dict((name, params.get(name) if params.get(name) not in (None, "") else None) for name in _OPTIONS)
    # These travel in HTTP headers: refuse a stray newline or a typographic
    # quote here, naming the option, rather than as an obscure requests error.
    for option in ("auth_token", "access_key", "security_token"):
        if p[option]:
            validate_header_secret(p[option], option)
    _check_aksk_set(p, env_names)
    if not (p["auth_token"] or p["access_key"]):
        # As the Terraform provider: a stray OS_USERNAME / OS_PASSWORD of an OpenStack
        # environment must not break a complete token or AK/SK.
        _check_password_set(p, env_names)

    if p["auth_token"]:
        if not p["project_id"]:
            raise _required("project_id", "authenticating with a token (auth_token): a token cannot look up "
                                          "its project, as AK/SK or a password login can", env_names)
        return TokenAuth(p["auth_token"])
    if p["access_key"]:
        name = option = iam_url = None
        if not p["project_id"]:
            name, option = _project_scope(p, env_names, "signing with AK/SK")
            iam_url = _iam_url(p, env_names)
        auth = AkSkAuth(p["access_key"], p["secret_key"], security_token=p["security_token"],
                        project_id=p["project_id"], utcnow=utcnow, project_name=name, iam_url=iam_url)
        auth.project_option = option
        return auth
    if p["user_name"]:
        name, option = (None, None) if p["project_id"] else _project_scope(p, env_names, "logging in with a password")
        auth = PasswordAuth(_iam_url(p, env_names), p["user_name"], p["password"], p["domain_name"],
                            project_id=p["project_id"], project_name=name)
        auth.project_option = option
        return auth
    raise _no_mode_error(p, env_names)
