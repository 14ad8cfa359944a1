# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # How a wait runs and shows progress, and the instance's readiness after the job.
    DOCUMENTATION = r"""
options:
  progress:
    description:
      - With O(wait=true) on the controller route (a C(local) connection, not C(async)), print a progress log
        at default verbosity, as Terraform does. A start line (how many resources, the deadline), a summary
        after the first poll, each job state change (resource, job, old and new state, elapsed time) and,
        while nothing changes, a C(still waiting) line at least every 30 seconds with the number of
        resources in each state. C(-v) adds retried errors and each resource's first observation.
      - V(false) shows those lines at C(-v) only.
      - The module route (a remote host, or C(async)) prints nothing until the task ends; the state changes
        are then in RV(events).
    type: bool
    default: true
  progress_interval:
    description:
      - Longest silence of the progress log while nothing changes (seconds or a duration, above 0, at most
        V(1h)). A C(still waiting) line comes at least this often. The module route has no log, so
        there it changes nothing.
    type: raw
    default: 30
  wait_timeout:
    description:
      - How long to wait in total; seconds, or a duration such as V(20m), V(1h30m) or V(90s). At most V(24h).
      - The task ends at most one request O(timeout) after it.
    type: raw
    default: 1800
  wait_delay:
    description:
      - How long to wait before the first poll (seconds or a duration). V(0) polls at once.
      - Must be shorter than O(wait_timeout).
    type: raw
    default: 0
  wait_sleep:
    description:
      - First interval between two polls of a resource (seconds or a duration), above 0, at most V(1h).
      - The interval doubles after every poll, up to O(wait_max_sleep); each pause is drawn between
        80% and 100% of it, so many resources do not poll in lockstep. It starts again from
        O(wait_sleep) only when the resource's followed job changes (a new job appears, or the job
        disappears or comes back); a status change of the same job does not reset it.
    type: raw
    default: 2
  wait_max_sleep:
    description:
      - Longest interval between two polls of a resource (seconds or a duration); not below O(wait_sleep),
        at most V(1h).
      - When not set, V(4), or O(wait_sleep) if that is larger.
    type: raw
  wait_not_found_timeout:
    description:
      - How long a resource may show no job to follow (seconds or a duration) before the wait fails.
        V(0) fails at the first poll that finds none. At most V(24h).
    type: raw
    default: 60
  wait_max_rps:
    description:
      - Most API requests per second for the whole task, shared by every resource, above 0 and at most
        V(1000). After an HTTP 429 every resource pauses for its C(Retry-After) (at most 120 s; the gateway's
        quota is per user), the rate resumes at what the quota allowed, then rises again slowly.
      - A number, or its text.
    type: raw
    default: 10
  wait_instance:
    description:
      - With O(wait=true), once every resource's job has reached a target state, wait for its audit instance too,
        until the instance is in O(instance_target_states) with no task in progress, failing fast on
        O(instance_failure_states), within the same O(wait_timeout).
      - Each round lists the project's instances once (C(GET /v2/{project_id}/audit/instances), every page) for
        all resources, instead of one request per resource.
      - Needs the IAM permission C(dbss:auditInstance:list); without it the wait fails saying so.
      - The role C(hwcloud.dbss.dbss_audit_job_wait) turns it on by default.
    type: bool
    default: false
  instance_target_states:
    description:
      - Instance states that make it ready (with no task in progress, C(task) V(NO_TASK) or none).
    type: list
    elements: str
    choices: [BUILD, ACTIVE, SHUTOFF, HAWAIT, UPGRADING, FROZEN, ERROR, DELETING, DELETED]
    default: [ACTIVE]
  instance_pending_states:
    description:
      - Instance states to keep waiting in. Any state with a C(powering-on) or C(rebooting) task is pending
        too; V(SHUTOFF) with no task is in no list by default, so a stopped instance fails at once.
    type: list
    elements: str
    choices: [BUILD, ACTIVE, SHUTOFF, HAWAIT, UPGRADING, FROZEN, ERROR, DELETING, DELETED]
    default: [BUILD, HAWAIT, UPGRADING]
  instance_failure_states:
    description:
      - Instance states that fail the wait at once. The defaults are the states an instance does not leave by
        itself (V(ERROR) only allows deletion, V(FROZEN) waits for a renewal); a C(delete_wait) task fails it too.
    type: list
    elements: str
    choices: [BUILD, ACTIVE, SHUTOFF, HAWAIT, UPGRADING, FROZEN, ERROR, DELETING, DELETED]
    default: [ERROR, FROZEN, DELETING, DELETED]
"""
