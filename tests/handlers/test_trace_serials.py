"""安心码 serials: 20 Crockford characters that verify for their GTIN and lot only, under
a key version we hold; tampering, another product or lot, an unknown version and
non-serials are refused; a scanner's uppercasing and Crockford look-alikes still
verify."""

from __future__ import annotations

import pytest

from handlers.trace_serials import (
    ALPHABET,
    SERIAL_CHARS,
    ForgedSerial,
    check_serial,
    make_serial,
)

KEYS = {"1": "k1-" + "a" * 40, "2": "k2-" + "b" * 40}
GTIN, LOT = "09520123456788", "Lot-2025A"


def test_a_serial_verifies_for_its_gtin_and_lot() -> None:
    serials = {make_serial(KEYS, "2", GTIN, LOT) for _ in range(1000)}
    assert len(serials) == 1000  # 45 random bits each: no repeats in a thousand
    for serial in serials:
        assert len(serial) == SERIAL_CHARS and set(serial) <= set(ALPHABET)
        assert serial[0] == "2"
        assert check_serial(KEYS, GTIN, LOT, serial) == serial
        # A scanner that uppercases the whole URL, or lowercase typing, still verifies.
        assert check_serial(KEYS, GTIN, LOT.upper(), serial.lower()) == serial


def test_printed_serials_keep_verifying() -> None:
    """A serial made by an earlier release (its tag computed by hand at the time) still
    verifies: the encoding of tags never changes under printed codes."""
    assert check_serial(KEYS, GTIN, LOT, "1ABCDEFGHJ2KHQR6B52T") == "1ABCDEFGHJ2KHQR6B52T"
    with pytest.raises(ForgedSerial):
        check_serial(KEYS, GTIN, LOT, "1ABCDEFGHJ2KHQR6B52V")


def test_every_tampering_is_refused() -> None:
    serial = make_serial(KEYS, "1", GTIN, LOT)
    for position in range(SERIAL_CHARS):
        for replacement in ("0", "Z"):
            if serial[position] == replacement:
                continue
            tampered = serial[:position] + replacement + serial[position + 1:]
            with pytest.raises(ForgedSerial):
                check_serial(KEYS, GTIN, LOT, tampered)
    for gtin, lot in (("09520123456795", LOT), (GTIN, "Lot-2025B")):
        with pytest.raises(ForgedSerial):
            check_serial(KEYS, gtin, lot, serial)


def test_unknown_key_versions_and_non_serials_are_refused() -> None:
    serial = make_serial(KEYS, "1", GTIN, LOT)
    with pytest.raises(ForgedSerial):  # key 1 retired
        check_serial({"2": KEYS["2"]}, GTIN, LOT, serial)
    for junk in ("", "12345", serial + "0", "U" * SERIAL_CHARS, serial[:-1] + "!"):
        with pytest.raises(ForgedSerial):
            check_serial(KEYS, GTIN, LOT, junk)
    with pytest.raises(ValueError):
        make_serial(KEYS, "3", GTIN, LOT)


def test_crockford_look_alikes_read_as_their_digits() -> None:
    serial = make_serial(KEYS, "1", GTIN, LOT)
    swapped = serial.replace("1", "L").replace("0", "O")
    assert check_serial(KEYS, GTIN, LOT, swapped) == serial
