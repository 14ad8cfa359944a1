# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test creates its managed virtual environments without pip and then runs
``python get_pip_<version>.py [pip options] pip==X setuptools==Y ...`` from
``~/.ansible/test/cache``.  The real script comes from a host that these machines
cannot reach.  This stand-in gets the same result from a package index: it puts
the interpreter's bundled pip in place with ``ensurepip`` and then lets that pip
install the requested packages (the pinned pip among them).

Marker used by tools/install_get_pip.sh to recognise its own files:
HWCLOUD-DBSS-GET-PIP-STANDIN
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess
import sys

# get-pip understands these, ``pip install`` does not.
GET_PIP_ONLY_OPTIONS = ('--no-setuptools', '--no-wheel')


def have_module(name):
    """Tell whether the running interpreter can import the named module in a child process."""
    return subprocess.call([sys.executable, '-c', 'import ' + name],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0


def run(command):
    """Run a command, exit with its code when it fails."""
    code = subprocess.call(command)
    if code != 0:
        sys.stderr.write('get-pip stand-in: command failed with exit code %d: %s\n' % (code, ' '.join(command)))
        sys.exit(code)


def main(argv):
    """Bootstrap pip with ensurepip, then install what get-pip was asked to install."""
    args = [arg for arg in argv if arg not in GET_PIP_ONLY_OPTIONS]
    no_setuptools = '--no-setuptools' in argv
    wanted_setuptools = any(arg.lower().startswith('setuptools') for arg in args)

    had_setuptools = have_module('setuptools')

    if not have_module('pip'):
        if not have_module('ensurepip'):
            sys.stderr.write('get-pip stand-in: %s has no ensurepip module; install the python3-venv '
                             'package or use an interpreter that ships ensurepip\n' % sys.executable)
            sys.exit(1)
        run([sys.executable, '-m', 'ensurepip', '--default-pip'])

    run([sys.executable, '-m', 'pip', 'install'] + args)

    # Older ensurepip also installs setuptools; the real get-pip leaves it out when told so.
    if no_setuptools and not had_setuptools and not wanted_setuptools and have_module('setuptools'):
        run([sys.executable, '-m', 'pip', 'uninstall', '--yes', '--quiet', '--disable-pip-version-check', 'setuptools'])


if __name__ == '__main__':
    main(sys.argv[1:])
