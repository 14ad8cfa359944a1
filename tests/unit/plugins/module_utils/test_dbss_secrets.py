# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""SecretMasker: no secret, whole or in part, in any form a server can echo."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html
import json
import random
import string

from urllib.parse import quote, quote_plus

import pytest

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_secrets import FRAGMENT, MASK, SecretMasker, shorten

ALPHABET = string.ascii_letters + string.digits + "+/=-_\"\\ &<>%é"


def make_secret(length, seed=7):
    rng = random.Random(seed + length)
    return "".join(rng.choice(ALPHABET) for dummy in range(length))


def runs(secret):
    """Every run of FRAGMENT characters of the secret (or the secret when shorter)."""
    if len(secret) <= FRAGMENT:
        return {secret}
    return set(secret[i:i + FRAGMENT] for i in range(len(secret) - FRAGMENT + 1))


def leaks(text, secret):
    return [run for run in runs(secret) if run in text]


def forms(secret):
    return [secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret), html.escape(secret)]


@pytest.mark.parametrize("length", [8, 9, 31, 40, 1204, 16000])
def test_every_form_whole_and_in_part(length):
    secret = make_secret(length)
    masker = SecretMasker([secret])
    for form in forms(secret):
        for piece in (form, form[:len(form) // 2], form[len(form) // 3:]):
            if len(piece) < FRAGMENT or (len(secret) == FRAGMENT and piece != form):
                continue
            masked = masker.text("token %s refused" % piece)
            assert MASK in masked
            assert not leaks(masked, secret) and piece not in masked


def test_masking_before_shortening_leaves_nothing_of_a_long_token():
    secret = make_secret(1204)
    masker = SecretMasker([secret])
    text = shorten(masker.text("The token %s must be updated" % secret), 500)
    assert not leaks(text, secret) and text == "The token %s must be updated" % MASK


def test_keys_and_nested_values_are_masked():
    secret = make_secret(64)
    masker = SecretMasker([secret])
    data = {secret: [{"fail_reason": "bad " + secret[:20]}], "n": 3, "t": (secret,)}
    out = masker.data(data)
    assert not leaks(json.dumps(out), secret)
    assert out[MASK][0]["fail_reason"] == "bad " + MASK and out["n"] == 3 and out["t"] == (MASK,)


def test_ordinary_text_is_left_alone():
    masker = SecretMasker([make_secret(40), "pw"])
    assert masker.text("job 8abf9647 of resource r-1 failed") == "job 8abf9647 of resource r-1 failed"
    assert SecretMasker([]).text("pw") == "pw" and not SecretMasker(["", None])


def test_short_secret_masked_whole_only():
    masker = SecretMasker(["hunter2"])
    assert masker.text("pw=hunter2;") == "pw=%s;" % MASK
    assert masker.text("hunter") == "hunter"


def test_shorten_cuts_and_joins_lines():
    assert shorten("a\n b   c", 100) == "a b c"
    assert shorten("x" * 50, 10) == "x" * 7 + "..."


def test_a_word_a_password_shares_with_the_message_stays_readable():
    masker = SecretMasker(["not-the-password-0003"])
    assert masker.text("IAM password login failed: the username or password is wrong") == \
        "IAM password login failed: the username or password is wrong"
    assert masker.text("echo: not-the-password-00") == "echo: %s" % MASK


@pytest.mark.parametrize("encode", [str.lower, str.upper, lambda s: s.encode().hex(),
                                    lambda s: __import__("base64").b64encode(s.encode()).decode()])
def test_case_hex_and_base64_forms_are_masked(encode):
    secret = make_secret(40).replace("é", "e")
    masked = SecretMasker([secret]).text("echo %s end" % encode(secret))
    assert masked.rstrip("= end").endswith(MASK) and masked.startswith("echo " + MASK)


def test_a_numeric_secret_echoed_as_a_number_is_masked():
    assert SecretMasker(["9876543210123"]).data({"fail_reason": 9876543210123, "n": 5}) == \
        {"fail_reason": MASK, "n": 5}
