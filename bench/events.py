"""Signed, encrypted WeCom callbacks for the benchmark, built the way WeCom builds them.

Each callback is a `Request(path_and_query, body)` for `POST /wecom/callback`: an
`add_external_contact` event for one (staff, customer) pair, AES-encrypted with the
corp's EncodingAESKey (WXBizMsgCrypt: 16 random bytes, length, message, corp id,
PKCS#7), wrapped in the `<xml><Encrypt>` envelope, with `msg_signature` over
token/timestamp/nonce/ciphertext. Distinct pairs give distinct decrypted messages, so
distinct inbox rows; a re-delivery is the same tuple sent again.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import struct
import time
from collections.abc import Iterable
from urllib.parse import urlencode

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bench.loadgen import Request
from bot.settings import Settings

CALLBACK_PATH = "/wecom/callback"


def add_contact_message(corp_id: str, userid: str, external_userid: str, create_time: int,
                        state: str = "bench") -> str:
    return (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
        "<FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_contact]]></Event>"
        "<ChangeType><![CDATA[add_external_contact]]></ChangeType>"
        f"<UserID><![CDATA[{userid}]]></UserID>"
        f"<ExternalUserID><![CDATA[{external_userid}]]></ExternalUserID>"
        f"<State><![CDATA[{state}]]></State></xml>"
    )


class CallbackSigner:
    """Encrypt and sign callbacks for one corp (token, EncodingAESKey, corp id)."""

    def __init__(self, token: str, encoding_aes_key: str, corp_id: str) -> None:
        self.token = token
        self.corp_id = corp_id
        self._corp = corp_id.encode()
        key = base64.b64decode(encoding_aes_key + "=")
        self._cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))

    @classmethod
    def from_settings(cls, settings: Settings) -> CallbackSigner:
        w = settings.wecom
        return cls(w.token, w.encoding_aes_key, w.corp_id)

    def encrypt(self, message: str) -> str:
        text = message.encode("utf-8")
        plain = os.urandom(16) + struct.pack(">I", len(text)) + text + self._corp
        pad = 32 - len(plain) % 32
        plain += bytes([pad]) * pad
        enc = self._cipher.encryptor()
        return base64.b64encode(enc.update(plain) + enc.finalize()).decode()

    def request(self, message: str, timestamp: int | None = None) -> Request:
        encrypted = self.encrypt(message)
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = str(secrets.randbelow(10**10))
        sig = hashlib.sha1("".join(sorted((self.token, ts, nonce, encrypted))).encode()).hexdigest()
        query = urlencode({"msg_signature": sig, "timestamp": ts, "nonce": nonce})
        body = (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            "<AgentID><![CDATA[1000002]]></AgentID></xml>"
        ).encode()
        return Request(f"{CALLBACK_PATH}?{query}", body)

    def add_contact_requests(self, pairs: Iterable[tuple[str, str]],
                             timestamp: int | None = None) -> list[Request]:
        """One callback per (userid, external_userid) pair, all distinct messages."""
        ts = int(time.time()) if timestamp is None else timestamp
        return [
            self.request(add_contact_message(self.corp_id, userid, external, ts), ts)
            for userid, external in pairs
        ]


def synthetic_pairs(count: int, prefix: str) -> list[tuple[str, str]]:
    """Distinct (staff, customer) pairs that exist nowhere (for ack-only phases)."""
    return [(f"staff{i % 100:05d}", f"wm{prefix}{i:012d}") for i in range(count)]

