# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""DbssModule: what every hwcloud.dbss module shares.

It owns the shared argument spec (documented once, in the ``hwcloud.dbss.dbss``
doc fragment), turns those options into a ready ``DbssClient`` and reports any
``DbssError`` as a failure that names the option, or the HTTP status, error
code, message and request id. A module then only declares its own options
and calls ``run``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import traceback

from urllib.parse import unquote, urlsplit

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.errors import AnsibleFallbackNotFound
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values

from ansible_collections.hwcloud.dbss.plugins.module_utils import dbss_settings as settings
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_auth import select_auth
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_client import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    DbssClient,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssError


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


COMMON_ARGUMENT_SPEC = dict(
    project_id=dict(type="str", required=True, fallback=(env_fallback, ["HW_PROJECT_ID"])),
    region=dict(type="str", fallback=(env_fallback, ["HW_REGION_NAME"])),
    cloud=dict(type="str", default="myhuaweicloud.com", fallback=(env_fallback, ["HW_CLOUD"])),
    endpoint=dict(type="str", fallback=(env_fallback, ["HW_DBSS_ENDPOINT"])),
    auth_token=dict(type="str", no_log=True, fallback=(env_fallback, ["HW_AUTH_TOKEN", "OS_AUTH_TOKEN"])),
    access_key=dict(type="str", no_log=False, fallback=(env_fallback, ["HW_ACCESS_KEY"])),
    secret_key=dict(type="str", no_log=True, fallback=(env_fallback, ["HW_SECRET_KEY"])),
    security_token=dict(type="str", no_log=True, fallback=(env_fallback, ["HW_SECURITY_TOKEN"])),
    auth_url=dict(type="str", fallback=(env_fallback, ["HW_AUTH_URL"])),
    user_name=dict(type="str", fallback=(env_fallback, ["HW_USER_NAME"])),
    password=dict(type="str", no_log=True, fallback=(env_fallback, ["HW_USER_PASSWORD"])),
    domain_name=dict(type="str", fallback=(env_fallback, ["HW_DOMAIN_NAME"])),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    timeout=dict(type="float", default=30.0),
    max_retries=dict(type="int", default=5, fallback=(env_fallback, ["HW_MAX_RETRIES"])),
)

# Options whose values are secrets; callers mask them in anything they print.
SECRET_OPTIONS = ("auth_token", "secret_key", "security_token", "password")


def argument_spec(module_spec):
    """The shared spec plus a module's own options."""
    spec = dict(COMMON_ARGUMENT_SPEC)
    spec.update(module_spec)
    return spec


URL_OPTIONS = ("endpoint", "auth_url")
# scheme://user:password@... ; the password is what follows the first ':' of the user info.
_USERINFO_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@]*:([^/?#]*)@")


def secret_values(validation):
    """What a validated task must never print: the no_log values the argument
    spec validator collected (HW_* fallbacks included) and passwords typed into
    a URL option. Empty values are left out: "" would match everywhere."""
    values = set(validation._no_log_values) | url_passwords(validation.validated_parameters)
    return frozenset(value for value in values if value)


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
                found.add(password)
                found.add(unquote(password))
    return found


def build_client(params, rate_limiter=None, log=None, session=None):
    """Validate the shared options and return a DbssClient; raises DbssConfigError
    before any request when an option breaks a rule."""
    project_id = settings.validate_project_id(params.get("project_id"))
    base_url = settings.resolve_base_url(params.get("endpoint"), params.get("region"), params.get("cloud"))
    timeout = settings.validate_timeout(params.get("timeout"))
    max_retries = settings.validate_max_retries(params.get("max_retries"))
    ca_path = settings.validate_ca_path(params.get("ca_path"))
    auth = select_auth(params)
    return DbssClient(base_url, project_id, auth, timeout=timeout, max_retries=max_retries,
                      validate_certs=params.get("validate_certs", True), ca_path=ca_path,
                      rate_limiter=rate_limiter, log=log, session=session)


def failure_result(error):
    """The message and extra result fields of a failed run."""
    if isinstance(error, DbssError):
        fields = error.to_result()
        if error.warnings:
            fields["warnings"] = list(error.warnings)
        return str(error), fields
    # Unexpected: report the type and text, never a traceback in msg.
    return "unexpected error: %s: %s" % (type(error).__name__, error), {}


def run_as_task(module_spec, module_kwargs, args, operation, on_event=None):
    """Validate ``args`` exactly as AnsibleModule would (types, defaults, HW_*
    fallbacks, mutually exclusive options), run ``operation(params)`` and return
    the task result with every no_log value masked, messages included.

    With ``on_event``, the operation is called as ``operation(params,
    on_event=...)`` and every event reaches ``on_event`` masked the same way:
    an error text in an event may quote what a server echoed back.

    For callers that are not modules: the action plugin on the controller, the
    reliability tests. An exception never escapes: it becomes ``failed`` with a
    one-line ``msg``, like a module's failure."""
    validator = ArgumentSpecValidator(argument_spec(module_spec),
                                      mutually_exclusive=module_kwargs.get("mutually_exclusive"),
                                      required_one_of=module_kwargs.get("required_one_of"))
    validation = validator.validate(dict(args))
    secrets = secret_values(validation)
    if validation.error_messages:
        return remove_values({"failed": True, "changed": False, "msg": "; ".join(validation.error_messages)}, secrets)
    params = validation.validated_parameters
    result = {"changed": False}
    try:
        if on_event is None:
            result.update(operation(params))
        else:
            result.update(operation(params, on_event=lambda event: on_event(remove_values(event, secrets))))
    except Exception as error:  # pylint: disable=broad-except
        message, fields = failure_result(error)
        result.update(fields)
        result.update(failed=True, msg=message)
    warnings = [w.get("warning", str(w)) if isinstance(w, dict) else str(w) for w in validation._warnings]
    if warnings:
        result["warnings"] = warnings + list(result.get("warnings", []))
    result["invocation"] = {"module_args": params}
    return remove_values(result, secrets)


class DbssModule:
    """AnsibleModule plus the shared DBSS options and failure reporting."""

    def __init__(self, module_spec, **kwargs):
        self.module = AnsibleModule(argument_spec=argument_spec(module_spec), **kwargs)
        self.module.no_log_values.update(url_passwords(self.module.params))
        if not HAS_REQUESTS:
            self.module.fail_json(msg=missing_required_lib("requests"), exception=str(REQUESTS_IMPORT_ERROR))

    @property
    def params(self):
        return self.module.params

    def warn(self, message):
        self.module.warn(message)

    def run(self, operation):
        """Call ``operation(params, module)`` and exit with its result dict, or
        fail with the error's message and fields."""
        try:
            result = operation(self.module.params, self)
        except DbssError as error:
            message, fields = failure_result(error)
            self.module.fail_json(msg=message, changed=False, **fields)
        except Exception as error:  # pylint: disable=broad-except
            message, fields = failure_result(error)
            self.module.fail_json(msg=message, changed=False, exception=traceback.format_exc(), **fields)
        self.module.exit_json(**result)
