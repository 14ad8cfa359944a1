# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The options every hwcloud.dbss entry point shares, and what they build:
``COMMON_ARGUMENT_SPEC`` (documented in the ``hwcloud.dbss.dbss`` doc
fragment; environment variable names live here only), ``secret_values``,
``build_client``, ``task_result`` (one success and one failure shape for both
routes) and ``run_as_task`` (the controller route). dbss_module.py sits on top.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from urllib.parse import unquote, urlsplit

from ansible.module_utils.errors import AnsibleFallbackNotFound
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.hwcloud.dbss.plugins.module_utils import dbss_settings as settings
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_auth import select_auth
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_client import DbssClient
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssError
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_secrets import SecretMasker


def env_fallback(*names):
    """The first of the environment variables ``names`` that is set and not
    empty. ansible-core's own env_fallback stops at the first one that is set,
    so an empty ``HW_AUTH_TOKEN=`` (a CI variable defined but blank) would hide
    ``OS_AUTH_TOKEN`` and then count as no credential at all."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    raise AnsibleFallbackNotFound


def _env(*names):
    return (env_fallback, list(names))


def insecure_fallback(*names):
    """validate_certs from HW_INSECURE / OS_INSECURE, as the Terraform provider
    reads them: a true value turns verification off. A value that is not a
    boolean is passed on as is, so validate_certs' own check refuses it."""
    value = env_fallback(*names)
    try:
        return not boolean(value)
    except TypeError:
        return value


# Environment variables: the Terraform provider's, in its order of precedence
# (HW_* first, then the OpenStack OS_* names), so a pipeline that runs the
# provider needs no new variable.
COMMON_ARGUMENT_SPEC = dict(
    project_id=dict(type="str", fallback=_env("HW_PROJECT_ID", "OS_PROJECT_ID", "OS_TENANT_ID")),
    project_name=dict(type="str", fallback=_env("HW_PROJECT_NAME", "OS_PROJECT_NAME", "OS_TENANT_NAME")),
    region=dict(type="str", fallback=_env("HW_REGION_NAME", "OS_REGION_NAME")),
    cloud=dict(type="str", fallback=_env("HW_CLOUD")),
    endpoint=dict(type="str", fallback=_env("HW_DBSS_ENDPOINT")),
    auth_token=dict(type="str", no_log=True, fallback=_env("HW_AUTH_TOKEN", "OS_AUTH_TOKEN")),
    access_key=dict(type="str", no_log=False, fallback=_env("HW_ACCESS_KEY", "OS_ACCESS_KEY")),
    secret_key=dict(type="str", no_log=True, fallback=_env("HW_SECRET_KEY", "OS_SECRET_KEY")),
    security_token=dict(type="str", no_log=True, fallback=_env("HW_SECURITY_TOKEN")),
    auth_url=dict(type="str", fallback=_env("HW_AUTH_URL", "OS_AUTH_URL")),
    user_name=dict(type="str", fallback=_env("HW_USER_NAME", "OS_USERNAME")),
    password=dict(type="str", no_log=True, fallback=_env("HW_USER_PASSWORD", "OS_PASSWORD")),
    domain_name=dict(type="str", fallback=_env("HW_DOMAIN_NAME", "OS_DOMAIN_NAME", "OS_USER_DOMAIN_NAME",
                                               "OS_PROJECT_DOMAIN_NAME")),
    validate_certs=dict(type="bool", default=True, fallback=(insecure_fallback, ["HW_INSECURE", "OS_INSECURE"])),
    ca_path=dict(type="path", fallback=_env("OS_CACERT")),
    timeout=dict(type="raw", default=30.0),
    max_retries=dict(type="raw", default=5, fallback=_env("HW_MAX_RETRIES")),
)

# option -> the environment variables it falls back to, in order.
ENV_NAMES = dict((option, list(spec["fallback"][1])) for option, spec in COMMON_ARGUMENT_SPEC.items()
                 if "fallback" in spec)
ENV_NAMES["validate_certs"] = ["HW_INSECURE", "OS_INSECURE"]  # inverted: true turns verification off

URL_OPTIONS = ("endpoint", "auth_url")
# scheme://user:password@... ; the password is what follows the first ':' of the user info.
_USERINFO_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@]*:([^/?#]*)@")


def argument_spec(module_spec):
    """The shared spec plus a module's own options."""
    spec = dict(COMMON_ARGUMENT_SPEC)
    spec.update(module_spec)
    return spec


def secret_values(params, no_log_values=()):
    """What a run must never print: the no_log values the validator collected
    (HW_* fallbacks included) and passwords typed into a URL option. Empty
    values are left out: "" would match everywhere."""
    values = set(no_log_values) | url_passwords(params)
    return frozenset(value for value in values if isinstance(value, str) and value)


def url_passwords(params):
    """Passwords typed into a URL option ('https://user:pw@host'). Such a URL is
    refused, but the refusal must not echo the password (invocation at -vvv)."""
    found = set()
    for option in URL_OPTIONS:
        value = params.get(option)
        if isinstance(value, str) and "@" in value:
            try:
                password = urlsplit(value.strip()).password
            except ValueError:
                # Not parseable (say, a broken IPv6 host): take the user info by hand.
                match = _USERINFO_RE.match(value.strip())
                password = match.group(1) if match else None
            if password:
                found.update((password, unquote(password)))
    return found


def build_client(params, masker, rate_limiter=None, log=None):
    """Validate the shared options and return a DbssClient; raises DbssConfigError
    before any request when an option breaks a rule. Without project_id, the
    client finds the project by name on its first call (dbss_auth.py)."""
    project_id = params.get("project_id") or None
    if project_id is not None:
        settings.validate_project_id(project_id)
    base_url = settings.resolve_base_url(params.get("endpoint"), params.get("region"), params.get("cloud"))
    timeout = settings.validate_timeout(params.get("timeout"))
    max_retries = settings.validate_max_retries(params.get("max_retries"))
    ca_path = settings.validate_ca_path(params.get("ca_path"))
    auth = select_auth(params, env_names=ENV_NAMES)
    validate_certs = params.get("validate_certs", True)
    verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
    client = DbssClient(base_url, project_id, auth, timeout=timeout, max_retries=max_retries, verify=verify,
                        masker=masker, rate_limiter=rate_limiter, log=log)
    client.warnings.extend(filter(None, [settings.region_warning(params.get("region"))]))
    return client


def task_result(operation, params, masker):
    """``operation(params)`` as a task result: its dict on success; on failure
    ``failed``, a one-line ``msg`` and the error's own fields. Both routes build
    their result here, and everything in it is masked."""
    try:
        result = dict(operation(params))
    except DbssError as error:
        result = error.to_result()
        if error.warnings:
            result["warnings"] = list(error.warnings)
        result.update(failed=True, msg=str(error))
    except Exception as error:  # pylint: disable=broad-except
        # Unexpected: the type and text, never a traceback in msg.
        result = {"failed": True, "msg": "unexpected error: %s: %s" % (type(error).__name__, error)}
    result["changed"] = False
    return masker.data(result)


def run_as_task(module_spec, module_kwargs, args, operation, on_event=None):
    """The controller route: validate ``args`` as AnsibleModule would, then
    ``task_result``; ``on_event`` (live progress) gets every event masked."""
    validator = ArgumentSpecValidator(argument_spec(module_spec),
                                      mutually_exclusive=module_kwargs.get("mutually_exclusive"),
                                      required_one_of=module_kwargs.get("required_one_of"))
    validation = validator.validate(dict(args))
    params = validation.validated_parameters
    masker = SecretMasker(secret_values(params, validation._no_log_values))
    if validation.error_messages:
        return masker.data({"failed": True, "changed": False, "msg": "; ".join(validation.error_messages)})
    if on_event is None:
        result = task_result(lambda p: operation(p, masker), params, masker)
    else:
        result = task_result(lambda p: operation(p, masker, on_event=lambda e: on_event(masker.data(e))),
                             params, masker)
    warnings = [w.get("warning", str(w)) if isinstance(w, dict) else str(w) for w in validation._warnings]
    if warnings:
        result["warnings"] = warnings + list(result.get("warnings", []))
    result["invocation"] = {"module_args": masker.data(params)}
    return result
