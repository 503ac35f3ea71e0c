"""The admin API's OpenAPI 3 document, served at `GET /admin/api/openapi.json`.

Written by hand, one entry per route, so that a route added without documentation
fails the test comparing this document's paths with the app's routes.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_api.openapi_groups import CHAT_ID, CONFIG_ID, GROUP_SCHEMAS
from admin_api.openapi_members import MEMBER_SCHEMAS
from admin_api.openapi_points import IMPORT_BODY, POINTS_SCHEMAS
from admin_api.openapi_schemas import ERROR_STATUS, Schema, components, ref
from admin_api.openapi_sop import SOP_SCHEMAS
from admin_api.sop_reports import (
    DEFAULT_PREVIEW_DAYS,
    DEFAULT_PREVIEW_ITEMS,
    MAX_PREVIEW_DAYS,
    MAX_PREVIEW_ITEMS,
)
from bot.pagination import DEFAULT_LIMIT, MAX_LIMIT
from models.sop import TaskStatus

PREFIX = "/admin/api"

# Every route can answer these.
_ALWAYS = ("Unauthorized", "Internal")
# Routes that call WeCom can also answer these.
_WECOM = ("WeComError", "WeComUnavailable")


def _json(schema: Schema) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _query(name: str, description: str, schema: Schema) -> Schema:
    return {"name": name, "in": "query", "description": description, "schema": schema}


def op(summary: str, operation_id: str, ok: tuple[int, str, dict[str, Any] | None], *,
       errors: tuple[str, ...] = (), parameters: tuple[Schema, ...] = (),
       body: str | None = None) -> dict[str, Any]:
    status, description, content = ok
    success: dict[str, Any] = {"description": description}
    if content is not None:
        success["content"] = content
    operation: dict[str, Any] = {
        "summary": summary,
        "operationId": operation_id,
        "responses": {str(status): success, **{ERROR_STATUS[name]: ref(name, "responses")
                                               for name in (*errors, *_ALWAYS)}},
    }
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        operation["requestBody"] = {"required": True, "content": _json(ref(body))}
    return operation


_PAGE = (ref("Limit", "parameters"), ref("Offset", "parameters"))
_ID = ref("Id", "parameters")
_INPUT = ("BadRequest", "TooLarge")
_SOP_FORMAT = _query("format", "json, or csv with a header row (or Accept: text/csv)",
                     {"type": "string", "enum": ["json", "csv"], "default": "json"})
_TAG_ID = {"name": "tag_id", "in": "path", "required": True,
           "description": "the WeCom tag id", "schema": {"type": "string"}}

_ADJUST = op("An operator's credit or debit of a member's points, idempotent by key",
             "adjustPoints", (201, "the ledger entry made", _json(ref("LedgerEntry"))),
             errors=(*_INPUT, "NotFound", "Conflict"), body="PointsAdjust")
_ADJUST["responses"]["200"] = {"description": "the same key again: the entry made the first "
                                              "time", "content": _json(ref("LedgerEntry"))}

PATHS: dict[str, dict[str, Any]] = {
    "/openapi.json": {"get": op(
        "This document", "getOpenApi", (200, "the OpenAPI document", _json({"type": "object"})))},
    "/channels": {
        "get": op("List channels, oldest first", "listChannels",
                  (200, "a page of channels", _json(ref("ChannelPage"))),
                  errors=("BadRequest",),
                  parameters=(*_PAGE, _query("include_deleted", "list deleted ones too",
                                             {"type": "boolean", "default": False}))),
        "post": op("Create a channel and its WeCom contact way", "createChannel",
                   (201, "the channel", _json(ref("Channel"))),
                   errors=(*_INPUT, "Conflict", *_WECOM), body="ChannelCreate"),
    },
    "/channels/{id}": {
        "get": op("Read a channel (deleted ones too)", "getChannel",
                  (200, "the channel", _json(ref("Channel"))), errors=("NotFound",),
                  parameters=(_ID,)),
        "patch": op("Change some of a channel's fields (updates its contact way)",
                    "updateChannel", (200, "the channel", _json(ref("Channel"))),
                    errors=(*_INPUT, "NotFound", *_WECOM), parameters=(_ID,),
                    body="ChannelPatch"),
        "delete": op("Delete a channel's contact way; the channel's history stays",
                     "deleteChannel", (204, "deleted", None),
                     errors=("BadRequest", "NotFound", *_WECOM), parameters=(_ID,)),
    },
    "/channels/{id}/qr.png": {"get": op(
        "The channel's QR code as a PNG (ECC M, 4-module quiet zone)", "getChannelQr",
        (200, "the PNG", {"image/png": {"schema": {"type": "string", "format": "binary"}}}),
        errors=("BadRequest", "NotFound"),
        parameters=(_ID, _query("size", "pixels per module",
                                {"type": "integer", "minimum": 1, "maximum": 32,
                                 "default": 10})))},
    "/channels/{id}/poster.svg": {"get": op(
        "A poster: the channel's name over its QR code, as SVG", "getChannelPoster",
        (200, "the SVG", {"image/svg+xml": {"schema": {"type": "string"}}}),
        errors=("NotFound",), parameters=(_ID,))},
    "/channels/{id}/funnel": {"get": op(
        "The channel's funnel: adds, re-adds, churn and tags per day or guide",
        "getChannelFunnel",
        (200, "the report", {**_json(ref("Funnel")),
                             "text/csv": {"schema": {"type": "string"}}}),
        errors=("BadRequest", "NotFound"),
        parameters=(
            _ID,
            _query("from", "first UTC day (default: 29 days before `to`)",
                   {"type": "string", "format": "date"}),
            _query("to", "last UTC day (default: today)", {"type": "string", "format": "date"}),
            _query("by", "one row per", {"type": "string", "enum": ["day", "guide"],
                                         "default": "day"}),
            _query("format", "json, or csv with a header row",
                   {"type": "string", "enum": ["json", "csv"], "default": "json"}),
        ))},
    "/tags": {
        "get": op("The corp tag mirror: groups with their tags", "listTags",
                  (200, "a page of tag groups", _json(ref("TagGroupPage"))),
                  errors=("BadRequest",), parameters=_PAGE),
        "post": op("Create a corp tag (and its group when new) in WeCom", "createTag",
                   (201, "the tag", _json(ref("CreatedTag"))),
                   errors=(*_INPUT, "Conflict", *_WECOM), body="TagName"),
    },
    "/tags/sync": {"post": op(
        "Replace the mirror with WeCom's full tag list", "syncTags",
        (200, "the sync's result", _json(ref("TagSync"))), errors=_WECOM)},
    "/tags/{tag_id}": {
        "patch": op("Rename a corp tag in WeCom and the mirror", "renameTag",
                    (200, "the tag", _json(ref("RenamedTag"))),
                    errors=(*_INPUT, "NotFound", *_WECOM), parameters=(_TAG_ID,),
                    body="TagRename"),
        "delete": op("Delete a corp tag in WeCom and the mirror (an emptied group goes too)",
                     "deleteTag", (204, "deleted", None),
                     errors=("NotFound", *_WECOM), parameters=(_TAG_ID,)),
    },
    "/tag-rules": {
        "get": op("Tag rules, oldest first", "listTagRules",
                  (200, "a page of tag rules", _json(ref("TagRulePage"))),
                  errors=("BadRequest",), parameters=_PAGE),
        "post": op("Create a tag rule: tags every matching new contact gets", "createTagRule",
                   (201, "the rule", _json(ref("TagRule"))),
                   errors=(*_INPUT, *_WECOM), body="TagRuleCreate"),
    },
    "/tag-rules/{id}": {"delete": op(
        "Delete a tag rule", "deleteTagRule", (204, "deleted", None),
        errors=("NotFound",), parameters=(_ID,))},
    "/events/failed": {"get": op(
        "Inbox events whose processing failed, newest first", "listFailedEvents",
        (200, "a page of events", _json(ref("EventPage"))), errors=("BadRequest",),
        parameters=_PAGE)},
    "/events/{id}/replay": {"post": op(
        "Put a finished event back in the queue with fresh attempts", "replayEvent",
        (202, "queued; the event as it is now", _json(ref("Event"))),
        errors=("NotFound", "Conflict"), parameters=(_ID,))},
    "/groups": {"get": op(
        "List customer groups, newest first", "listGroups",
        (200, "a page of groups", _json(ref("GroupPage"))), errors=("BadRequest",),
        parameters=(
            *_PAGE,
            _query("owner", "the owner's userid", {"type": "string"}),
            _query("label", "groups carrying this label", {"type": "string"}),
            _query("name_contains", "part of the name, any case", {"type": "string"}),
            _query("status", "active, dismissed or any",
                   {"type": "string", "enum": ["any", "active", "dismissed"],
                    "default": "any"}),
        ))},
    "/groups/sync": {"post": op(
        "Full sync of every group our staff own from WeCom; unlisted ones are dismissed",
        "syncGroups", (200, "the sync's result", _json(ref("GroupSync"))), errors=_WECOM)},
    "/groups/labels": {"post": op(
        "Add and remove labels on many groups at once (all or nothing)",
        "changeGroupLabels", (200, "each group's labels now", _json(ref("LabelledGroups"))),
        errors=_INPUT, body="GroupLabelsChange")},
    "/groups/{chat_id}": {"get": op(
        "Read a group with its members (those who left too), admins and labels", "getGroup",
        (200, "the group", _json(ref("GroupDetail"))), errors=("NotFound",),
        parameters=(CHAT_ID,))},
    "/groups/{chat_id}/labels": {"put": op(
        "Replace a group's labels", "replaceGroupLabels",
        (200, "the group's labels now", _json(ref("LabelledGroup"))),
        errors=(*_INPUT, "NotFound"), parameters=(CHAT_ID,), body="GroupLabels")},
    "/groups/join-ways": {
        "get": op("List group QR codes (join ways), oldest first", "listGroupJoinWays",
                  (200, "a page of join ways", _json(ref("JoinWayPage"))),
                  errors=("BadRequest",), parameters=_PAGE),
        "post": op("Create a group QR code (WeCom add_join_way)", "createGroupJoinWay",
                   (201, "the join way", _json(ref("JoinWay"))),
                   errors=(*_INPUT, "Conflict", *_WECOM), body="JoinWayCreate"),
    },
    "/groups/join-ways/{config_id}": {
        "get": op("Read a group QR code with its join counts", "getGroupJoinWay",
                  (200, "the join way", _json(ref("JoinWay"))), errors=("NotFound",),
                  parameters=(CONFIG_ID,)),
        "patch": op("Change some of a group QR code's fields (WeCom update_join_way)",
                    "updateGroupJoinWay", (200, "the join way", _json(ref("JoinWay"))),
                    errors=(*_INPUT, "NotFound", *_WECOM), parameters=(CONFIG_ID,),
                    body="JoinWayPatch"),
        "delete": op("Delete a group QR code; the joins it brought stay recorded",
                     "deleteGroupJoinWay", (204, "deleted", None),
                     errors=("NotFound", *_WECOM), parameters=(CONFIG_ID,)),
    },
    "/sop/plans": {
        "get": op("List SOP plans, oldest first", "listSopPlans",
                  (200, "a page of plans", _json(ref("SopPlanPage"))),
                  errors=("BadRequest",),
                  parameters=(*_PAGE, _query("include_deleted", "list deleted ones too",
                                             {"type": "boolean", "default": False}))),
        "post": op("Create a group SOP plan", "createSopPlan",
                   (201, "the plan", _json(ref("SopPlan"))), errors=_INPUT,
                   body="SopPlanCreate"),
    },
    "/sop/plans/{id}": {
        "get": op("Read a SOP plan with its live steps", "getSopPlan",
                  (200, "the plan", _json(ref("SopPlan"))), errors=("NotFound",),
                  parameters=(_ID,)),
        "patch": op("Change some of a SOP plan's fields; steps keep their ids",
                    "updateSopPlan", (200, "the plan", _json(ref("SopPlan"))),
                    errors=(*_INPUT, "NotFound"), parameters=(_ID,), body="SopPlanPatch"),
        "delete": op("Stop and delete a SOP plan; its report and tasks stay readable",
                     "deleteSopPlan", (204, "deleted", None), errors=("NotFound",),
                     parameters=(_ID,)),
    },
    "/sop/plans/{id}/preview": {"get": op(
        "Dry run: which groups get which step when, from now", "previewSopPlan",
        (200, "the occurrences, in due order", _json(ref("SopPreview"))),
        errors=("BadRequest", "NotFound"),
        parameters=(_ID, _query("days", "how far ahead",
                                {"type": "integer", "minimum": 1, "maximum": MAX_PREVIEW_DAYS,
                                 "default": DEFAULT_PREVIEW_DAYS}),
                    _query("limit", "at most this many occurrences",
                           {"type": "integer", "minimum": 1, "maximum": MAX_PREVIEW_ITEMS,
                            "default": DEFAULT_PREVIEW_ITEMS})))},
    "/sop/plans/{id}/report": {"get": op(
        "Per step: targeted, pushed, sent, failed, skipped, missed … and totals",
        "getSopPlanReport",
        (200, "the report", {**_json(ref("SopReport")),
                             "text/csv": {"schema": {"type": "string"}}}),
        errors=("BadRequest", "NotFound"), parameters=(_ID, _SOP_FORMAT))},
    "/sop/plans/{id}/tasks": {"get": op(
        "The plan's tasks, one row per group and occurrence", "listSopPlanTasks",
        (200, "a page of tasks (CSV: all of them)",
         {**_json(ref("SopTaskPage")), "text/csv": {"schema": {"type": "string"}}}),
        errors=("BadRequest", "NotFound"),
        parameters=(_ID, *_PAGE, _SOP_FORMAT,
                    _query("status", "only tasks in this status",
                           {"type": "string", "enum": [s.value for s in TaskStatus]}),
                    _query("step_id", "only this step's tasks", {"type": "integer"})))},
    "/members/{id}": {"get": op(
        "A member: profile, identities (phone masked), level, points and latest ledger",
        "getMember", (200, "the member", _json(ref("MemberDetail"))), errors=("NotFound",),
        parameters=(_ID,))},
    "/points/adjust": {"post": _ADJUST},
    "/orders/import": {"post": {**op(
        "Import orders from other sales channels: points and growth once, refunds reversed",
        "importOrders", (200, "what the import did", _json(ref("OrderImportSummary"))),
        errors=_INPUT), "requestBody": IMPORT_BODY}},
}

DESCRIPTION = f"""The operators' API of Anxin SCRM.

Every request carries `Authorization: Bearer <token>` with a token from the
`[admin] tokens` setting. Bodies are JSON objects of at most 256 KiB; unknown fields
are refused. Every error is `{{"error": {{"code", "message"}}}}`, with `field` for
input errors and `errcode`/`errmsg` for WeCom's.

Lists page by offset: `?limit=` (1..{MAX_LIMIT}, default {DEFAULT_LIMIT}) and
`?offset=`; they answer `{{"items", "total", "limit", "offset"}}`.
"""


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Anxin SCRM admin API", "version": "1", "description": DESCRIPTION},
        "security": [{"bearer": []}],
        "paths": {PREFIX + path: item for path, item in PATHS.items()},
        "components": _components(),
    }


def _components() -> dict[str, Any]:
    merged = components()
    merged["schemas"] = {**merged["schemas"], **GROUP_SCHEMAS, **SOP_SCHEMAS,
                         **MEMBER_SCHEMAS, **POINTS_SCHEMAS}
    return merged


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(document())


routes = [web.get("/openapi.json", openapi_json)]
