# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What dbss_audit_instances_info does: validate, list every page of the
project's audit instances once, filter, and shape one result. The options,
auth, errors, secrecy and bounds are the jobs module's (dbss_options, the same
client); the JMESPath query is dbss_jobs_info's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hwcloud.dbss.plugins.module_utils import dbss_settings as settings
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_instances import INSTANCE_STATES
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_jobs_info import (
    client_warnings,
    compile_query,
    instances_or_hint,
    run_query,
    where_asked,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_options import build_client

INSTANCES_INFO_ARGUMENT_SPEC = dict(
    resource_ids=dict(type="list", elements="str"),
    instance_ids=dict(type="list", elements="str"),
    names=dict(type="list", elements="str"),
    status=dict(type="list", elements="str", choices=list(INSTANCE_STATES)),
    query=dict(type="str"),
)

INSTANCES_INFO_MODULE_KWARGS = dict(supports_check_mode=True)


def instances_info_task(params, masker):
    """The module's result: the kept instances, the API's total, the query's value."""
    filters = [(key, settings.validate_names(params.get(option), option))
               for key, option in (("resource_id", "resource_ids"), ("id", "instance_ids"), ("name", "names"))]
    status = params.get("status") or []
    query = compile_query(params.get("query"))
    client = build_client(params, masker)
    try:
        instances = instances_or_hint(client)
    finally:
        client.close()
    kept = [bean for bean in instances
            if all(not values or bean.get(key) in values for key, values in filters)
            and (not status or bean.get("status") in status)]
    result = {"instances": kept, "total": len(instances)}
    if query is not None:
        result["query_result"] = run_query(query, kept)
    warnings = client_warnings(client)
    if not kept and any(values for _key, values in filters):
        given = "resource_ids, instance_ids, names"
        warnings.append("no audit instance matched; %s" % where_asked(client, params, given))
    if warnings:
        result["warnings"] = warnings
    return result
