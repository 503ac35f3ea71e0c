"""What the sandbox sends to the callback URL: event XML, its encryption and signature.

The encryption is written here against `cryptography` directly, independent of wechatpy
(which our receiving side, bot.crypto, uses), so the two cross-check each other
(wecom-protocol.md §1.3-1.4): AES-256-CBC, key = b64decode(EncodingAESKey + "="),
IV = key[:16], PKCS#7 padding to a multiple of 32 bytes, plaintext
random16 || len(4, big-endian) || msg || receiveid, then base64. The random prefix is
arbitrary bytes, as real WeCom sends, not the ASCII digits of the official sample.
"""

from __future__ import annotations

import base64
import os
import secrets
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.crypto import aes_key, signature

PAD_BLOCK = 32
PREFIX_BYTES = 16
# The app id put in the POST envelope's AgentID (the sandbox's stand-in for the
# customer-contact app); WeCom's docs give no fixed value.
AGENT_ID = "1000002"
SYSTEM_SENDER = "sys"

FieldValue = str | int | Sequence[str]


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def element(name: str, value: FieldValue) -> str:
    """Strings in CDATA, integers bare, lists as `<Item>` children (MemChangeList)."""
    if isinstance(value, int):
        inner = str(value)
    elif isinstance(value, str):
        inner = cdata(value)
    else:
        inner = "".join(f"<Item>{cdata(item)}</Item>" for item in value)
    return f"<{name}>{inner}</{name}>"


@dataclass(frozen=True)
class CallbackEvent:
    """One self-built-app event (§2.0): `Event`, `ChangeType` and the event's fields in
    order. Fields whose value is None are left out, as WeCom omits absent ones."""

    event: str
    change_type: str
    fields: tuple[tuple[str, FieldValue | None], ...] = ()

    def present(self) -> list[tuple[str, FieldValue]]:
        return [(name, value) for name, value in self.fields if value is not None]

    def summary(self) -> str:
        ids = " ".join(f"{name}={value}" for name, value in self.present()
                       if isinstance(value, str) and name in SUMMARY_FIELDS)
        return f"{self.event}/{self.change_type} {ids}".rstrip()

    def to_xml(self, corp_id: str, create_time: int) -> str:
        lines = [
            element("ToUserName", corp_id),
            element("FromUserName", SYSTEM_SENDER),
            element("CreateTime", create_time),
            element("MsgType", "event"),
            element("Event", self.event),
            element("ChangeType", self.change_type),
            *(element(name, value) for name, value in self.present()),
        ]
        return "<xml>" + "\n".join(lines) + "\n</xml>"


SUMMARY_FIELDS = frozenset({"UserID", "ExternalUserID", "ChatId", "Id", "UpdateDetail"})


def encrypt(message: str, encoding_aes_key: str, receive_id: str,
            prefix: bytes | None = None) -> str:
    """`msg_encrypt` for a message; `prefix` (16 bytes) is random unless given (tests)."""
    random16 = os.urandom(PREFIX_BYTES) if prefix is None else prefix
    if len(random16) != PREFIX_BYTES:
        raise ValueError("the random prefix must be 16 bytes")
    body = message.encode("utf-8")
    plain = random16 + struct.pack(">I", len(body)) + body + receive_id.encode("utf-8")
    pad = PAD_BLOCK - len(plain) % PAD_BLOCK
    key = aes_key(encoding_aes_key)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    ciphertext = encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()
    return base64.b64encode(ciphertext).decode("ascii")


def random_nonce() -> str:
    """A numeric nonce like WeCom's (e.g. 1372623149)."""
    return str(secrets.randbelow(9 * 10**9) + 10**9)


@dataclass(frozen=True)
class Sealed:
    """An encrypted and signed message: the `Encrypt` text and the query parameters."""

    encrypted: str
    msg_signature: str
    timestamp: str
    nonce: str

    def query(self) -> dict[str, str]:
        return {"msg_signature": self.msg_signature, "timestamp": self.timestamp,
                "nonce": self.nonce}

    def post_body(self, corp_id: str) -> bytes:
        """The §1.6 POST envelope around the ciphertext."""
        return ("<xml>" + element("ToUserName", corp_id) + element("Encrypt", self.encrypted)
                + element("AgentID", AGENT_ID) + "</xml>").encode("utf-8")


def seal(message: str, *, token: str, encoding_aes_key: str, receive_id: str,
         timestamp: str, nonce: str | None = None, prefix: bytes | None = None) -> Sealed:
    encrypted = encrypt(message, encoding_aes_key, receive_id, prefix)
    nonce = nonce or random_nonce()
    return Sealed(encrypted, signature(token, timestamp, nonce, encrypted), timestamp, nonce)
