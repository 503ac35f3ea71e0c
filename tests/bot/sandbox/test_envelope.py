"""The sandbox's own encryption against the known-answer vectors (wecom-protocol.md §1.9)
and against our receiving side, bot.crypto.CallbackCrypto."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.crypto import CallbackCrypto, aes_key, parse_xml
from bot.events import ExternalChatChange, parse_event
from bot.sandbox.envelope import CallbackEvent, encrypt, seal

C3_TOKEN = "123456"
C3_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
C3_CORP = "wx49f0ab532d5d035a"
C3_XML = (
    "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
    "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n"
    "<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n"
    "<CreateTime>1411525903</CreateTime>\n</xml>"
)
C3_ENCRYPT = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNc"
    "BqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY"
    "0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsV"
    "bwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAG"
    "VRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
)


A_XML = (
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n"
    "<FromUserName><![CDATA[mycreate]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n"
    "<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n"
    "<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>"
)
A_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3Qczc"
    "dCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLj"
    "vd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMn"
    "vw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k"
    "22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2Yoy"
    "yH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)


@pytest.mark.parametrize(("vector", "expected_encrypt", "expected_signature"), [
    (dict(message=C3_XML, token=C3_TOKEN, encoding_aes_key=C3_KEY, receive_id=C3_CORP,
          timestamp="1411525903", nonce="461056294", prefix=b"1234567890123456"),
     C3_ENCRYPT, "407518b7649e86ef23978113f92d27afa9296533"),
    (dict(message=A_XML, token="QDG6eK",
          encoding_aes_key="jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
          receive_id="wx5823bf96d3bd56c7", timestamp="1409659813", nonce="1372623149",
          prefix=b"0960688932c47ef1"),
     A_ENCRYPT, "477715d11cdb4164915debcba66cb864d751f3e6"),
], ids=["C3", "A"])
def test_known_vectors_encrypt_and_sign_exactly(
    vector: dict[str, Any], expected_encrypt: str, expected_signature: str
) -> None:
    sealed = seal(**vector)
    assert sealed.encrypted == expected_encrypt
    assert sealed.msg_signature == expected_signature


@pytest.mark.parametrize("message", [
    "x", "客户联系" * 20, "a" * (64 - 16 - 4 - len(C3_CORP)),  # the last pads a full block
])
def test_random_prefix_round_trips_through_callback_crypto(message: str) -> None:
    sealed = seal(message, token=C3_TOKEN, encoding_aes_key=C3_KEY, receive_id=C3_CORP,
                  timestamp="1700000000")
    crypto = CallbackCrypto(C3_TOKEN, C3_KEY, C3_CORP)
    crypto.verify(sealed.msg_signature, sealed.timestamp, sealed.nonce, sealed.encrypted)
    assert crypto.decrypt(sealed.encrypted) == message
    assert sealed.nonce.isdigit()


def decrypted_prefix(encrypted: str) -> bytes:
    key = aes_key(C3_KEY)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    return (decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize())[:16]


def test_random_prefix_is_arbitrary_bytes_not_ascii_digits() -> None:
    prefixes = [decrypted_prefix(encrypt("hello", C3_KEY, C3_CORP)) for _ in range(20)]
    assert len(set(prefixes)) == len(prefixes)
    assert any(byte >= 0x80 for prefix in prefixes for byte in prefix)


def test_prefix_must_be_sixteen_bytes() -> None:
    with pytest.raises(ValueError):
        encrypt("hello", C3_KEY, C3_CORP, prefix=b"short")


def test_post_body_is_the_callback_envelope() -> None:
    sealed = seal("<xml/>", token=C3_TOKEN, encoding_aes_key=C3_KEY, receive_id=C3_CORP,
                  timestamp="1700000000")
    root = parse_xml(sealed.post_body(C3_CORP))
    assert root.findtext("ToUserName") == C3_CORP
    assert root.findtext("Encrypt") == sealed.encrypted
    assert root.findtext("AgentID")


def test_event_xml_parses_with_our_event_classes() -> None:
    event = CallbackEvent("change_external_chat", "update", (
        ("ChatId", "wrCHAT"), ("UpdateDetail", "add_member"), ("JoinScene", 3),
        ("QuitScene", None), ("MemChangeCnt", 2), ("MemChangeList", ["Jack", "Rose"]),
        ("LastMemVer", "v1"), ("CurMemVer", "v2"),
    ))
    xml = event.to_xml("wwcorp", 1700000000)
    parsed = parse_event(xml)
    assert isinstance(parsed, ExternalChatChange)
    assert (parsed.to_user, parsed.source, parsed.create_time) == ("wwcorp", "sys", 1700000000)
    assert (parsed.change_type, parsed.chat_id, parsed.join_scene) == ("update", "wrCHAT", 3)
    assert parsed.mem_change_list == ["Jack", "Rose"]
    assert (parsed.last_mem_ver, parsed.cur_mem_ver, parsed.mem_change_cnt) == ("v1", "v2", 2)
    assert "QuitScene" not in xml
    assert event.summary() == "change_external_chat/update ChatId=wrCHAT UpdateDetail=add_member"


def test_cdata_terminator_in_a_value_survives() -> None:
    xml = CallbackEvent("change_external_tag", "create", (("Id", "a]]>b"),)).to_xml("c", 1)
    assert parse_xml(xml).findtext("Id") == "a]]>b"
