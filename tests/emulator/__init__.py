# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local emulator of the DBSS audit-job API and of the IAM token API.

Standard library only.  Start it with
``PYTHONPATH=tests python -m emulator --host 127.0.0.1 --port 0``;
see docs/emulator.md for every flag, endpoint and the control API.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

__version__ = "1.0.0"
