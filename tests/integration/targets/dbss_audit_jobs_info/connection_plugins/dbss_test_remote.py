# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A test-only connection: the ``local`` connection under another transport name.

The action plugin of ``hwcloud.dbss.dbss_audit_jobs_info`` runs the operation
itself only when ``self._connection.transport == "local"``; on any other
connection it ships the module to the host and runs it there. This plugin
executes everything on the controller exactly like ``local`` (so no SSH server
or container is needed) while reporting ``transport = "dbss_test_remote"``, so a
task that sets ``ansible_connection: dbss_test_remote`` takes the module route
(AnsiballZ payload, interpreter, pipelining) as it would on a remote host.

How ansible-core finds it: an ansible-test role target is loaded as a legacy
role (``roles: [<target>]`` in the playbook ansible-test writes), and loading a
legacy role adds every ``<type>_plugins`` directory beside its ``tasks/`` to the
plugin search path (``add_all_plugin_dirs(role_path)`` in
``ansible/playbook/role/__init__.py``). The short name ``dbss_test_remote``
then resolves through ``ansible.legacy``. It lives in the integration target,
not in the collection's ``plugins/``, so it never ships to users.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
    name: dbss_test_remote
    short_description: run on the controller under a transport name that is not C(local) (tests only)
    description:
        - Runs every command and file transfer on the controller, like the C(local) connection,
          but reports the transport C(dbss_test_remote). Action plugins that do their work on the
          controller only for C(local) connections then run their module as on a remote host.
        - Kept in the hwcloud.dbss integration tests; not part of the collection.
    author: hwcloud.dbss contributors
    options:
        command_log:
            type: path
            description:
                - Append every command this connection runs, one line each, to this file, so a test
                  can prove its task really went through this connection.
            vars:
                - name: dbss_test_remote_command_log
        become_success_timeout:
            type: int
            default: 10
            description:
                - Number of seconds to wait for become to succeed when enabled (as for C(local)).
            vars:
                - name: ansible_local_become_success_timeout
        become_strip_preamble:
            type: bool
            default: true
            description:
                - Strip internal become output preceding command execution (as for C(local)).
            vars:
                - name: ansible_local_become_strip_preamble
    extends_documentation_fragment:
        - connection_pipelining
"""

from ansible.plugins.connection.local import Connection as LocalConnection


class Connection(LocalConnection):
    """``local`` in all but its name (and an optional log of the commands it runs)."""

    transport = "dbss_test_remote"

    def exec_command(self, cmd, in_data=None, sudoable=True):
        log = self.get_option("command_log")
        if log:
            # Module arguments travel inside the AnsiballZ payload, never on the command line.
            with open(log, "a", encoding="utf-8") as handle:
                handle.write("%s\n" % " ".join(str(cmd).splitlines()))
        return super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
