# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The filter hwcloud.dbss.unknown_names (documented in unknown_names.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import os

from ansible.errors import AnsibleFilterError


def unknown_names(names, known):
    """For each of ``names`` not in ``known``, one line naming it and, when one
    is close enough to be the likely intent, the closest known name."""
    if not isinstance(names, (list, tuple)) or not isinstance(known, (list, tuple)):
        raise AnsibleFilterError("unknown_names expects two lists of names")
    known = [str(name) for name in known]
    # Compared without the prefix all known names share (a role's): it would make
    # every name look close to every other.
    prefix = os.path.commonprefix(known) if len(known) > 1 else ""
    tails = dict((name[len(prefix):], name) for name in known)
    lines = []
    for name in sorted(set(str(name) for name in names) - set(known)):
        tail = name[len(prefix):] if name.startswith(prefix) else name
        close = _closest(tail, list(tails))
        lines.append("%s is not a variable of this role%s" % (
            name, "; did you mean %s?" % tails[close] if close else ""))
    return lines


def _closest(tail, tails):
    """A nearly identical spelling (``requst_timeout``); else a known name the typed
    one adds a word to, or drops a letter from (``wait_timeout`` for ``timeout``,
    ``resource_id`` for ``resource_ids``), the longest first; else the closest
    spelling, if close enough."""
    typo = difflib.get_close_matches(tail, tails, n=1, cutoff=0.9)
    if typo:
        return typo[0]
    nested = [known for known in tails
              if len(known) >= 4 and (tail.endswith("_" + known) or known.startswith(tail) or tail.startswith(known))]
    if nested:
        return max(nested, key=len)
    close = difflib.get_close_matches(tail, tails, n=1, cutoff=0.75)
    return close[0] if close else None


class FilterModule(object):
    def filters(self):
        return {"unknown_names": unknown_names}
