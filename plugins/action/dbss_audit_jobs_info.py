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
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_client import HAS_REQUESTS
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs_info import (
    JOBS_INFO_ARGUMENT_SPEC,
    JOBS_INFO_MODULE_KWARGS,
    jobs_info_task,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_options import argument_spec, run_as_task

display = Display()

MODULE_NAME = "hwcloud.dbss.dbss_audit_jobs_info"


@contextmanager
def _environment(overrides):
    """The task's ``environment:`` in force while the task runs, as the module
    would see it on a host (HW_* fallbacks, proxy variables). The worker
    process is forked for this one task, so the change cannot leak into others."""
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
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = self._args_with_defaults()
        if self._connection.transport != "local" or not HAS_REQUESTS or self._task.async_val:
            # Remote host, a controller without requests (the module's
            # missing_required_lib message applies) or an async task (only a
            # module can run under Ansible's async wrapper): run the module.
            wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
            result.update(self._execute_module(module_name=MODULE_NAME, module_args=args, task_vars=task_vars,
                                               wrap_async=wrap_async))
            return result
        environment = {}
        self._compute_environment_string(environment)
        with _environment(environment):
            # run_as_task builds the result as the module does, and masks the
            # events too: a retried error's text may quote what a server echoed.
            result.update(run_as_task(JOBS_INFO_ARGUMENT_SPEC, JOBS_INFO_MODULE_KWARGS, args, jobs_info_task,
                                      on_event=lambda event: display.v(describe_event(event))))
        return result

    def _args_with_defaults(self):
        """The task's arguments, with module_defaults filled in for every option
        the task does not set after templating. Ansible applies module_defaults
        before templating, so an option written as ``{{ x | default(omit) }}``
        (as a role passing its variables through does) would otherwise hide the
        default: the built-in package and service actions re-apply it the same way."""
        action = self._task.resolved_action or MODULE_NAME
        return _apply_action_arg_defaults(action, self._task, dict(self._task.args), self._templar)
