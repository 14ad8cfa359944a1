# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The unknown_names filter: typos of role variables named with their fix."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.hwcloud.dbss.plugins.filter.unknown_names import FilterModule, unknown_names

KNOWN = ["dbss_audit_job_wait_resource_ids", "dbss_audit_job_wait_timeout", "dbss_audit_job_wait_request_timeout",
         "dbss_audit_job_wait_sleep", "dbss_audit_job_wait_max_sleep", "dbss_audit_job_wait_instance"]


def test_known_names_pass():
    assert unknown_names(["dbss_audit_job_wait_timeout", "dbss_audit_job_wait_resource_ids"], KNOWN) == []


@pytest.mark.parametrize("name,suggested", [
    ("dbss_audit_job_wait_wait_timeout", "dbss_audit_job_wait_timeout"),
    ("dbss_audit_job_wait_resource_id", "dbss_audit_job_wait_resource_ids"),
    ("dbss_audit_job_wait_requst_timeout", "dbss_audit_job_wait_request_timeout"),
    ("dbss_audit_job_wait_wait_sleep", "dbss_audit_job_wait_sleep"),
    ("dbss_audit_job_wait_wait_max_sleep", "dbss_audit_job_wait_max_sleep"),
    ("dbss_audit_job_wait_instances_wait", "dbss_audit_job_wait_instance"),
])
def test_a_typo_is_named_with_the_closest_known_name(name, suggested):
    assert unknown_names([name], KNOWN) == ["%s is not a variable of this role; did you mean %s?" % (name, suggested)]


def test_a_name_close_to_none_is_named_alone_and_each_once_in_order():
    assert unknown_names(["dbss_audit_job_wait_zzz", "dbss_audit_job_wait_aaa", "dbss_audit_job_wait_zzz",
                          "dbss_audit_job_wait_insecure"], KNOWN) == [
        "dbss_audit_job_wait_aaa is not a variable of this role",
        "dbss_audit_job_wait_insecure is not a variable of this role",
        "dbss_audit_job_wait_zzz is not a variable of this role"]


@pytest.mark.parametrize("names,known", [("a", KNOWN), (["a"], "b"), (None, KNOWN)])
def test_lists_are_required(names, known):
    with pytest.raises(AnsibleFilterError):
        unknown_names(names, known)


def test_the_filter_is_registered():
    assert FilterModule().filters()["unknown_names"] is unknown_names
