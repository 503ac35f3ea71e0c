"""The admin API's OpenAPI 3 document, served at `GET /admin/api/openapi.json`.

Written by hand, one entry per route, so that a route added without documentation
fails the test comparing this document's paths with the app's routes. The mall's
paths are `openapi_mall.py`'s, the 安心码 catalogue's `openapi_trace.py`'s; operations
are built with `openapi_ops.op`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_api.openapi_groups import CHAT_ID, CONFIG_ID, GROUP_SCHEMAS
from admin_api.openapi_mall import MALL_PATHS, MALL_SCHEMAS
from admin_api.openapi_members import MEMBER_SCHEMAS
from admin_api.openapi_ops import ID, INPUT, PAGE, WECOM, json_content, op, query_param
from admin_api.openapi_points import IMPORT_BODY, POINTS_SCHEMAS
from admin_api.openapi_schemas import components, ref
from admin_api.openapi_sop import SOP_SCHEMAS
from admin_api.openapi_trace import TRACE_PATHS, TRACE_SCHEMAS
from admin_api.sop_reports import (
    DEFAULT_PREVIEW_DAYS,
    DEFAULT_PREVIEW_ITEMS,
    MAX_PREVIEW_DAYS,
    MAX_PREVIEW_ITEMS,
)
from bot.pagination import DEFAULT_LIMIT, MAX_LIMIT
from models.sop import TaskStatus

PREFIX = "/admin/api"

_SOP_FORMAT = query_param("format", "json, or csv with a header row (or Accept: text/csv)",
                          {"type": "string", "enum": ["json", "csv"], "default": "json"})
_TAG_ID = {"name": "tag_id", "in": "path", "required": True,
           "description": "the WeCom tag id", "schema": {"type": "string"}}

_ADJUST = op("An operator's credit or debit of a member's points, idempotent by key",
             "adjustPoints", (201, "the ledger entry made", json_content(ref("LedgerEntry"))),
             errors=(*INPUT, "NotFound", "Conflict"), body="PointsAdjust")
_ADJUST["responses"]["200"] = {"description": "the same key again: the entry made the first "
                                              "time", "content": json_content(ref("LedgerEntry"))}

PATHS: dict[str, dict[str, Any]] = {
    "/openapi.json": {"get": op(
        "This document", "getOpenApi",
        (200, "the OpenAPI document", json_content({"type": "object"})))},
    "/channels": {
        "get": op("List channels, oldest first", "listChannels",
                  (200, "a page of channels", json_content(ref("ChannelPage"))),
                  errors=("BadRequest",),
                  parameters=(*PAGE, query_param("include_deleted", "list deleted ones too",
                                                 {"type": "boolean", "default": False}))),
        "post": op("Create a channel and its WeCom contact way", "createChannel",
                   (201, "the channel", json_content(ref("Channel"))),
                   errors=(*INPUT, "Conflict", *WECOM), body="ChannelCreate"),
    },
    "/channels/{id}": {
        "get": op("Read a channel (deleted ones too)", "getChannel",
                  (200, "the channel", json_content(ref("Channel"))), errors=("NotFound",),
                  parameters=(ID,)),
        "patch": op("Change some of a channel's fields (updates its contact way)",
                    "updateChannel", (200, "the channel", json_content(ref("Channel"))),
                    errors=(*INPUT, "NotFound", *WECOM), parameters=(ID,),
                    body="ChannelPatch"),
        "delete": op("Delete a channel's contact way; the channel's history stays",
                     "deleteChannel", (204, "deleted", None),
                     errors=("BadRequest", "NotFound", *WECOM), parameters=(ID,)),
    },
    "/channels/{id}/qr.png": {"get": op(
        "The channel's QR code as a PNG (ECC M, 4-module quiet zone)", "getChannelQr",
        (200, "the PNG", {"image/png": {"schema": {"type": "string", "format": "binary"}}}),
        errors=("BadRequest", "NotFound"),
        parameters=(ID, query_param("size", "pixels per module",
                                    {"type": "integer", "minimum": 1, "maximum": 32,
                                     "default": 10})))},
    "/channels/{id}/poster.svg": {"get": op(
        "A poster: the channel's name over its QR code, as SVG", "getChannelPoster",
        (200, "the SVG", {"image/svg+xml": {"schema": {"type": "string"}}}),
        errors=("NotFound",), parameters=(ID,))},
    "/channels/{id}/funnel": {"get": op(
        "The channel's funnel: adds, re-adds, churn and tags per day or guide",
        "getChannelFunnel",
        (200, "the report", {**json_content(ref("Funnel")),
                             "text/csv": {"schema": {"type": "string"}}}),
        errors=("BadRequest", "NotFound"),
        parameters=(
            ID,
            query_param("from", "first UTC day (default: 29 days before `to`)",
                        {"type": "string", "format": "date"}),
            query_param("to", "last UTC day (default: today)",
                        {"type": "string", "format": "date"}),
            query_param("by", "one row per", {"type": "string", "enum": ["day", "guide"],
                                              "default": "day"}),
            query_param("format", "json, or csv with a header row",
                        {"type": "string", "enum": ["json", "csv"], "default": "json"}),
        ))},
    "/tags": {
        "get": op("The corp tag mirror: groups with their tags", "listTags",
                  (200, "a page of tag groups", json_content(ref("TagGroupPage"))),
                  errors=("BadRequest",), parameters=PAGE),
        "post": op("Create a corp tag (and its group when new) in WeCom", "createTag",
                   (201, "the tag", json_content(ref("CreatedTag"))),
                   errors=(*INPUT, "Conflict", *WECOM), body="TagName"),
    },
    "/tags/sync": {"post": op(
        "Replace the mirror with WeCom's full tag list", "syncTags",
        (200, "the sync's result", json_content(ref("TagSync"))), errors=WECOM)},
    "/tags/{tag_id}": {
        "patch": op("Rename a corp tag in WeCom and the mirror", "renameTag",
                    (200, "the tag", json_content(ref("RenamedTag"))),
                    errors=(*INPUT, "NotFound", *WECOM), parameters=(_TAG_ID,),
                    body="TagRename"),
        "delete": op("Delete a corp tag in WeCom and the mirror (an emptied group goes too)",
                     "deleteTag", (204, "deleted", None),
                     errors=("NotFound", *WECOM), parameters=(_TAG_ID,)),
    },
    "/tag-rules": {
        "get": op("Tag rules, oldest first", "listTagRules",
                  (200, "a page of tag rules", json_content(ref("TagRulePage"))),
                  errors=("BadRequest",), parameters=PAGE),
        "post": op("Create a tag rule: tags every matching new contact gets", "createTagRule",
                   (201, "the rule", json_content(ref("TagRule"))),
                   errors=(*INPUT, *WECOM), body="TagRuleCreate"),
    },
    "/tag-rules/{id}": {"delete": op(
        "Delete a tag rule", "deleteTagRule", (204, "deleted", None),
        errors=("NotFound",), parameters=(ID,))},
    "/events/failed": {"get": op(
        "Inbox events whose processing failed, newest first", "listFailedEvents",
        (200, "a page of events", json_content(ref("EventPage"))), errors=("BadRequest",),
        parameters=PAGE)},
    "/events/{id}/replay": {"post": op(
        "Put a finished event back in the queue with fresh attempts", "replayEvent",
        (202, "queued; the event as it is now", json_content(ref("Event"))),
        errors=("NotFound", "Conflict"), parameters=(ID,))},
    "/groups": {"get": op(
        "List customer groups, newest first", "listGroups",
        (200, "a page of groups", json_content(ref("GroupPage"))), errors=("BadRequest",),
        parameters=(
            *PAGE,
            query_param("owner", "the owner's userid", {"type": "string"}),
            query_param("label", "groups carrying this label", {"type": "string"}),
            query_param("name_contains", "part of the name, any case", {"type": "string"}),
            query_param("status", "active, dismissed or any",
                        {"type": "string", "enum": ["any", "active", "dismissed"],
                         "default": "any"}),
        ))},
    "/groups/sync": {"post": op(
        "Full sync of every group our staff own from WeCom; unlisted ones are dismissed",
        "syncGroups", (200, "the sync's result", json_content(ref("GroupSync"))), errors=WECOM)},
    "/groups/labels": {"post": op(
        "Add and remove labels on many groups at once (all or nothing)",
        "changeGroupLabels", (200, "each group's labels now", json_content(ref("LabelledGroups"))),
        errors=INPUT, body="GroupLabelsChange")},
    "/groups/{chat_id}": {"get": op(
        "Read a group with its members (those who left too), admins and labels", "getGroup",
        (200, "the group", json_content(ref("GroupDetail"))), errors=("NotFound",),
        parameters=(CHAT_ID,))},
    "/groups/{chat_id}/labels": {"put": op(
        "Replace a group's labels", "replaceGroupLabels",
        (200, "the group's labels now", json_content(ref("LabelledGroup"))),
        errors=(*INPUT, "NotFound"), parameters=(CHAT_ID,), body="GroupLabels")},
    "/groups/join-ways": {
        "get": op("List group QR codes (join ways), oldest first", "listGroupJoinWays",
                  (200, "a page of join ways", json_content(ref("JoinWayPage"))),
                  errors=("BadRequest",), parameters=PAGE),
        "post": op("Create a group QR code (WeCom add_join_way)", "createGroupJoinWay",
                   (201, "the join way", json_content(ref("JoinWay"))),
                   errors=(*INPUT, "Conflict", *WECOM), body="JoinWayCreate"),
    },
    "/groups/join-ways/{config_id}": {
        "get": op("Read a group QR code with its join counts", "getGroupJoinWay",
                  (200, "the join way", json_content(ref("JoinWay"))), errors=("NotFound",),
                  parameters=(CONFIG_ID,)),
        "patch": op("Change some of a group QR code's fields (WeCom update_join_way)",
                    "updateGroupJoinWay", (200, "the join way", json_content(ref("JoinWay"))),
                    errors=(*INPUT, "NotFound", *WECOM), parameters=(CONFIG_ID,),
                    body="JoinWayPatch"),
        "delete": op("Delete a group QR code; the joins it brought stay recorded",
                     "deleteGroupJoinWay", (204, "deleted", None),
                     errors=("NotFound", *WECOM), parameters=(CONFIG_ID,)),
    },
    "/sop/plans": {
        "get": op("List SOP plans, oldest first", "listSopPlans",
                  (200, "a page of plans", json_content(ref("SopPlanPage"))),
                  errors=("BadRequest",),
                  parameters=(*PAGE, query_param("include_deleted", "list deleted ones too",
                                                 {"type": "boolean", "default": False}))),
        "post": op("Create a group SOP plan", "createSopPlan",
                   (201, "the plan", json_content(ref("SopPlan"))), errors=INPUT,
                   body="SopPlanCreate"),
    },
    "/sop/plans/{id}": {
        "get": op("Read a SOP plan with its live steps", "getSopPlan",
                  (200, "the plan", json_content(ref("SopPlan"))), errors=("NotFound",),
                  parameters=(ID,)),
        "patch": op("Change some of a SOP plan's fields; steps keep their ids",
                    "updateSopPlan", (200, "the plan", json_content(ref("SopPlan"))),
                    errors=(*INPUT, "NotFound"), parameters=(ID,), body="SopPlanPatch"),
        "delete": op("Stop and delete a SOP plan; its report and tasks stay readable",
                     "deleteSopPlan", (204, "deleted", None), errors=("NotFound",),
                     parameters=(ID,)),
    },
    "/sop/plans/{id}/preview": {"get": op(
        "Dry run: which groups get which step when, from now", "previewSopPlan",
        (200, "the occurrences, in due order", json_content(ref("SopPreview"))),
        errors=("BadRequest", "NotFound"),
        parameters=(ID, query_param("days", "how far ahead",
                                    {"type": "integer", "minimum": 1, "maximum": MAX_PREVIEW_DAYS,
                                     "default": DEFAULT_PREVIEW_DAYS}),
                    query_param("limit", "at most this many occurrences",
                                {"type": "integer", "minimum": 1, "maximum": MAX_PREVIEW_ITEMS,
                                 "default": DEFAULT_PREVIEW_ITEMS})))},
    "/sop/plans/{id}/report": {"get": op(
        "Per step: targeted, pushed, sent, failed, skipped, missed … and totals",
        "getSopPlanReport",
        (200, "the report", {**json_content(ref("SopReport")),
                             "text/csv": {"schema": {"type": "string"}}}),
        errors=("BadRequest", "NotFound"), parameters=(ID, _SOP_FORMAT))},
    "/sop/plans/{id}/tasks": {"get": op(
        "The plan's tasks, one row per group and occurrence", "listSopPlanTasks",
        (200, "a page of tasks (CSV: all of them)",
         {**json_content(ref("SopTaskPage")), "text/csv": {"schema": {"type": "string"}}}),
        errors=("BadRequest", "NotFound"),
        parameters=(ID, *PAGE, _SOP_FORMAT,
                    query_param("status", "only tasks in this status",
                                {"type": "string", "enum": [s.value for s in TaskStatus]}),
                    query_param("step_id", "only this step's tasks", {"type": "integer"})))},
    "/members/{id}": {"get": op(
        "A member: profile, identities (phone masked), level, points and latest ledger",
        "getMember", (200, "the member", json_content(ref("MemberDetail"))), errors=("NotFound",),
        parameters=(ID,))},
    "/points/adjust": {"post": _ADJUST},
    "/orders/import": {"post": {**op(
        "Import orders from other sales channels: points and growth once, refunds reversed",
        "importOrders", (200, "what the import did", json_content(ref("OrderImportSummary"))),
        errors=INPUT), "requestBody": IMPORT_BODY}},
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
        "paths": {PREFIX + path: item for path, item in {**PATHS, **MALL_PATHS,
                                                             **TRACE_PATHS}.items()},
        "components": _components(),
    }


def _components() -> dict[str, Any]:
    merged = components()
    merged["schemas"] = {**merged["schemas"], **GROUP_SCHEMAS, **SOP_SCHEMAS,
                         **MEMBER_SCHEMAS, **POINTS_SCHEMAS, **MALL_SCHEMAS,
                         **TRACE_SCHEMAS}
    return merged


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(document())


routes = [web.get("/openapi.json", openapi_json)]
