# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The option rules: every refusal names the option, before any request."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils import dbss_settings as settings
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssConfigError


def wait_params(**extra):
    base = dict(wait_timeout=60, wait_delay=0, wait_sleep=1, wait_max_sleep=None, wait_not_found_timeout=10,
                wait_max_rps=10.0, target_states=["SUCCESS"], pending_states=["INIT", "READY", "RUNNING"],
                failure_states=["FAIL"])
    base.update(extra)
    return base


def refused(function, *args):
    with pytest.raises(DbssConfigError) as caught:
        function(*args)
    return caught.value


@pytest.mark.parametrize("override,option", [
    (dict(wait_timeout="999999999h"), "wait_timeout"),
    (dict(wait_timeout=10 ** 400), "wait_timeout"),
    (dict(wait_timeout="25h"), "wait_timeout"),
    (dict(wait_timeout=0), "wait_timeout"),
    (dict(wait_delay="60s"), "wait_delay"),
    (dict(wait_delay=-1), "wait_delay"),
    (dict(wait_sleep="2h"), "wait_sleep"),
    (dict(wait_sleep=0), "wait_sleep"),
    (dict(wait_sleep=10, wait_max_sleep=5), "wait_sleep"),
    (dict(wait_max_sleep="1h1s"), "wait_max_sleep"),
    (dict(wait_not_found_timeout="2d"), "wait_not_found_timeout"),
    (dict(wait_not_found_timeout="86401"), "wait_not_found_timeout"),
    (dict(target_states=[]), "target_states"),
    (dict(target_states=["SUCCESS"], pending_states=["SUCCESS"]), "pending_states"),
    (dict(failure_states=["SUCCESS"]), "failure_states"),
    (dict(failure_states=["RUNNING"]), "failure_states"),
    (dict(progress_interval=0), "progress_interval"),
    (dict(progress_interval="2h"), "progress_interval"),
    (dict(progress_interval="1ms"), "progress_interval"),
])
def test_wait_rules_name_the_option(override, option):
    error = refused(settings.validate_wait, wait_params(**override))
    assert error.option == option and str(error).startswith(option + ":")


def test_wait_values_and_the_default_cap():
    wait = settings.validate_wait(wait_params(wait_timeout="20m", wait_sleep=10))
    assert wait["timeout"] == 1200.0 and wait["max_sleep"] == 10.0
    assert settings.validate_wait(wait_params())["max_sleep"] == settings.DEFAULT_MAX_SLEEP
    assert settings.validate_wait(wait_params(wait_max_sleep="30s"))["max_sleep"] == 30.0
    assert settings.validate_wait(wait_params(wait_timeout="24h"))["timeout"] == 86400.0
    assert settings.validate_wait(wait_params())["heartbeat"] == 30.0
    assert settings.validate_wait(wait_params(progress_interval="10s"))["heartbeat"] == 10.0


@pytest.mark.parametrize("value", [".", "..", "a..b", "a/b", "%2e", "a b", "", "x" * 129, "id\n"])
def test_resource_ids_that_would_not_reach_the_wire_as_given(value):
    assert refused(settings.validate_resource_id, value).option == "resource_id"


@pytest.mark.parametrize("value", ["2c154fdd-0d43-47b7-9cf1-5236bf6a2ca7", "a.b", "res_1", ".hidden", "a."])
def test_resource_ids_accepted(value):
    assert settings.validate_resource_id(value) == value


@pytest.mark.parametrize("url", ["https://h/a/../b", "https://h/./v1", "https://h/%2e%2e/x", "https://h/%2E/x",
                                 "https://h/a/.."])
def test_dot_segments_in_an_endpoint_path_are_refused(url):
    error = refused(settings.validate_http_url, url, "endpoint")
    assert error.option == "endpoint" and "'.' or '..'" in str(error)


def test_endpoint_paths_without_dot_segments_are_kept():
    assert settings.validate_http_url("https://h/gw/dbss.v1/", "endpoint") == "https://h/gw/dbss.v1"


def test_region_is_checked_when_an_endpoint_is_set_too():
    assert refused(settings.resolve_base_url, "http://127.0.0.1:1", "cn_north_4", None).option == "region"
    assert settings.resolve_base_url("http://127.0.0.1:1", "cn-north-4", None) == "http://127.0.0.1:1"
    assert settings.resolve_base_url("http://127.0.0.1:1", None, None) == "http://127.0.0.1:1"


def test_cloud_is_checked_when_an_endpoint_is_set_too():
    assert refused(settings.resolve_base_url, "http://127.0.0.1:1", None, "localhost:1/x").option == "cloud"


@pytest.mark.parametrize("value,expected", [(30, 30.0), ("30", 30.0), (" 2.5 ", 2.5), (3600, 3600.0)])
def test_a_timeout_given_as_text_is_read(value, expected):
    assert settings.validate_timeout(value) == expected


@pytest.mark.parametrize("value,expected", [(5, 5), ("5", 5), (0, 0)])
def test_max_retries_given_as_text_is_read(value, expected):
    assert settings.validate_max_retries(value) == expected


@pytest.mark.parametrize("value", [True, 2.5, "2.5", "-1", 21, 10 ** 400, float("nan"), "x"])
def test_max_retries_refused(value):
    assert refused(settings.validate_max_retries, value).option == "max_retries"


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), 5000, 10 ** 400, True, "fast"])
def test_rates_refused(value):
    assert refused(settings.validate_rate, value, "wait_max_rps").option == "wait_max_rps"


def test_a_rate_given_as_text_is_read():
    assert settings.validate_rate("2.5", "wait_max_rps") == 2.5


# -- regions and sites ------------------------------------------------------------

@pytest.mark.parametrize("region,cloud,url", [
    ("cn-north-4", None, "https://dbss.cn-north-4.myhuaweicloud.com"),
    ("eu-west-101", None, "https://dbss.eu-west-101.myhuaweicloud.eu"),
    ("eu-west-101", "myhuaweicloud.eu", "https://dbss.eu-west-101.myhuaweicloud.eu"),
    ("eu-west-1", None, "https://dbss.eu-west-1.myhuaweicloud.eu"),  # the provider's prefix rule
    ("eu-west-0", None, "https://dbss.eu-west-0.myhuaweicloud.com"),
    ("cn-north-99", None, "https://dbss.cn-north-99.myhuaweicloud.com"),
    ("cn-north-4", "hcs.example.com", "https://dbss.cn-north-4.hcs.example.com"),
    ("region-a-1", "cloud.corp.example", "https://dbss.region-a-1.cloud.corp.example"),
])
def test_the_site_follows_the_region(region, cloud, url):
    assert settings.resolve_base_url(None, region, cloud) == url


@pytest.mark.parametrize("region,cloud", [("cn-north-4", "myhuaweicloud.eu"), ("ap-southeast-1", "myhuaweicloud.eu"),
                                          ("eu-west-101", "myhuaweicloud.com")])
def test_a_region_of_the_other_public_site_is_refused(region, cloud):
    error = refused(settings.resolve_base_url, None, region, cloud)
    assert error.option == "cloud" and region in error.rule and cloud in error.rule


@pytest.mark.parametrize("region,warned", [("cn-nort-4", "Did you mean cn-north-4?"), ("eu-west-110", "Did you mean eu-west-101?"),
                                           ("cn-north-4", None), ("xy-newplace-1", None), (None, None)])
def test_an_unknown_region_is_used_with_a_warning_when_close_to_a_known_one(region, warned):
    warning = settings.region_warning(region)
    assert warning == warned if warned is None else warned in warning and region in warning


@pytest.mark.parametrize("auth_url,region,cloud,expected", [
    ("https://iam.example.com", None, None, "https://iam.example.com/v3"),
    ("https://iam.example.com/", None, None, "https://iam.example.com/v3"),
    ("https://iam.example.com/v3/", None, None, "https://iam.example.com/v3"),
    ("http://127.0.0.1:8/gw/v3", None, None, "http://127.0.0.1:8/gw/v3"),
    ("https://iam.example.com/V3", None, None, "https://iam.example.com/v3"),
    ("https://iam.example.com/v3/auth/tokens", None, None, "https://iam.example.com/v3"),
    (None, "cn-north-4", None, "https://iam.cn-north-4.myhuaweicloud.com/v3"),
    (None, "cn-south-4", None, "https://iam.myhuaweicloud.com/v3"),
    (None, "xy-newplace-1", None, "https://iam.myhuaweicloud.com/v3"),
    (None, "eu-west-101", None, "https://iam.eu-west-101.myhuaweicloud.eu/v3"),
    (None, "region-a-1", "hcs.example.com", "https://iam.region-a-1.hcs.example.com/v3"),
    (None, None, None, None),
])
def test_the_iam_endpoint(auth_url, region, cloud, expected):
    assert settings.resolve_iam_url(auth_url, region, cloud) == expected


@pytest.mark.parametrize("name", ["cn-north-4", "cn-north-4_audit", "p.1"])
def test_project_names(name):
    assert settings.validate_project_name(name) == name


@pytest.mark.parametrize("name", ["", "a b", "a/b", "x" * 65, "cn-north-4\n", 5])
def test_bad_project_names(name):
    assert refused(settings.validate_project_name, name).option == "project_name"
