# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AuditInstanceBean model: fields, states, pages of the instance list
(``GET /v2/{project_id}/audit/instances``, Huawei SDK ``list_audit_instances_last``),
what "ready" means for an instance, and finding instances by ID or name.

Ready (the default): ``status`` ACTIVE ("running, any operation allowed") with no
task in progress (``task`` NO_TASK, or none). The default failure states are the
ones an instance does not leave by itself: ERROR ("fault, only deletion allowed"),
FROZEN ("frozen, only renewal allowed": it waits for a payment), DELETING and
DELETED; a ``delete_wait`` task fails it too. BUILD, HAWAIT (waiting for the
standby) and UPGRADING are pending, and so is any state with a powering-on or
rebooting task. SHUTOFF with no task is in no list: it fails at once as an
unexpected state, since a stopped instance does not start by itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssConfigError
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_secrets import shorten

# AuditInstanceBean's fields (huaweicloudsdkdbss.v1.model.AuditInstanceBean).
INSTANCE_FIELDS = ("id", "name", "resource_id", "status", "task", "charge_model", "comment", "config_num",
                   "connect_ip", "connect_ipv6", "cpu", "created", "database_limit", "effect", "expired", "keep_days",
                   "new_version", "port_id", "ram", "region", "remain_days", "resource_spec_code", "scene",
                   "security_group_id", "specification", "subnet_id", "version", "vpc_id", "zone",
                   "supported_feature")
INSTANCE_STATES = ("BUILD", "ACTIVE", "SHUTOFF", "HAWAIT", "UPGRADING", "FROZEN", "ERROR", "DELETING", "DELETED")
DEFAULT_INSTANCE_TARGET_STATES = ("ACTIVE",)
DEFAULT_INSTANCE_PENDING_STATES = ("BUILD", "HAWAIT", "UPGRADING")
DEFAULT_INSTANCE_FAILURE_STATES = ("ERROR", "FROZEN", "DELETING", "DELETED")
IDLE_TASKS = (None, "", "NO_TASK")
FAILED_TASKS = ("delete_wait",)
# An instance in any state with one of these tasks is on its way somewhere: pending.
MOVING_TASKS = ("powering-on", "rebooting")
# A page as the API's own default; the list's pages are bounded (20,000 instances).
PAGE_LIMIT = 100
MAX_PAGES = 200

READY, FAILED, PENDING, UNEXPECTED = "ready", "failed", "pending", "unexpected"


class MalformedInstances(ValueError):
    """An instance list page without the documented shape (transient, as a cut answer)."""


def instances_page(body):
    """(instances, total) of one page; each instance gets every known field
    (None when absent) and keeps what else the API sent."""
    if not isinstance(body, dict) or not isinstance(body.get("instances", []), list):
        raise MalformedInstances("the instance list answer has no 'instances' list")
    total = body.get("total")
    if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 0):
        raise MalformedInstances("the instance list answer's 'total' is not a count")
    instances = []
    for item in body.get("instances") or []:
        if not isinstance(item, dict):
            raise MalformedInstances("the instance list holds an entry that is not an object")
        bean = dict.fromkeys(INSTANCE_FIELDS)
        bean.update(item)
        instances.append(bean)
    return instances, total


def phase(bean, target_states, pending_states, failure_states):
    """READY, FAILED, PENDING or UNEXPECTED for one instance."""
    status, task = bean.get("status"), bean.get("task")
    if status in failure_states or task in FAILED_TASKS:
        return FAILED
    if status in target_states:
        return READY if task in IDLE_TASKS else PENDING
    return PENDING if status in pending_states or task in MOVING_TASKS else UNEXPECTED


def describe(bean):
    """``instance <id> (<name>) <status>[, task <task>]`` for messages; server text shortened."""
    text = "instance %s (%s) %s" % tuple(shorten(str(bean.get(key)), 100) for key in ("id", "name", "status"))
    return text if bean.get("task") in IDLE_TASKS else text + ", task %s" % shorten(str(bean.get("task")), 100)


def by_resource(instances):
    """{resource_id: instance}; of several for one resource, the first listed."""
    found = {}
    for bean in instances:
        found.setdefault(bean.get("resource_id"), bean)
    return found


def resolve_resources(instances, instance_ids=(), names=()):
    """The resource IDs of the instances given by ``instance_ids`` and ``names``
    (in that order, duplicates dropped); DbssConfigError naming the option for
    one that is unknown or, for a name, shared by several instances."""
    resource_ids = []
    for option, values, key in (("instance_ids", instance_ids, "id"), ("names", names, "name")):
        for value in values or ():
            matches = [bean for bean in instances if bean.get(key) == value]
            if not matches:
                raise DbssConfigError(option, "no audit instance has the %s %s in this project (%d listed); check "
                                              "the value, project_id or project_name, and region"
                                      % ("ID" if key == "id" else "name", value, len(instances)))
            if len(matches) > 1:
                raise DbssConfigError(option, "%d audit instances are named %s (IDs %s); give instance_ids instead"
                                      % (len(matches), value, ", ".join(str(b.get("id")) for b in matches[:10])))
            rid = matches[0].get("resource_id")
            if not isinstance(rid, str) or not rid:
                raise DbssConfigError(option, "the audit instance %s has no resource_id to follow" % value)
            if rid not in resource_ids:
                resource_ids.append(rid)
    return resource_ids
