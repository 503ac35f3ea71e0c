"""Members' secrets at rest: phone numbers and WeChat session keys sealed with AES-256-GCM
(`members.data_key`), and the keyed hash (HMAC-SHA256, `members.lookup_key`) that finds
a member by phone without storing the number in the clear.

A sealed value is base64 of a random 12-byte nonce + the ciphertext with its tag; the
purpose ("phone", "session_key") is the associated data, so a value cannot be moved
from one column to another and still open. Phone numbers are brought to one form
first (`normalize_phone`: "+<country code><digits>"), so the same number from
WeChat, an order file or an operator hashes the same.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.settings import MemberSettings

__all__ = ["mask_phone", "normalize_phone", "phone_lookup_hash", "seal", "unseal"]

_NONCE_BYTES = 12
_DEFAULT_COUNTRY = "86"
_NOT_DIGITS = re.compile(r"[\s\-()]")


def seal(keys: MemberSettings, plaintext: str, purpose: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(base64.b64decode(keys.data_key)).encrypt(
        nonce, plaintext.encode(), purpose.encode())
    return base64.b64encode(nonce + sealed).decode()


def unseal(keys: MemberSettings, sealed: str, purpose: str) -> str:
    """The plaintext; raises cryptography's InvalidTag for a tampered value, another
    key or another purpose."""
    raw = base64.b64decode(sealed)
    return AESGCM(base64.b64decode(keys.data_key)).decrypt(
        raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], purpose.encode()).decode()


def normalize_phone(phone: str, country_code: str | int = _DEFAULT_COUNTRY) -> str:
    """"+<country code><number>": a number given with "+" or "00" keeps its own country
    code, a bare one gets `country_code` (WeChat gives the two apart). Raises
    ValueError for something that is not a phone number."""
    digits = _NOT_DIGITS.sub("", phone.strip())
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("00"):
        digits = digits[2:]
    else:
        digits = f"{country_code}{digits}"
    if not digits.isdigit() or not 7 <= len(digits) <= 15:  # E.164: at most 15 digits
        raise ValueError("not a phone number")
    return f"+{digits}"


def phone_lookup_hash(keys: MemberSettings, phone: str,
                      country_code: str | int = _DEFAULT_COUNTRY) -> str:
    """The keyed hash a member's phone is found by (hex); the same for every way of
    writing the same number."""
    normal = normalize_phone(phone, country_code)
    return hmac.new(keys.lookup_key.encode(), normal.encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    """"+86138****8000": enough for an operator to tell numbers apart, no more."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return f"{phone[:-8]}****{phone[-4:]}"
