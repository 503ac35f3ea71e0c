"""The callback endpoint over real HTTP: official vectors, every bad input, dedupe."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import aiohttp
import pytest

from bot.settings import Settings
from models.events import EventStatus, InboxEvent
from tests.apphost import contact_event, encrypt, serve_app, signed_post

VECTOR_A = {
    "corp_id": "wx5823bf96d3bd56c7",
    "token": "QDG6eK",
    "key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "query": "msg_signature=477715d11cdb4164915debcba66cb864d751f3e6"
    "&timestamp=1409659813&nonce=1372623149",
    "encrypt": "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==",  # noqa: E501
    "time": 1409659813,
}
VECTOR_C = {
    "corp_id": "wx49f0ab532d5d035a",
    "token": "123456",
    "key": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
}
C1_ECHO = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
C2_ENCRYPT = "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="  # noqa: E501


def with_corp(settings: Settings, vector: dict) -> Settings:
    wecom = dataclasses.replace(
        settings.wecom, corp_id=vector["corp_id"], token=vector["token"],
        encoding_aes_key=vector["key"],
    )
    return dataclasses.replace(settings, wecom=wecom)


def envelope(corp_id: str, encrypted: str) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]>"
        "</Encrypt><AgentID><![CDATA[218]]></AgentID></xml>"
    ).encode()


async def post(url: str, query: str, body: bytes) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/wecom/callback?{query}", data=body) as response:
            return response.status, await response.text()


async def test_vector_a_post_is_accepted_and_stored(settings: Settings) -> None:
    settings = with_corp(settings, VECTOR_A)
    async with serve_app(settings, clock=lambda: VECTOR_A["time"]) as url:
        body = envelope(VECTOR_A["corp_id"], VECTOR_A["encrypt"])
        status, text = await post(url, VECTOR_A["query"], body)
        assert (status, text) == (200, "")
        rows = await InboxEvent.all()
        assert len(rows) == 1
        assert "<Content><![CDATA[hello]]></Content>" in rows[0].payload
        # A text message is not an event we handle: stored, acknowledged, ignored.
        assert (rows[0].event, rows[0].status) == ("text", EventStatus.IGNORED)


async def test_vector_c1_url_verification_answers_exact_plaintext(settings: Settings) -> None:
    settings = with_corp(settings, VECTOR_C)
    query = {"msg_signature": "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96",
             "timestamp": "1411443780", "nonce": "437374425", "echostr": C1_ECHO}
    async with serve_app(settings, clock=lambda: 1411443780) as url:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/wecom/callback", params=query) as response:
                assert response.status == 200
                assert await response.read() == b"5927782489442352469"
            async with http.get(f"{url}/wecom/callback",
                                params={**query, "nonce": "437374424"}) as response:
                assert response.status == 403


async def test_vector_c2_post_decrypts_padding_of_one(settings: Settings) -> None:
    settings = with_corp(settings, VECTOR_C)
    query = ("msg_signature=74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
             "&timestamp=1411525903&nonce=461056294")
    async with serve_app(settings, clock=lambda: 1411525903) as url:
        status, _ = await post(url, query, envelope(VECTOR_C["corp_id"], C2_ENCRYPT))
        assert status == 200
        row = await InboxEvent.get()
        assert "<FromUserName><![CDATA[messense]]></FromUserName>" in row.payload


async def test_wrong_signature_is_refused_and_nothing_stored(settings: Settings) -> None:
    async with serve_app(settings) as url:
        query, body = signed_post(settings, encrypt(settings, contact_event("x", "wm1")))
        forged = query.replace("msg_signature=", "msg_signature=0")
        assert (await post(url, forged, body))[0] == 403
        assert await InboxEvent.all().count() == 0


@pytest.mark.parametrize("skew", [-301, 301, -100000])
async def test_stale_or_future_timestamp_is_refused(settings: Settings, skew: int) -> None:
    async with serve_app(settings) as url:
        encrypted = encrypt(settings, contact_event("add_external_contact", "wm1"))
        query, body = signed_post(settings, encrypted, timestamp=int(time.time()) + skew)
        status, text = await post(url, query, body)
        assert status == 403 and "replay" in text
        assert await InboxEvent.all().count() == 0


async def test_bad_inputs_get_400_and_change_nothing(settings: Settings) -> None:
    async with serve_app(settings) as url:
        good = encrypt(settings, contact_event("add_external_contact", "wm1"))
        query, body = signed_post(settings, good)
        cases = {
            "malformed envelope": (query, body[:-5]),
            "no Encrypt": (query, b"<xml><ToUserName>a</ToUserName></xml>"),
            "missing signature": ("timestamp=1&nonce=2", body),
            "timestamp not a number": (query.replace("timestamp=", "timestamp=x"), body),
        }
        bad_b64 = "not*base64!!"
        cases["bad base64"] = signed_post(settings, bad_b64)
        cases["wrong receive id"] = signed_post(
            settings, encrypt(settings, contact_event("add_external_contact", "wm1"), "wwother"))
        cases["malformed message xml"] = signed_post(settings, encrypt(settings, "<xml><a></xml>"))
        cases["not a whole block"] = signed_post(settings, "QUJD")
        for name, (q, b) in cases.items():
            status, _ = await post(url, q, b)
            assert status == 400, name
        assert await InboxEvent.all().count() == 0


async def test_oversized_body_gets_413(settings: Settings) -> None:
    async with serve_app(settings) as url:
        query, body = signed_post(settings, encrypt(settings, contact_event("x", "wm1")))
        status, _ = await post(url, query, body + b" " * (64 * 1024))
        assert status == 413
        assert await InboxEvent.all().count() == 0


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    "<xml><Encrypt>&lol3;</Encrypt></xml>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<xml><Encrypt>&xxe;</Encrypt></xml>"
)


async def test_entity_tricks_are_refused_without_expansion(settings: Settings) -> None:
    async with serve_app(settings) as url:
        query, _ = signed_post(settings, "x")
        for body in (BILLION_LAUGHS, EXTERNAL_ENTITY):
            status, text = await post(url, query, body.encode())
            assert status == 400 and "DTD" in text
        # The same trick inside a correctly signed and encrypted message.
        inner = BILLION_LAUGHS.replace("<xml><Encrypt>&lol3;</Encrypt></xml>",
                                       "<xml><MsgType>&lol3;</MsgType></xml>")
        status, text = await post(url, *signed_post(settings, encrypt(settings, inner)))
        assert status == 400 and "DTD" in text
        assert await InboxEvent.all().count() == 0


async def test_unhandled_event_is_stored_acknowledged_and_ignored(settings: Settings) -> None:
    unknown = contact_event("add_external_contact", "wm1").replace(
        "change_external_contact", "some_future_event")
    async with serve_app(settings) as url:
        assert (await post(url, *signed_post(settings, encrypt(settings, unknown))))[0] == 200
        row = await InboxEvent.get()
        assert (row.event, row.status) == ("some_future_event", EventStatus.IGNORED)


async def test_redelivery_is_acknowledged_and_changes_nothing(settings: Settings) -> None:
    reason = "<FailReason>customer_refused</FailReason>"
    message = contact_event("transfer_fail", "wm1", extra=reason)
    async with serve_app(settings) as url:
        query, body = signed_post(settings, encrypt(settings, message))
        first = await post(url, query, body)
        # WeCom re-sends the same message; even re-encrypted it is the same event.
        again = await post(url, *signed_post(settings, encrypt(settings, message), nonce="9"))
        assert first[0] == again[0] == 200
        assert await InboxEvent.all().count() == 1


async def test_same_event_in_concurrent_requests_is_stored_once(settings: Settings) -> None:
    message = contact_event("del_follow_user", "wmconcurrent")
    async with serve_app(settings) as url:
        deliveries = [signed_post(settings, encrypt(settings, message), nonce=str(n))
                      for n in range(8)]
        results = await asyncio.gather(*(post(url, q, b) for q, b in deliveries))
        assert [status for status, _ in results] == [200] * 8
        assert await InboxEvent.all().count() == 1


async def test_two_events_in_the_same_second_are_both_stored(settings: Settings) -> None:
    same_second = int(time.time())
    async with serve_app(settings) as url:
        for customer in ("wmA", "wmB"):
            message = contact_event("del_follow_user", customer, create_time=same_second)
            assert (await post(url, *signed_post(settings, encrypt(settings, message))))[0] == 200
        assert await InboxEvent.all().count() == 2
