# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""DbssModule: AnsibleModule with the shared DBSS options, on top of everything
(the only file that knows AnsibleModule). Its result is built by
``dbss_options.task_result``, exactly as the action plugin's on the controller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_client import HAS_REQUESTS, REQUESTS_IMPORT_ERROR
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_options import (
    argument_spec,
    secret_values,
    task_result,
    url_passwords,
)
from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_secrets import SecretMasker


class DbssModule:
    """AnsibleModule plus the shared DBSS options and result reporting."""

    def __init__(self, module_spec, **kwargs):
        self.module = AnsibleModule(argument_spec=argument_spec(module_spec), **kwargs)
        self.module.no_log_values.update(url_passwords(self.module.params))
        if not HAS_REQUESTS:
            self.module.fail_json(msg=missing_required_lib("requests"), exception=str(REQUESTS_IMPORT_ERROR))
        self.masker = SecretMasker(secret_values(self.module.params, self.module.no_log_values))

    @property
    def params(self):
        return self.module.params

    def run(self, operation):
        """Exit with the result of ``operation(params, masker)``."""
        result = task_result(lambda params: operation(params, self.masker), self.module.params, self.masker)
        # AnsibleModule reports warnings it was told about; passing them to
        # exit_json is deprecated.
        for warning in result.pop("warnings", []):
            self.module.warn(warning)
        if result.pop("failed", False):
            self.module.fail_json(**result)
        self.module.exit_json(**result)
