"""The OpenAPI schemas of the group SOP routes (plans, dry run, report, tasks);
`openapi.py` merges them into the document next to its paths."""

from __future__ import annotations

from admin_api.openapi_schemas import (
    BOOLEAN,
    DATE_TIME,
    INTEGER,
    STRING,
    Schema,
    array,
    obj,
    page_of,
    ref,
)
from handlers.channels import MAX_ATTACHMENTS, MAX_TEXT_BYTES
from handlers.sop_plans import (
    ANCHORS,
    DEFAULT_TIMEZONE,
    MAX_CHAT_IDS,
    MAX_DAY_OFFSET,
    MAX_LABELS,
    MAX_NAME_CHARS,
    MAX_OWNERS,
    MAX_STEPS,
)
from handlers.sop_report import COUNT_COLUMNS
from handlers.sop_schedule import EVERY_CHOICES, HHMM_PATTERN
from models.sop import TaskStatus

_DATE: Schema = {"type": "string", "format": "date", "nullable": True}
_COUNTS: Schema = obj({name: INTEGER for name in COUNT_COLUMNS}, *COUNT_COLUMNS)

_STEP_FIELDS: dict[str, Schema] = {
    "id": {**INTEGER, "description": "an existing live step: keeps its identity and sent "
           "history; leave out for a new step"},
    "day_offset": {**INTEGER, "minimum": 0, "maximum": MAX_DAY_OFFSET,
                   "description": "days after the anchor's local date (0: that day)"},
    "anchor": {"type": "string", "enum": list(ANCHORS), "default": "created",
               "description": "with day_offset: the group's creation or its enrolment"},
    "time": {"type": "string", "pattern": f"^{HHMM_PATTERN}$",
             "description": "HH:MM in the plan's time zone, with day_offset or every"},
    "at": {"type": "string", "format": "date-time",
           "description": "once, at this moment (no UTC offset: the plan's local time)"},
    "every": {"type": "string", "enum": list(EVERY_CHOICES),
              "description": "recurring, once per local date, at time"},
    "text": {**STRING, "description": f"at most {MAX_TEXT_BYTES} bytes of UTF-8; "
             "placeholders {group_name} and {owner_name} only"},
    "attachments": {**array(ref("Attachment")), "maxItems": MAX_ATTACHMENTS,
                    "description": "image {media_id|pic_url}, link {title, url, picurl?, "
                    "desc?}, miniprogram {title, pic_media_id, appid, page}"},
}
_PLAN_FIELDS: dict[str, Schema] = {
    "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS},
    "target": ref("SopTarget"),
    "timezone": {**STRING, "default": DEFAULT_TIMEZONE, "description": "an IANA name"},
    "steps": {**array(ref("SopStepInput")), "minItems": 1, "maxItems": MAX_STEPS,
              "description": "in order; on PATCH the whole list: live steps left out "
              "are retired"},
    "enabled": {**BOOLEAN, "default": True},
}

SOP_SCHEMAS: dict[str, Schema] = {
    "SopTarget": obj({
        "owners": {**array(STRING), "maxItems": MAX_OWNERS},
        "name_contains": {**STRING, "description": "any case"},
        "labels": {**array(STRING), "maxItems": MAX_LABELS,
                   "description": "groups carrying at least one of them"},
        "chat_ids": {**array(STRING), "maxItems": MAX_CHAT_IDS},
        "created_from": {**_DATE, "description": "local date, included"},
        "created_until": {**_DATE, "description": "local date, included"},
    }, additionalProperties=False,
        description="every non-empty field must match; an empty one means any"),
    "SopStepInput": obj(_STEP_FIELDS, "text", additionalProperties=False,
                        description="exactly one of day_offset (+ anchor), at, every"),
    "SopStep": obj(_STEP_FIELDS, "id", "text", "attachments",
                   description="as given: the fields of its kind of schedule"),
    "SopPlanCreate": obj(_PLAN_FIELDS, "name", "target", "steps",
                         additionalProperties=False),
    "SopPlanPatch": obj(_PLAN_FIELDS, additionalProperties=False,
                        description="only the fields to change; target replaces the "
                        "whole target"),
    "SopPlan": obj({
        "id": INTEGER, "name": STRING, "target": ref("SopTarget"), "timezone": STRING,
        "enabled": BOOLEAN, "steps": array(ref("SopStep")), "created_at": DATE_TIME,
        "updated_at": DATE_TIME, "deleted_at": DATE_TIME,
    }, "id", "name", "target", "timezone", "enabled", "steps"),
    "SopPlanPage": page_of(ref("SopPlan")),
    "SopPreview": obj({
        "plan_id": INTEGER, "enabled": BOOLEAN, "timezone": STRING,
        "from": DATE_TIME, "until": DATE_TIME,
        "groups": {**INTEGER, "description": "groups the target matches now"},
        "truncated": {**BOOLEAN, "description": "more occurrences than `limit`"},
        "items": array(obj({
            "chat_id": STRING, "group_name": STRING, "owner": STRING, "step_id": INTEGER,
            "occurrence": {**STRING, "description": '"once", or the local date'},
            "due_at": DATE_TIME,
        }, "chat_id", "group_name", "owner", "step_id", "occurrence", "due_at")),
    }, "plan_id", "groups", "truncated", "items"),
    "SopReport": obj({
        "plan_id": INTEGER, "name": STRING,
        "steps": array({"allOf": [obj({
            "step_id": INTEGER, "position": INTEGER, "schedule": STRING, "when": STRING,
            "retired_at": DATE_TIME}, "step_id", "schedule", "when"), _COUNTS]}),
        "totals": _COUNTS,
    }, "plan_id", "steps", "totals",
        description="pushed: got a msgid; awaiting_confirmation: task status pushed"),
    "SopTask": obj({
        "chat_id": STRING, "group_name": STRING, "owner": STRING, "step_id": INTEGER,
        "occurrence": STRING, "due_at": DATE_TIME,
        "status": {"type": "string", "enum": [s.value for s in TaskStatus]},
        "msgid": STRING, "error": STRING,
    }, "chat_id", "step_id", "occurrence", "due_at", "status"),
    "SopTaskPage": page_of(ref("SopTask")),
}
