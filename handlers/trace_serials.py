"""安心码 serials: unguessable, unforgeable, checkable before any database lookup.

A serial is 20 Crockford-Base32 characters (100 bits, within GS1 AI 21's 20 characters
of CSET82, and URL-safe): 1 character naming the key version, 9 characters (45 bits)
from the operating system's CSPRNG, and 10 characters (50 bits) of HMAC-SHA256, under
that version's key, over the GTIN, the lot and the first 10 characters. Guessing a
valid serial for a known GTIN and lot is a 1 in 2^50 chance per try; a tag is
compared in constant time, and a serial naming a key version we do not hold is
refused the same way.

The lot enters the HMAC uppercased: some phone scanners uppercase a whole QR URL
(QR's alphanumeric mode), and a genuine code read that way must still verify. Keys
are versioned so a leaked key can be retired: new codes take the current version,
codes printed under older versions verify while their key is kept.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping

from bot.settings import CROCKFORD

ALPHABET = CROCKFORD  # no I, L, O, U
SERIAL_CHARS = 20
RANDOM_CHARS = 9
TAG_CHARS = 10
_TAG_BITS = 5 * TAG_CHARS
_SERIAL = re.compile(f"[{ALPHABET}]{{{SERIAL_CHARS}}}")
# The two characters of every 10-bit value: values are encoded two characters a step.
_PAIRS = [high + low for high in ALPHABET for low in ALPHABET]
# What a reader may have turned a Crockford character into (Crockford's own rule).
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})


class ForgedSerial(ValueError):
    """The serial's tag does not match, its key version is unknown, or it is not a
    serial of ours at all."""


def _encode(value: int, chars: int) -> str:
    """The low 5 × `chars` bits of `value`, most significant first."""
    out = []
    for _ in range(chars // 2):
        out.append(_PAIRS[value & 1023])
        value >>= 10
    if chars % 2:
        out.append(ALPHABET[value & 31])
    return "".join(reversed(out))


def _tag(key: str, gtin: str, lot: str, head: str) -> str:
    digest = hmac.digest(key.encode(), f"{gtin}|{lot.upper()}|{head}".encode(), "sha256")
    return _encode(int.from_bytes(digest[:8], "big") >> (64 - _TAG_BITS), TAG_CHARS)


def make_serial(keys: Mapping[str, str], version: str, gtin: str, lot: str) -> str:
    """A new serial for one unit of (gtin, lot) under key `version`."""
    if len(version) != 1 or version not in ALPHABET or version not in keys:
        raise ValueError(f"no code key of version {version!r}")
    head = version + _encode(secrets.randbits(5 * RANDOM_CHARS), RANDOM_CHARS)
    return head + _tag(keys[version], gtin, lot, head)


def normalize_serial(serial: str) -> str:
    """The serial as we issue it: uppercase, with the letters a reader may confuse
    mapped back (I, L → 1; O → 0)."""
    return serial.upper().translate(_READ_AS)


def check_serial(keys: Mapping[str, str], gtin: str, lot: str, serial: str) -> str:
    """The serial in its issued form if its tag is right for (gtin, lot); raises
    ForgedSerial otherwise. Pure computation: no lookup, constant-time compare."""
    serial = normalize_serial(serial)
    if not _SERIAL.fullmatch(serial):
        raise ForgedSerial("not a serial of ours")
    key = keys.get(serial[0])
    head, tag = serial[:1 + RANDOM_CHARS], serial[1 + RANDOM_CHARS:]
    expected = _tag(key or "unknown key version", gtin, lot, head)
    if not hmac.compare_digest(expected, tag) or key is None:
        raise ForgedSerial("the serial's signature does not match")
    return serial
