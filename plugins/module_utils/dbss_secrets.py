# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Keep secrets out of everything a server can make us print.

A server may quote a credential in any text it sends (an ``error_msg``, a
JobBean key). ``SecretMasker`` replaces it, in each form and in part:

* the forms: as given, JSON-escaped (ASCII or not), URL-encoded (``%20`` or
  ``+`` for spaces, ``/`` kept or not), HTML-escaped, lower or upper case,
  hex, base64 (standard or URL-safe); a number equal to one;
* in part: any run of ``FRAGMENT`` (12) or more characters of one of those
  forms (a server that cut the token it echoed still echoes part of it).

Mask first, shorten after, so a cut never leaves part of a secret unmasked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import html
import json
import re

from urllib.parse import quote, quote_plus

MASK = "********"
# The shortest run of a secret masked on its own: a password holds ordinary
# words ("password"), and masking those would hide the message instead.
FRAGMENT = 12
HALF = FRAGMENT // 2
_RUNS = re.compile(b"\x01+|[^\x01]+")


def _forms(secret):
    raw = secret.encode("utf-8")
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
             quote(secret, safe=""), quote(secret), quote_plus(secret), html.escape(secret)}
    if len(secret) >= 8:  # a shorter one changed in case would match ordinary words
        forms.update((secret.lower(), secret.upper(), raw.hex(), raw.hex().upper(),
                      base64.b64encode(raw).decode().rstrip("="), base64.urlsafe_b64encode(raw).decode().rstrip("=")))
    return set(form for form in forms if form)


class SecretMasker:
    """Masks the given secret values in text and in nested data (keys too)."""

    def __init__(self, secrets=()):
        forms = set()
        for secret in secrets:
            if isinstance(secret, str) and secret:
                forms.update(_forms(secret))
        # Longest first, so a form that contains another is masked as a whole.
        self._whole = sorted(forms, key=len, reverse=True)
        long_forms = [form for form in forms if len(form) > FRAGMENT]
        self._grams = frozenset(form[i:i + FRAGMENT] for form in long_forms for i in range(len(form) - FRAGMENT + 1))
        # Any run of FRAGMENT holds an aligned block of HALF: look there first.
        self._halves = frozenset(form[i:i + HALF] for form in long_forms for i in range(len(form) - HALF + 1))

    def __bool__(self):
        return bool(self._whole)

    def text(self, value):
        """``value`` with every secret (whole, in any form, or in part) replaced by MASK."""
        if not self._whole or not isinstance(value, str) or not value:
            return value
        hidden = bytearray(len(value))
        for form in self._whole:
            start = value.find(form)
            while start != -1:
                hidden[start:start + len(form)] = b"\x01" * len(form)
                start = value.find(form, start + 1)
        for block in range(0, len(value) - HALF + 1, HALF) if self._grams else ():
            if value[block:block + HALF] in self._halves:
                for start in range(max(0, block - HALF), min(block, len(value) - FRAGMENT) + 1):
                    if value[start:start + FRAGMENT] in self._grams:
                        hidden[start:start + FRAGMENT] = b"\x01" * FRAGMENT
        # Each run of hidden characters becomes one MASK.
        return "".join(MASK if hidden[run.start()] else value[run.start():run.end()] for run in _RUNS.finditer(hidden))

    def data(self, value):
        """A copy of ``value`` with every string (dict keys too) and number masked."""
        if not self._whole:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return dict((self.data(k), self.data(v)) for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return type(value)(self.data(item) for item in value)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and self.text(str(value)) != str(value):
            return MASK  # a numeric password echoed as a JSON number
        return value


NO_SECRETS = SecretMasker()


def shorten(text, limit):
    """``text`` on one line, cut to ``limit`` characters with ``...`` (mask it first)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:max(0, limit - 3)] + "..."
