"""WeCom callback crypto (WXBizMsgCrypt): signature, AES decryption, safe XML.

Decryption is wechatpy's `PrpCrypto` (the `WeChatCrypto` machinery for WeCom). The
signature is computed here so it can be compared in constant time, which wechatpy's
`check_signature` does not do. Every failure is a `CallbackRejected` carrying the HTTP
status the endpoint answers with.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
import xml.etree.ElementTree as ET

from wechatpy.enterprise.crypto import PrpCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException


class CallbackRejected(Exception):
    """The request is refused; `status` is the HTTP answer, `reason` goes to the log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """msg_signature = sha1 over the four strings sorted lexicographically."""
    joined = "".join(sorted((token, timestamp, nonce, encrypted)))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    return base64.b64decode(encoding_aes_key + "=")


def parse_xml(data: bytes | str) -> ET.Element:
    """Parse WeCom XML, refusing any DTD or entity declaration before the parser sees it.

    WeCom payloads never carry `<!DOCTYPE` or `<!ENTITY`; the only `<!` they contain opens
    a CDATA section. Refusing every other `<!` stops billion-laughs and external-entity
    tricks without expanding anything.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if raw.count(b"<!") != raw.count(b"<![CDATA["):
        raise CallbackRejected(400, "xml declares a DTD or entity")
    try:
        return ET.fromstring(raw)
    except ET.ParseError as exc:
        raise CallbackRejected(400, f"malformed xml: {exc}") from None


# The envelope exactly as WeCom sends it: <xml> holding only flat elements whose text
# (CDATA or plain) is printable ASCII without & < > ], whitespace between them allowed.
# Such a body is well-formed XML without a DTD, and `<Encrypt>` in it can only be the
# element, so the ciphertext is read without building a tree; anything else goes
# through `parse_xml`.
_TEXT = rb"[\x20-\x25\x27-\x3b\x3d\x3f-\x5c\x5e-\x7e]*"
_SPACE = rb"[ \t\r\n]*"
_FLAT_ELEMENT = (
    _SPACE + rb"<([A-Za-z][A-Za-z0-9_]*)>(?:<!\[CDATA\[" + _TEXT + rb"\]\]>|" + _TEXT + rb")</\1>"
)
_SIMPLE_ENVELOPE = re.compile(_SPACE + rb"<xml>(?:" + _FLAT_ELEMENT + rb")*" + _SPACE
                              + rb"</xml>" + _SPACE)
_ENCRYPT = re.compile(
    rb"<Encrypt>(?:<!\[CDATA\[(" + _TEXT + rb")\]\]>|(" + _TEXT + rb"))</Encrypt>"
)


def envelope_ciphertext(body: bytes) -> str | None:
    """The `Encrypt` text of a callback envelope (None or "" when there is none)."""
    if _SIMPLE_ENVELOPE.fullmatch(body):
        found = _ENCRYPT.search(body)
        if found is None:
            return None
        return (found.group(1) if found.group(1) is not None else found.group(2)).decode("ascii")
    return parse_xml(body).findtext("Encrypt")


class CallbackCrypto:
    """Verify and decrypt what WeCom sends to our callback URL."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        self.token = token
        self.receive_id = receive_id
        self._prp = PrpCrypto(aes_key(encoding_aes_key))

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = signature(self.token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode(), msg_signature.lower().encode()):
            raise CallbackRejected(403, "bad msg_signature")

    def decrypt(self, encrypted: str) -> str:
        """Decrypt `Encrypt`/`echostr`, check the receive id, return the message text."""
        try:
            base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise CallbackRejected(400, "ciphertext is not base64") from None
        try:
            return str(self._prp.decrypt(encrypted, self.receive_id))
        except InvalidCorpIdException:
            raise CallbackRejected(400, "receive id is not our corp_id") from None
        except (ValueError, struct.error, UnicodeDecodeError, IndexError):
            raise CallbackRejected(400, "ciphertext does not decrypt") from None
