# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""docs/awx/: the AWX / Automation Controller credential type hands the collection
exactly the environment variables it reads, from inputs that exist, with every
secret marked secret."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

import yaml

from jinja2 import StrictUndefined, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_options import COMMON_ARGUMENT_SPEC, ENV_NAMES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWX = os.path.join(ROOT, "docs", "awx")
REQUIRED_INPUTS = ("access_key", "secret_key", "region")
# AWX renders injectors in a sandboxed Jinja environment.
JINJA = ImmutableSandboxedEnvironment(undefined=StrictUndefined)


def load(name):
    with open(os.path.join(AWX, name)) as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def inputs():
    return load("credential_type_inputs.yml")


@pytest.fixture(scope="module")
def injectors():
    return load("credential_type_injectors.yml")


def fields_by_id(inputs):
    return dict((field["id"], field) for field in inputs["fields"])


def option_of(variable):
    """The collection option that reads ``variable``, or None."""
    for option, names in ENV_NAMES.items():
        if variable in names:
            return option
    return None


def referenced(template):
    return meta.find_undeclared_variables(JINJA.parse(template))


def test_only_environment_variables_are_injected(injectors):
    assert set(injectors) == {"env"}, "inject through environment variables only (no extra_vars, no files)"
    assert injectors["env"]


def test_every_injected_variable_is_one_the_collection_reads(injectors):
    unknown = sorted(name for name in injectors["env"] if option_of(name) is None)
    assert not unknown, "the collection reads none of %s (see ENV_NAMES in dbss_options.py)" % unknown


def test_each_variable_is_the_options_first_name(injectors):
    """HW_* first: an OS_* variable left on the runner cannot win over the credential."""
    for name in injectors["env"]:
        assert ENV_NAMES[option_of(name)][0] == name, name


def test_every_injected_value_refers_to_an_existing_input(inputs, injectors):
    ids = set(fields_by_id(inputs))
    for name, template in injectors["env"].items():
        used = referenced(template)
        assert used, "%s injects no input" % name
        assert used <= ids, "%s refers to %s, which is not an input id" % (name, sorted(used - ids))


def test_every_input_is_injected(inputs, injectors):
    used = set()
    for template in injectors["env"].values():
        used |= referenced(template)
    assert set(fields_by_id(inputs)) <= used, sorted(set(fields_by_id(inputs)) - used)


def test_inputs_are_well_formed(inputs):
    ids = [field["id"] for field in inputs["fields"]]
    assert len(ids) == len(set(ids)), ids
    for field in inputs["fields"]:
        assert field.get("type") == "string", field
        assert field.get("label"), field
    assert set(inputs.get("required", [])) <= set(ids)


def test_access_key_secret_key_and_region_exist_and_are_required(inputs):
    fields = fields_by_id(inputs)
    for name in REQUIRED_INPUTS:
        assert name in fields, name
        assert name in inputs["required"], name


def test_secret_inputs_are_marked_secret(inputs, injectors):
    """An input that feeds a no_log option (secret_key, security_token, ...) is secret: true."""
    fields = fields_by_id(inputs)
    secrets = set()
    for name, template in injectors["env"].items():
        if COMMON_ARGUMENT_SPEC[option_of(name)].get("no_log"):
            secrets |= referenced(template)
    assert {"secret_key", "security_token"} <= secrets
    for name in secrets:
        assert fields[name].get("secret") is True, "%s must be secret: true" % name
    for name, field in fields.items():
        if name not in secrets:
            assert not field.get("secret"), "%s is not a secret" % name


def test_optional_inputs_left_empty_render_as_empty_strings(inputs, injectors):
    """AWX may leave an optional input out; the collection takes an empty variable as unset."""
    given = {"access_key": "AK", "secret_key": "SK", "region": "cn-north-4"}
    rendered = dict((name, JINJA.from_string(template).render(**given))
                    for name, template in injectors["env"].items())
    assert rendered["HW_ACCESS_KEY"] == "AK"
    assert rendered["HW_SECRET_KEY"] == "SK"
    assert rendered["HW_REGION_NAME"] == "cn-north-4"
    optional = set(fields_by_id(inputs)) - set(inputs["required"])
    for name, template in injectors["env"].items():
        if referenced(template) <= optional:
            assert rendered[name] == "", name


def test_docs_awx_md_shows_both_documents(inputs, injectors):
    """docs/awx.md quotes the two files; what it shows is what they hold."""
    with open(os.path.join(ROOT, "docs", "awx.md")) as handle:
        text = handle.read()
    shown = [yaml.safe_load(part.split("```", 1)[0]) for part in text.split("```yaml\n")[1:]]
    assert inputs in shown, "docs/awx.md does not show docs/awx/credential_type_inputs.yml as it is"
    assert injectors in shown, "docs/awx.md does not show docs/awx/credential_type_injectors.yml as it is"
