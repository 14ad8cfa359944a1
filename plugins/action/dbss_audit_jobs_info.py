# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of dbss_audit_jobs_info: live progress for long waits.

A module's output reaches the user only when it ends, so a 20-minute wait
would be silent. When the task's connection is ``local`` (``hosts: localhost``,
``connection: local`` or ``delegate_to: localhost``, where a cloud API task
usually runs) the same code runs here, in the controller's worker process, and
prints every job state change as it happens (``-v``). On any other connection
the module runs on the target host as usual, so nothing about where requests
come from changes behind the user's back; its result still lists the changes
in ``events``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from contextlib import contextmanager

from ansible.executor.module_common import _apply_action_arg_defaults
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_client import HAS_REQUESTS
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssError
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs_info import (
    JOBS_INFO_ARGUMENT_SPEC,
    JOBS_INFO_MODULE_KWARGS,
    run_jobs_info,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_module import argument_spec, build_client, failure_result

display = Display()

MODULE_NAME = "hwcloud.dbss.dbss_audit_jobs_info"


@contextmanager
def _environment(overrides):
    """The task's ``environment:`` applied while option fallbacks (HW_*) are
    read, exactly as the module would see it on a host. The worker process is
    forked for this one task, so the change cannot leak into others."""
    saved = dict(os.environ)
    os.environ.update(dict((str(k), str(v)) for k, v in overrides.items()))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def describe_event(event):
    """One progress line for a state change or a retried error."""
    elapsed = event.get("elapsed", 0.0)
    if "status" in event:
        return "dbss: resource %s job %s: %s -> %s (%.1f s)" % (
            event.get("resource_id"), event.get("job_id") or "-", event.get("previous_status") or "start",
            event.get("status"), elapsed)
    return "dbss: resource %s: %s, retrying (%.1f s)" % (event.get("resource_id"), event.get("error"), elapsed)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(argument_spec(JOBS_INFO_ARGUMENT_SPEC))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = self._args_with_defaults()
        if self._connection.transport != "local" or not HAS_REQUESTS:
            # Remote host (or a controller without requests): the module runs
            # where the user asked; its missing_required_lib message applies.
            result.update(self._execute_module(module_name=MODULE_NAME, module_args=args, task_vars=task_vars))
            return result
        result.update(self._run_on_controller(args))
        return result

    def _args_with_defaults(self):
        """The task's arguments, with module_defaults filled in for every option
        the task does not set after templating. Ansible applies module_defaults
        before templating, so an option written as ``{{ x | default(omit) }}``
        (as a role passing its variables through does) would otherwise hide the
        default: the built-in package and service actions re-apply it the same way."""
        action = self._task.resolved_action or MODULE_NAME
        return _apply_action_arg_defaults(action, self._task, dict(self._task.args), self._templar)

    def _run_on_controller(self, args):
        environment = {}
        self._compute_environment_string(environment)
        validator = ArgumentSpecValidator(argument_spec(JOBS_INFO_ARGUMENT_SPEC),
                                          mutually_exclusive=JOBS_INFO_MODULE_KWARGS["mutually_exclusive"],
                                          required_one_of=JOBS_INFO_MODULE_KWARGS["required_one_of"])
        with _environment(environment):
            validation = validator.validate(args)
        secrets = validation._no_log_values
        if validation.error_messages:
            return self._masked(dict(failed=True, changed=False, msg="; ".join(validation.error_messages)), secrets)
        params = validation.validated_parameters
        result = {"changed": False}
        try:
            result.update(run_jobs_info(params, lambda limiter: build_client(params, rate_limiter=limiter),
                                        on_event=lambda event: display.v(remove_values(describe_event(event), secrets))))
        except Exception as error:  # pylint: disable=broad-except
            message, fields = failure_result(error)
            result.update(fields)
            result.update(failed=True, msg=message)
            if not isinstance(error, DbssError):
                display.vvv("dbss: unexpected %s" % type(error).__name__)
        for warning in validation._warnings:
            display.warning(warning.get("warning", str(warning)) if isinstance(warning, dict) else str(warning))
        result["invocation"] = {"module_args": params}
        return self._masked(result, secrets)

    @staticmethod
    def _masked(result, secrets):
        """Every secret value replaced, wherever it hides (messages included)."""
        return remove_values(result, secrets)
