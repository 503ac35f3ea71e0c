"""Bad channel input never reaches WeCom: each case is a 400 naming the field, and the
sandbox sees no contact-way call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from tests.admin_api.conftest import NOT_A_GUIDE, AdminClient, channel_body
from tests.sandbox_fixtures import SandboxConsole

LINK = {"msgtype": "link", "link": {"title": "t", "url": "https://example.com"}}

BAD_BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("state over 30 characters", {"state": "s" * 31}, "state"),
    ("10 attachments", {"welcome": {"text": "hi", "attachments": [LINK] * 10}},
     "welcome.attachments"),
    ("attachment without its fields", {"welcome": {"attachments": [{"msgtype": "link",
                                                                    "link": {}}]}},
     "welcome.attachments[0].link.title"),
    ("unknown tag", {"tags": [{"group": "没有", "name": "这个"}]}, "tags"),
    ("unknown guide", {"guides": ["zhangsan", "nobody"]}, "guides"),
    ("member without customer contact", {"guides": [NOT_A_GUIDE]}, "guides"),
    ("unknown backup guide", {"backup_guide": "nobody"}, "backup_guide"),
    ("no guide", {"guides": []}, "guides"),
    ("text over 4000 bytes", {"welcome": {"text": "欢" * 1334}}, "welcome.text"),
    ("unknown kind", {"kind": "billboard"}, "kind"),
    ("organic kind", {"kind": "organic"}, "kind"),
    ("empty name", {"name": " "}, "name"),
    ("name not a string", {"name": 5}, "name"),
    ("guides not an array", {"guides": "zhangsan"}, "guides"),
    ("guide not a string", {"guides": ["zhangsan", 7]}, "guides[1]"),
    ("skip_verify not a boolean", {"skip_verify": "yes"}, "skip_verify"),
    ("tag not an object", {"tags": ["渠道/门店"]}, "tags[0]"),
    ("tag without a name", {"tags": [{"group": "渠道"}]}, "tags[0].name"),
    ("welcome not an object", {"welcome": "hi"}, "welcome"),
    ("attachments not an array", {"welcome": {"attachments": {}}}, "welcome.attachments"),
    ("unknown welcome field", {"welcome": {"txt": "hi"}}, "welcome.txt"),
    ("daily cap not an integer", {"daily_caps": {"zhangsan": "3"}}, "daily_caps.zhangsan"),
    ("daily cap for another guide", {"daily_caps": {"lisi": 3}}, "daily_caps"),
    ("active_from without offset", {"active_from": "2025-03-01T00:00:00"}, "active_from"),
    ("active_until not a date", {"active_until": "soon"}, "active_until"),
    ("window backwards", {"active_from": "2025-03-02T00:00:00+08:00",
                          "active_until": "2025-03-01T00:00:00+08:00"}, "active_until"),
    ("unknown field", {"colour": "red"}, "colour"),
]


async def test_bad_bodies_are_400_naming_the_field(admin: AdminClient,
                                                   corp: SandboxConsole) -> None:
    for case, fields, field in BAD_BODIES:
        reply = await admin.post("/channels", channel_body(**fields))
        assert reply.status == 400, (case, reply.body)
        error = reply.error
        assert error["code"] == "invalid_input", case
        assert error["field"] == field, (case, error)
        assert error["message"].startswith(field), (case, error)
    assert await corp.call_count("externalcontact/add_contact_way") == 0
    assert (await admin.get("/channels")).json()["total"] == 0


async def test_missing_fields_and_non_objects(admin: AdminClient, corp: SandboxConsole) -> None:
    for required in ("name", "kind", "guides"):
        body = channel_body()
        del body[required]
        reply = await admin.post("/channels", body)
        assert reply.status == 400
        assert reply.error["field"] == required
    for raw in (b'{"name": "x",', b"[]", b"\xff\xfe", b"", b"null"):
        reply = await admin.request("POST", "/channels", data=raw,
                                    headers={"Content-Type": "application/json"})
        assert reply.status == 400, raw
        assert reply.error["field"] == "body"
    assert await corp.call_count("externalcontact/add_contact_way") == 0


async def test_a_body_over_256_kib_is_413(admin: AdminClient, corp: SandboxConsole) -> None:
    huge = channel_body(remark_template="x" * (256 * 1024))
    reply = await admin.post("/channels", huge)
    assert reply.status == 413
    assert reply.error["code"] == "body_too_large"
    # Without a Content-Length (chunked), the limit holds too.

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(300):
            yield b" " * 1024

    reply = await admin.request("POST", "/channels", data=chunks(),
                                headers={"Content-Type": "application/json"})
    assert reply.status == 413
    assert await corp.call_count("externalcontact/add_contact_way") == 0
