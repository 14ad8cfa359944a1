#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dbss_audit_jobs_info
short_description: List DBSS audit instance creation jobs, and optionally wait for them
version_added: 0.1.0
description:
  - Lists the instance creation tasks (JobBean objects) of one or more Huawei Cloud Database Security
    Service (DBSS) audit instances with C(GET /v1/{project_id}/audit/{resource_id}/jobs).
  - Can filter them by job ID and status, reshape them with a JMESPath O(query), and wait until the
    followed job of every resource reaches a target state, failing fast when one fails.
  - All options are validated before any request is sent; an invalid one fails with a message that
    names it and the rule it breaks.
  - "The waiting runs on the Ansible controller when the task's connection is C(local) (as with
    C(hosts: localhost) or C(delegate_to: localhost)), so each job state change is shown live at
    C(-v); on a remote host the module runs there and the changes are returned in RV(events)."
author:
  - hwcloud.dbss maintainers (@hwcloud-dbss)
requirements:
  - jmespath (only for O(query))
extends_documentation_fragment:
  - hwcloud.dbss.dbss
  - hwcloud.dbss.dbss_wait
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs normally in check mode.
  diff_mode:
    support: none
    description: The module changes nothing, so it has no diff to show.
  async:
    support: full
    description:
      - With C(async) the module always runs as a module (also on a local connection), so a long wait can
        go on in the background while the play does other work; its state changes are then only in
        RV(events), not shown live.
options:
  resource_id:
    description:
      - ID of one audit instance, as returned in C(resource_id) by the instance list API.
      - 1 to 128 characters of V(A-Z), V(a-z), V(0-9), V(_), V(-) or V(.), without V(..) and not V(.) alone.
      - One of O(resource_id), O(resource_ids), O(instance_ids) and O(names) is required; O(resource_id) goes alone.
    type: str
  resource_ids:
    description:
      - IDs of several audit instances, queried (and waited for) concurrently. Duplicates are ignored.
      - The result then also holds RV(resources), keyed by resource ID.
    type: list
    elements: str
  instance_ids:
    description:
      - Audit instance IDs (C(id), as a Terraform output gives them) whose resources to query or wait for, besides
        O(resource_ids). Each is looked up in the instance list first; an unknown one fails before any wait.
    type: list
    elements: str
  names:
    description:
      - Audit instance names, as the console shows them, whose resources to query or wait for. An unknown name,
        or one that several instances share, fails before any wait.
    type: list
    elements: str
  job_id:
    description:
      - Keep only the job with this ID. With O(wait=true), this is the job that is followed.
      - With O(wait=true) it needs a single resource (a job belongs to one resource); without O(wait),
        several resources may be given, for example to find which one lists the job.
    type: str
  status:
    description:
      - Keep only jobs in these states.
      - Applies to the returned jobs only; with O(wait=true) the followed job is chosen without it.
    type: list
    elements: str
    choices: [INIT, READY, RUNNING, SUCCESS, FAIL, ERROR]
  query:
    description:
      - A JMESPath expression applied to the list of kept jobs (of all resources); the value is
        returned in RV(query_result). Checked before any request.
    type: str
  wait:
    description:
      - Wait until the followed job of every resource is in one of O(target_states).
      - The followed job is O(job_id) if given, else the newest job of the resource (by C(begin_time);
        a job without a usable C(begin_time) has not begun yet and counts as the newest).
      - The wait fails at the first poll that sees a job in O(failure_states), at once on a state
        in none of the three lists, on a permanent API error (400, 401 that a new login cannot cure,
        403, 404), when O(job_id) matches several jobs, when a resource shows no job for longer than
        O(wait_not_found_timeout), and at O(wait_timeout). Transient errors (timeouts, connection errors,
        HTTP 429, 500, 502, 503, 504, malformed answers) only delay it, with two exceptions. While the
        endpoint has never answered like the DBSS API (only connection failures, names that do not
        resolve or answers that are not JSON), the wait gives up after 60 seconds, naming the endpoint
        (RV(failure_kind=unreachable)). A C(Retry-After) that reaches past the deadline ends the wait at once.
      - A credential the API refuses (401 that a new login cannot cure, 403) is sent once, not once per resource.
    type: bool
    default: false
  target_states:
    description:
      - States that end the wait successfully.
    type: list
    elements: str
    choices: [INIT, READY, RUNNING, SUCCESS, FAIL, ERROR]
    default: [SUCCESS]
  pending_states:
    description:
      - States to keep waiting in. Must not overlap O(target_states) or O(failure_states).
    type: list
    elements: str
    choices: [INIT, READY, RUNNING, SUCCESS, FAIL, ERROR]
    default: [INIT, READY, RUNNING]
  failure_states:
    description:
      - States that end the wait with a failure at once.
    type: list
    elements: str
    choices: [INIT, READY, RUNNING, SUCCESS, FAIL, ERROR]
    default: [FAIL, ERROR]
notes:
  - Jobs are ranked by C(begin_time). A job without a usable one has not begun yet and ranks newest (fail
    closed, so an older finished job can never open a gate past a newer one); jobs with equal C(begin_time)
    keep the API's order.
  - An answer that lists a job of another resource is malformed for the resource asked about, and an answer
    without C(jobs) (or with C(jobs=null)) lists no job.
  - Answers are read up to 4 MiB (after decompression); a larger one is malformed. Every request has a
    deadline that covers name resolution, connecting and reading.
"""

EXAMPLES = r"""
- name: List the creation jobs of one DBSS audit instance
  hwcloud.dbss.dbss_audit_jobs_info:
    region: cn-north-4
    project_id: "{{ hw_project_id }}"
    resource_id: 2c154fdd-0d43-47b7-9cf1-5236bf6a2ca7
  register: dbss_jobs

- name: Show the newest job's state
  ansible.builtin.debug:
    msg: "{{ dbss_jobs.job.status }}"

- name: Wait up to 30 minutes until two audit instances are ready (AK/SK from HW_ACCESS_KEY / HW_SECRET_KEY)
  hwcloud.dbss.dbss_audit_jobs_info:
    region: cn-north-4
    resource_ids:
      - 2c154fdd-0d43-47b7-9cf1-5236bf6a2ca7
      - 7f2e51aa-11c4-4b71-a1b3-22f2ef0c7a30
    wait: true
    wait_timeout: 30m
  register: ready

- name: Failed jobs of several instances, reduced to their reasons with JMESPath
  hwcloud.dbss.dbss_audit_jobs_info:
    endpoint: http://127.0.0.1:8443
    resource_ids: "{{ dbss_resource_ids }}"
    status: [FAIL]
    query: "[].{id: resource_id, code: error_code, reason: fail_reason}"
  register: failed_jobs

- name: Set the connection once for every hwcloud.dbss task
  module_defaults:
    group/hwcloud.dbss.dbss:
      region: cn-north-4
      project_id: "{{ hw_project_id }}"
  block:
    - name: Newest job of an instance
      hwcloud.dbss.dbss_audit_jobs_info:
        resource_id: 2c154fdd-0d43-47b7-9cf1-5236bf6a2ca7
"""

RETURN = r"""
jobs:
  description:
    - The kept jobs, with every documented JobBean field; values exactly as the API sent them (V(null) stays V(null)).
    - With O(resource_ids), the jobs of all resources, in the order of O(resource_ids).
    - A failed wait leaves out RV(jobs), RV(resources) and RV(events) to keep the printed failure small;
      RV(job) and RV(states) say what each resource was doing.
  returned: success
  type: list
  elements: dict
  sample:
    - resource_id: 2c154fdd-0d43-47b7-9cf1-5236bf6a2ca7
      status: SUCCESS
      job_type: null
      job_id: 8abf9647852a1daa01852e517e1a1a0b
      begin_time: 1671519371000
      end_time: 1671519417000
      error_code: null
      fail_reason: null
      charge_mode: Demand
      server_name: DBSS-qct-1220
      server_id: 0aa8f621-bc19-4822-b66d-7ab9ae3c8693
      ha_id: null
      ha_name: null
  contains:
    job_id:
      description: Task ID.
      type: str
    status:
      description: Task status, one of V(INIT), V(READY), V(RUNNING), V(SUCCESS), V(FAIL), V(ERROR).
      type: str
    job_type:
      description: Task type (deprecated by the API, often V(null)).
      type: str
    server_id:
      description: ID of the audit instance's virtual machine.
      type: str
    server_name:
      description: Name of the audit instance's virtual machine.
      type: str
    resource_id:
      description: ID of the audit instance.
      type: str
    begin_time:
      description: Start time, epoch milliseconds.
      type: int
    end_time:
      description: End time, epoch milliseconds; V(null) while the job runs.
      type: int
    charge_mode:
      description: Billing mode, V(Period) or V(Demand).
      type: str
    error_code:
      description: Error code of a failed job.
      type: str
    fail_reason:
      description: Why the job failed.
      type: str
    ha_id:
      description: Protected instance ID (discarded by the API).
      type: str
    ha_name:
      description: Protected instance name (discarded by the API).
      type: str
job:
  description:
    - The newest kept job (by C(begin_time)), or V(null) when no job is kept.
    - When a wait fails on one resource's job, that job; never a job of another resource.
  returned: on success, and when a wait fails on one resource's job
  type: dict
resources:
  description: For each resource of O(resource_ids), its kept jobs and newest kept job.
  returned: when O(resource_ids) is used, on success
  type: dict
  sample:
    2c154fdd-0d43-47b7-9cf1-5236bf6a2ca7:
      jobs: []
      job: null
query_result:
  description: The value of O(query) over RV(jobs).
  returned: when O(query) is set
  type: raw
elapsed:
  description: Seconds the wait took.
  returned: when O(wait=true)
  type: float
  sample: 42.7
polls:
  description: Polls of a resource's jobs during the wait (one per resource per round).
  returned: when O(wait=true)
  type: int
  sample: 14
requests:
  description: HTTP requests sent during the wait (retries and logins included).
  returned: when O(wait=true)
  type: int
  sample: 15
states:
  description: Last state seen of each resource's followed job (V(null) if none was found).
  returned: when O(wait=true)
  type: dict
  sample:
    2c154fdd-0d43-47b7-9cf1-5236bf6a2ca7: SUCCESS
events:
  description: The state changes seen during the wait, in order, each with C(resource_id), C(job_id),
    C(previous_status), C(status) and C(elapsed) seconds.
  returned: when O(wait=true), on success
  type: list
  elements: dict
instances:
  description: With O(wait_instance=true), each resource's audit instance (AuditInstanceBean) once it is ready.
  returned: when O(wait_instance=true), on success
  type: dict
instance_states:
  description: The last state seen of each resource's audit instance (V(null) if it was not listed).
  returned: when O(wait_instance=true) and the instance wait ran
  type: dict
instance:
  description: The audit instance that ended a failed instance wait.
  returned: when the instance wait fails because of one resource
  type: dict
instance_lists:
  description: How many times the instance list was read (each read lists every page once, for all resources).
  returned: when O(wait_instance=true), on success
  type: int
failure_kind:
  description:
    - Why a wait failed, one of V(failed), V(unexpected_state), V(not_found), V(api_error), V(unreachable),
      V(timeout); for the instance (O(wait_instance=true)) V(instance_failed), V(instance_unexpected_state),
      V(instance_not_found).
  returned: on a failed wait
  type: str
resource_id:
  description: The resource whose job or API answer ended a failed wait.
  returned: when a wait fails because of one resource
  type: str
unfinished:
  description: The resources whose jobs (or instances) had not reached a target state when the wait timed out.
  returned: on a timeout
  type: list
  elements: str
errors:
  description: For each resource whose last poll of the wait failed, that failure, in one line.
  returned: on a failed wait, when a poll failed
  type: dict
option:
  description: The option whose value broke a rule, when the task failed before any request.
  returned: on an option error
  type: str
  sample: wait_timeout
status_code:
  description: HTTP status of a failed API call.
  returned: on an API failure
  type: int
  sample: 403
error_code:
  description: Error code of a failed API call, for example V(DBSS.10020021) or V(APIGW.0308).
  returned: on an API failure
  type: str
error_msg:
  description: Error message of a failed API call.
  returned: on an API failure
  type: str
details:
  description: The C(error_code) and C(error_msg) of each entry of a failed API call's C(details) list
    (the API's PDP authentication information), if the answer had one.
  returned: on an API failure
  type: list
  elements: dict
encoded_authorization_message:
  description: The C(encoded_authorization_message) of a failed API call (PDP authentication information),
    when the answer had one.
  returned: on an API failure
  type: str
request_id:
  description: C(X-Request-Id) of a failed API call; quote it to Huawei Cloud support.
  returned: on an API failure
  type: str
"""

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_module import DbssModule
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs_info import (
    JOBS_INFO_ARGUMENT_SPEC,
    JOBS_INFO_MODULE_KWARGS,
    jobs_info_task,
)


def main():
    module = DbssModule(JOBS_INFO_ARGUMENT_SPEC, **JOBS_INFO_MODULE_KWARGS)
    module.run(jobs_info_task)


if __name__ == "__main__":
    main()
