"""Typed button data: every kind the bot draws fits every channel's limit, decodes back to what was packed and
to no other kind; forged, stale or random data decode to "not ours" (None), never to an exception."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.app  # noqa: F401 - imports every module that declares button kinds
import bot.desk.texts  # noqa: F401
from bot.flows.buttons import LIMITS, Choice, Int, Kind, Token, all_kinds

KINDS = sorted(all_kinds(), key=lambda k: k.prefix)


def test_the_bot_declares_its_buttons_as_kinds() -> None:
    prefixes = {k.prefix for k in KINDS}
    # a sample of what the flows, the notices and the operator chat draw
    assert {"ma:o", "ma:s", "bd:c", "bd:b", "bd:yc", "mt:y", "rp:s", "ba", "ba:w:tie", "op", "op:t", "bc:stop",
            "t:o", "m", "lang"} <= prefixes


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.prefix)
def test_the_widest_data_of_every_kind_fits_every_channel_and_decodes_to_it_alone(kind: Kind) -> None:
    data = kind.widest()
    for channel, limit in LIMITS.items():
        assert len(data.encode()) <= limit, channel
    values = tuple(f.widest() for f in kind.fields)
    assert kind.unpack(data) == values
    assert kind.pack(*values) == data
    others = [k.prefix for k in KINDS if k is not kind and k.unpack(data) is not None]
    assert others == []


def test_packing_past_the_telegram_limit_is_refused() -> None:
    wide = Kind("zz-wide", Token(80), register=False)
    with pytest.raises(ValueError, match="telegram takes 64"):
        wide.pack("a" * 70)
    with pytest.raises(ValueError):
        Kind("ma:o", Int())  # a prefix is declared once
    with pytest.raises(ValueError):
        Kind("zz-x", Int(), register=False).pack(-1)
    with pytest.raises(ValueError):
        Kind("zz-y", Choice(("a",)), register=False).pack("b")


FORGED = ["", ":", "ma:o", "ma:o:", "ma:o:-1", "ma:o:+1", "ma:o: 1", "ma:o:1 ", "ma:o:²", "ma:o:٣", "ma:o:1.0",
          "ma:o:007",
          "ma:o:2147483648", "ma:o:" + "9" * 40, "ma:o:1:2", "ma:s:1:6", "ma:s:1:0", "ma:s:1", "ma:s:x:5",
          "bd:b:1", "bd:b:1:2:3", "bd:c:1\x00", "bd:l:1", "bd:lx", "mt:y:1e3", "op:take:", "op:nope:1",
          "op:t:1:unknown", "ba:zz:1", "t:o:11 4", "t:o:" + "1" * 20, "lang:en", "m:" + "x" * 40, "bc:stop:abc",
          "\ud800", "ма:o:1", None, 12, b"ma:o:1"]


@pytest.mark.parametrize("data", FORGED, ids=repr)
def test_forged_and_stale_data_are_not_ours(data: object) -> None:
    for kind in KINDS:
        values = kind.unpack(data)
        # only a kind the data honestly are may take them, and then they pack back to the same bytes
        assert values is None or kind.pack(*values) == data


ALPHABET = st.sampled_from(list("0123456789:abcdeklmnoprstvwxyz_-.") + ["²", "٣", " ", "\x00", "ё", "\n"])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=80), st.text(ALPHABET, max_size=40),
                 st.builds(lambda k, rest: k.prefix + rest, st.sampled_from(KINDS), st.text(ALPHABET, max_size=30))))
def test_random_data_never_raise_and_decode_only_to_what_packs_back(data: str) -> None:
    for kind in KINDS:
        values = kind.unpack(data)
        assert values is None or kind.pack(*values) == data
