"""A channel's JSON body, read into the domain's `ChannelSpec`.

`new_spec` reads a create body (`name`, `kind` and `guides` required); `apply_changes`
applies the fields a PATCH body carries to the spec of the stored channel. Both check
field names and JSON types only; the channel rules (lengths, counts, known guides and
tags) are `handlers.channels`' and run before anything is sent to WeCom.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from admin_api.errors import InputError
from admin_api.json_body import JsonObject
from handlers.channels import ChannelSpec
from handlers.tags import TagRef
from models.channels import ChannelKind

WELCOME_FIELDS = ("text", "attachments")
TAG_FIELDS = ("group", "name")


def _kind(body: JsonObject, name: str) -> ChannelKind:
    value = body.text(name)
    try:
        return ChannelKind(value)
    except ValueError:
        kinds = ", ".join(k.value for k in ChannelKind if k != ChannelKind.ORGANIC)
        raise InputError(name, f"unknown kind {value!r}; one of {kinds}") from None


def read_tags(body: JsonObject, name: str) -> list[TagRef]:
    """A list of `{"group", "name"}` tag names (the 安心码 products' tags too)."""
    refs = []
    for item in body.children(name):
        item.only(TAG_FIELDS)
        item.require(*TAG_FIELDS)
        refs.append(TagRef(item.text("group"), item.text("name")))
    return refs


def _welcome(spec: ChannelSpec, body: JsonObject) -> None:
    welcome = body.child("welcome")
    welcome.only(WELCOME_FIELDS)
    if welcome.has("text"):
        spec.welcome_text = welcome.text("text")
    if welcome.has("attachments"):
        spec.welcome_attachments = welcome.objects("attachments")


# Each body field but `welcome` sets the `ChannelSpec` attribute of the same name.
_READERS: dict[str, Callable[[JsonObject, str], Any]] = {
    "name": JsonObject.text,
    "kind": _kind,
    "guides": JsonObject.texts,
    "tags": read_tags,
    "skip_verify": JsonObject.flag,
    "daily_caps": JsonObject.counts,
    "backup_guide": JsonObject.text,
    "remark_template": JsonObject.text,
    "active_from": JsonObject.moment,
    "active_until": JsonObject.moment,
    "state": JsonObject.text,
    "create_missing_tags": JsonObject.flag,
}
FIELDS = (*_READERS, "welcome")


def apply_changes(spec: ChannelSpec, body: JsonObject) -> ChannelSpec:
    """Set on `spec` every field `body` carries; a partial `welcome` keeps the rest."""
    body.only(FIELDS)
    for name, read in _READERS.items():
        if body.has(name):
            setattr(spec, name, read(body, name))
    if body.has("welcome"):
        _welcome(spec, body)
    return spec


def new_spec(body: JsonObject) -> ChannelSpec:
    body.only(FIELDS)
    body.require("name", "kind", "guides")
    return apply_changes(ChannelSpec(name="", kind=ChannelKind.OTHER, guides=[]), body)
