# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of dbss_audit_jobs_info: live progress for long waits.

A module's output reaches the user only when it ends, so a 20-minute wait
would be silent (and some CI systems end a job silent for 10 minutes). When the
task's connection is ``local`` (``hosts: localhost``, ``connection: local`` or
``delegate_to: localhost``, where a cloud API task usually runs) the same code
runs here, in the controller's worker process, and prints a Terraform-style
progress log at default verbosity: a start line, a summary after the first poll,
each job state change, and a "still waiting" line at least every 30 seconds;
``-v`` adds retried errors and each resource's first observation. ``progress:
false`` moves every line to ``-v``. On any other connection the module runs on
the target host as usual, so nothing about where requests come from changes
behind the user's back; its result still lists the changes in ``events``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time
from contextlib import contextmanager

from ansible.executor.module_common import _apply_action_arg_defaults
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_client import HAS_REQUESTS
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_instances import IDLE_TASKS
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs_info import (
    JOBS_INFO_ARGUMENT_SPEC,
    JOBS_INFO_MODULE_KWARGS,
    jobs_info_task,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_options import argument_spec, run_as_task
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_secrets import shorten

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


def describe_event(event, now=time.time):
    """(verbosity, line): the progress line of a waiter event, and the least
    verbosity that shows it (0: the default)."""
    elapsed = "[%s elapsed]" % format_elapsed(event.get("elapsed") or 0.0)
    kind = event.get("event")
    if kind == "start":
        count, timeout = event.get("resources"), event.get("timeout") or 0.0
        until = time.strftime("%H:%M:%S UTC", time.gmtime(now() + timeout))
        return 0, "dbss: waiting for %d resource%s until %s (wait_timeout %s)" % (
            count, "" if count == 1 else "s", until, format_elapsed(timeout))
    if kind == "progress":
        counts = event.get("counts") or {}
        ranked = sorted(counts, key=lambda state: (-counts[state], str(state)))
        states = ", ".join("%d %s" % (counts[state], shorten(str(state), 40)) for state in ranked[:8])
        if len(ranked) > 8:
            states += ", %d in %d other states" % (sum(counts[state] for state in ranked[8:]), len(ranked) - 8)
        return 0, "dbss: still waiting %s: %s" % (elapsed, states)
    if "instance_id" in event:
        return (1 if event.get("first") else 0), "dbss: resource %s instance %s: %s -> %s %s" % (
            event.get("resource_id"), event.get("instance_id"),
            _state(event.get("previous_status"), event.get("previous_task")) if event.get("previous_status") else "new",
            _state(event.get("status"), event.get("task")), elapsed)
    if "status" in event:
        return (1 if event.get("first") else 0), "dbss: resource %s job %s: %s -> %s %s" % tuple(
            shorten(str(part), 100) for part in (event.get("resource_id"), event.get("job_id") or "-",
                                                 event.get("previous_status") or "new", event.get("status") or "gone",
                                                 elapsed))
    return 1, "dbss: resource %s: %s; retrying %s" % (event.get("resource_id"), event.get("error"), elapsed)


def _state(status, task):
    return status if task in IDLE_TASKS else "%s (task %s)" % (status, task)


def format_elapsed(seconds):
    """Terraform's form: 45s, 2m30s, 1h0m5s."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return "%dh%dm%ds" % (hours, minutes, seconds)
    return "%dm%ds" % (minutes, seconds) if minutes else "%ds" % seconds


def show_event(event, progress):
    """Print one event's line at its verbosity (everything at -v without ``progress``)."""
    level, line = describe_event(event)
    if level == 0 and progress:
        display.display(line)
    else:
        display.v(line)


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
            progress = boolean(args.get("progress", True), strict=False)
            result.update(run_as_task(JOBS_INFO_ARGUMENT_SPEC, JOBS_INFO_MODULE_KWARGS, args, jobs_info_task,
                                      on_event=lambda event: show_event(event, progress)))
        return result

    def _args_with_defaults(self):
        """The task's arguments, with module_defaults filled in for every option
        the task does not set after templating. Ansible applies module_defaults
        before templating, so an option written as ``{{ x | default(omit) }}``
        (as a role passing its variables through does) would otherwise hide the
        default: the built-in package and service actions re-apply it the same way."""
        action = self._task.resolved_action or MODULE_NAME
        return _apply_action_arg_defaults(action, self._task, dict(self._task.args), self._templar)
