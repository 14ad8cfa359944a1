# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Nothing imports upward: the layers of README.md's layout section, top to bottom."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
UTILS = os.path.join(ROOT, "plugins", "module_utils")
LAYERS = ("module", "instances_info", "jobs_info", "options", "waiter", "instance_wait", "client", "transport", "auth",
          "signer", "ratelimit", "policy", "jobs", "instances", "settings", "errors", "secrets")
IMPORT = re.compile(r"module_utils\.dbss_(\w+) import|module_utils import dbss_(\w+)")


def imports(path):
    with open(path) as handle:
        return set(a or b for a, b in IMPORT.findall(handle.read()))


def test_every_module_utils_file_has_a_layer():
    present = set(name[5:-3] for name in os.listdir(UTILS) if name.startswith("dbss_") and name.endswith(".py"))
    assert present == set(LAYERS)


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_layers_below_it(layer):
    below = set(LAYERS[LAYERS.index(layer) + 1:])
    assert imports(os.path.join(UTILS, "dbss_%s.py" % layer)) <= below


def test_only_the_wrapper_knows_ansible_module_and_the_eda_source_never_imports_it():
    for layer in LAYERS[1:]:
        with open(os.path.join(UTILS, "dbss_%s.py" % layer)) as handle:
            assert not re.search(r"import .*AnsibleModule|basic import", handle.read()), layer
    source = os.path.join(ROOT, "extensions", "eda", "plugins", "event_source", "dbss_audit_jobs.py")
    assert "module" not in imports(source) and "jobs_info" not in imports(source)
