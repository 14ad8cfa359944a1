#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dbss_audit_instances_info
short_description: List DBSS audit instances
version_added: 0.2.0
description:
  - Lists the audit instances (AuditInstanceBean objects) of a Huawei Cloud Database Security Service (DBSS)
    project with C(GET /v2/{project_id}/audit/instances), every page of it (Huawei SDK C(list_audit_instances_last)).
  - Filters them by O(resource_ids), O(instance_ids), O(names) and O(status), and reshapes them with a
    JMESPath O(query).
  - The connection, authentication, error reporting, secrecy and bounds are those of
    M(hwcloud.dbss.dbss_audit_jobs_info); all options are checked before any request is sent.
author:
  - hwcloud.dbss maintainers (@hwcloud-dbss)
requirements:
  - jmespath (only for O(query))
extends_documentation_fragment:
  - hwcloud.dbss.dbss
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs normally in check mode.
  diff_mode:
    support: none
    description: The module changes nothing, so it has no diff to show.
options:
  resource_ids:
    description: Keep only the instances with these resource IDs (C(resource_id), what the jobs API takes).
    type: list
    elements: str
  instance_ids:
    description: Keep only the instances with these instance IDs (C(id), what most other DBSS APIs take).
    type: list
    elements: str
  names:
    description: Keep only the instances with these names, as the console shows them.
    type: list
    elements: str
  status:
    description:
      - Keep only the instances in these states.
      - V(BUILD) (being created), V(ACTIVE) (running), V(SHUTOFF) (stopped), V(HAWAIT) (waiting for its standby),
        V(UPGRADING), V(FROZEN) (frozen, only renewal allowed), V(ERROR) (faulty, only deletion allowed),
        V(DELETING), V(DELETED).
    type: list
    elements: str
    choices: [BUILD, ACTIVE, SHUTOFF, HAWAIT, UPGRADING, FROZEN, ERROR, DELETING, DELETED]
  query:
    description: A JMESPath expression applied to the list of kept instances; its value is in RV(query_result).
    type: str
notes:
  - The whole list is read in pages of 100 (at most 200 pages); the filters apply to it on this side, since the
    API has none.
"""

EXAMPLES = r"""
- name: Find the audit instance created by Terraform, by name
  hwcloud.dbss.dbss_audit_instances_info:
    region: cn-north-4
    names: [dbss-prod-audit]
  register: dbss_instances

- name: Use its instance ID in the next task
  ansible.builtin.debug:
    msg: "{{ dbss_instances.instances[0].id }} is {{ dbss_instances.instances[0].status }}"

- name: Instances that are not running
  hwcloud.dbss.dbss_audit_instances_info:
    region: cn-north-4
    query: "[?status != 'ACTIVE'].{name: name, status: status, task: task}"
  register: dbss_not_running
"""

RETURN = r"""
instances:
  description: The kept instances, each an AuditInstanceBean with every documented field (V(null) when absent).
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Instance ID.
      type: str
    name:
      description: Instance name.
      type: str
    resource_id:
      description: Resource ID, the one the jobs API and M(hwcloud.dbss.dbss_audit_jobs_info) take.
      type: str
    status:
      description: Instance state, one of the O(status) choices.
      type: str
    task:
      description: Task in progress, V(powering-on), V(powering-off), V(rebooting), V(delete_wait) or V(NO_TASK).
      type: str
total:
  description: How many instances the project has, before the filters.
  returned: success
  type: int
query_result:
  description: The value of O(query) over RV(instances).
  returned: when O(query) is set
  type: raw
"""

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_module import DbssModule
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_instances_info import (
    INSTANCES_INFO_ARGUMENT_SPEC,
    INSTANCES_INFO_MODULE_KWARGS,
    instances_info_task,
)


def main():
    module = DbssModule(INSTANCES_INFO_ARGUMENT_SPEC, **INSTANCES_INFO_MODULE_KWARGS)
    module.run(instances_info_task)


if __name__ == "__main__":
    main()
