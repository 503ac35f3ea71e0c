"""The `components` of the admin API's OpenAPI document: schemas, shared parameters and
error responses. `openapi.py` holds the paths that refer to them."""

from __future__ import annotations

from typing import Any

from admin_api.json_body import MAX_BODY_BYTES
from bot.pagination import DEFAULT_LIMIT, MAX_LIMIT
from handlers.channels import MAX_ATTACHMENTS, MAX_STATE_CHARS, MAX_TEXT_BYTES
from handlers.tags import MAX_NAME_CHARS
from models.channels import ChannelKind

Schema = dict[str, Any]


def ref(name: str, kind: str = "schemas") -> Schema:
    return {"$ref": f"#/components/{kind}/{name}"}


def obj(properties: dict[str, Schema], *required: str, **extra: Any) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = list(required)
    return schema


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def page_of(item: Schema) -> Schema:
    return obj({"items": array(item), "total": {"type": "integer"},
                "limit": {"type": "integer"}, "offset": {"type": "integer"}},
               "items", "total", "limit", "offset")


STRING: Schema = {"type": "string"}
NULLABLE_STRING: Schema = {"type": "string", "nullable": True}
NULLABLE_INTEGER: Schema = {"type": "integer", "nullable": True}
DATE_TIME: Schema = {"type": "string", "format": "date-time", "nullable": True}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}

_TAG_NAME: Schema = {"type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS}
_KINDS = [k.value for k in ChannelKind if k != ChannelKind.ORGANIC]

_CHANNEL_FIELDS: dict[str, Schema] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 64},
    "kind": {"type": "string", "enum": _KINDS},
    "guides": {**array(STRING), "minItems": 1, "maxItems": 100,
               "description": "userids of members with customer contact"},
    "tags": array(ref("TagName")),
    "welcome": ref("WelcomeInput"),
    "skip_verify": BOOLEAN,
    "daily_caps": {"type": "object", "additionalProperties": {"type": "integer",
                                                               "minimum": 1}},
    "backup_guide": STRING,
    "remark_template": {"type": "string", "maxLength": 64},
    "active_from": DATE_TIME,
    "active_until": DATE_TIME,
    "state": {"type": "string", "maxLength": MAX_STATE_CHARS,
              "description": "default: a fresh random state; never changes afterwards"},
    "create_missing_tags": {**BOOLEAN, "description": "create unknown tags in WeCom"},
}

SCHEMAS: dict[str, Schema] = {
    "Error": obj({"error": obj({
        "code": STRING, "message": STRING,
        "field": {**STRING, "description": "the input at fault (400 invalid_input)"},
        "errcode": {**INTEGER, "description": "WeCom's errcode (502 wecom_error)"},
        "errmsg": {**STRING, "description": "WeCom's errmsg (502 wecom_error)"},
    }, "code", "message")}, "error"),
    "TagName": obj({"group": _TAG_NAME, "name": _TAG_NAME}, "group", "name",
                   additionalProperties=False),
    "ChannelTag": obj({"group": STRING, "name": STRING, "id": STRING}, "group", "name", "id"),
    "Attachment": {"type": "object", "description": "a send_welcome_msg attachment: "
                   "{msgtype: image|link|miniprogram|video|file, <msgtype>: {...}}"},
    "WelcomeInput": obj({"text": {**STRING, "description": f"at most {MAX_TEXT_BYTES} "
                                  "bytes of UTF-8"},
                         "attachments": {**array(ref("Attachment")),
                                         "maxItems": MAX_ATTACHMENTS}},
                        additionalProperties=False),
    "Welcome": obj({"text": STRING, "attachments": array(ref("Attachment"))},
                   "text", "attachments"),
    "ChannelCreate": obj(_CHANNEL_FIELDS, "name", "kind", "guides",
                         additionalProperties=False),
    "ChannelPatch": obj(_CHANNEL_FIELDS, additionalProperties=False,
                        description="only the fields to change; `state` must stay as is"),
    "Channel": obj({
        "id": INTEGER, "name": STRING, "kind": STRING, "state": STRING,
        "config_id": NULLABLE_STRING, "qr_code": STRING, "guides": array(STRING),
        "current_guides": array(STRING),
        "daily_caps": {"type": "object", "additionalProperties": INTEGER},
        "backup_guide": STRING, "skip_verify": BOOLEAN, "tags": array(ref("ChannelTag")),
        "welcome": ref("Welcome"), "remark_template": STRING, "active_from": DATE_TIME,
        "active_until": DATE_TIME, "is_default": BOOLEAN, "created_at": DATE_TIME,
        "updated_at": DATE_TIME, "deleted_at": DATE_TIME,
    }, "id", "name", "kind", "state", "config_id", "qr_code", "guides", "current_guides",
        "tags", "welcome", "skip_verify"),
    "ChannelPage": page_of(ref("Channel")),
    "TagGroup": obj({"group_id": STRING, "group": STRING,
                     "tags": array(obj({"id": STRING, "name": STRING}, "id", "name"))},
                    "group_id", "group", "tags"),
    "TagGroupPage": page_of(ref("TagGroup")),
    "CreatedTag": obj({"id": STRING, "group": STRING, "name": STRING}, "id", "group", "name"),
    "TagRename": obj({"name": _TAG_NAME}, "name", additionalProperties=False),
    "RenamedTag": obj({"id": STRING, "name": STRING}, "id", "name"),
    "TagRuleCreate": obj({
        "name": STRING, "tags": array(ref("TagName")),
        "channel_kind": {**STRING, "description": "a channel kind, or empty for any"},
        "state_prefix": {**STRING, "description": "adds whose state starts with this"},
        "add_way": {**INTEGER, "nullable": True, "description": "WeCom's add_way, or any"},
        "customer_type": {**INTEGER, "nullable": True,
                          "description": "1 WeChat user, 2 WeCom user, or any"},
        "create_missing_tags": {**BOOLEAN, "description": "create unknown tags in WeCom"},
    }, "name", "tags", additionalProperties=False),
    "TagRule": obj({
        "id": INTEGER, "name": STRING, "tags": array(ref("ChannelTag")),
        "channel_kind": STRING, "state_prefix": STRING,
        "add_way": {**INTEGER, "nullable": True},
        "customer_type": {**INTEGER, "nullable": True},
    }, "id", "name", "tags", "channel_kind", "state_prefix", "add_way", "customer_type"),
    "TagRulePage": page_of(ref("TagRule")),
    "TagSync": obj({"tags": {**INTEGER, "description": "tags in the mirror now"}}, "tags"),
    "Event": obj({"id": INTEGER, "event": STRING, "change_type": STRING, "status": STRING,
                  "attempts": INTEGER, "last_error": NULLABLE_STRING,
                  "received_at": DATE_TIME, "processed_at": DATE_TIME},
                 "id", "event", "change_type", "attempts", "last_error", "received_at"),
    "EventPage": page_of(ref("Event")),
    "FunnelRow": obj({
        "day": {"type": "string", "format": "date", "nullable": True},
        "guide": NULLABLE_STRING, "scans": {**INTEGER, "nullable": True},
        "adds": INTEGER, "re_adds": INTEGER, "deleted_1d": INTEGER, "deleted_7d": INTEGER,
        "deleted_30d": INTEGER, "net_adds": INTEGER,
        "tags": {"type": "object", "additionalProperties": INTEGER,
                 "description": '"group/name" → customers carrying the tag'},
    }, "day", "guide", "scans", "adds", "re_adds", "deleted_1d", "deleted_7d",
        "deleted_30d", "net_adds", "tags"),
    "Funnel": obj({"channel_id": INTEGER, "from": {"type": "string", "format": "date"},
                   "to": {"type": "string", "format": "date"},
                   "by": {"type": "string", "enum": ["day", "guide"]},
                   "rows": array(ref("FunnelRow"))},
                  "channel_id", "from", "to", "by", "rows"),
}

PARAMETERS: dict[str, Schema] = {
    "Limit": {"name": "limit", "in": "query", "description": "page size",
              "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                         "default": DEFAULT_LIMIT}},
    "Offset": {"name": "offset", "in": "query", "description": "items to skip",
               "schema": {"type": "integer", "minimum": 0, "default": 0}},
    "Id": {"name": "id", "in": "path", "required": True,
           "schema": {"type": "integer", "minimum": 1}},
}

_ERRORS = {
    "BadRequest": "invalid_input: bad JSON, a wrong type, or a value the rules refuse; "
                  "`field` names it",
    "Unauthorized": "unauthorized: no bearer token, or an unknown one",
    "NotFound": "not_found: no such id, or the channel was deleted",
    "Conflict": "conflict: the thing exists already, or is not in a state to do that",
    "TooLarge": f"body_too_large: a body over {MAX_BODY_BYTES // 1024} KiB",
    "WeComError": "wecom_error: WeCom refused the call; `errcode` and `errmsg` are WeCom's",
    "WeComUnavailable": "wecom_unavailable: WeCom could not be reached",
    "Internal": "internal_error: an unexpected failure, logged with its traceback",
}

RESPONSES: dict[str, Schema] = {
    name: {"description": text, "content": {"application/json": {"schema": ref("Error")}}}
    for name, text in _ERRORS.items()
}
ERROR_STATUS = {"BadRequest": "400", "Unauthorized": "401", "NotFound": "404",
                "Conflict": "409", "TooLarge": "413", "WeComError": "502",
                "WeComUnavailable": "503", "Internal": "500"}


def components() -> dict[str, Any]:
    return {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "a token from [admin] tokens"}},
        "schemas": SCHEMAS,
        "parameters": PARAMETERS,
        "responses": RESPONSES,
    }
