"""The OpenAPI schemas and path parameters of the customer group routes (groups, their
labels, group QR codes); `openapi.py` merges them into the document."""

from __future__ import annotations

from admin_api.openapi_schemas import (
    BOOLEAN,
    DATE_TIME,
    INTEGER,
    NULLABLE_INTEGER,
    STRING,
    Schema,
    array,
    obj,
    page_of,
    ref,
)
from bot.wecom.group_chat import JOIN_WAY_MAX_CHATS
from handlers.channels import MAX_STATE_CHARS
from handlers.group_join_ways import (
    MAX_NAME_CHARS,
    MAX_REMARK_CHARS,
    MAX_ROOM_BASE_NAME_CHARS,
)
from handlers.group_labels import MAX_BULK_GROUPS, MAX_LABEL_CHARS, MAX_LABELS_PER_GROUP
from models.groups import GroupStatus

_LABEL: Schema = {"type": "string", "minLength": 1, "maxLength": MAX_LABEL_CHARS,
                  "description": "trimmed"}

_JOIN_WAY_FIELDS: dict[str, Schema] = {
    "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS},
    "chat_ids": {**array(STRING), "minItems": 1, "maxItems": JOIN_WAY_MAX_CHATS,
                 "description": "active groups we hold"},
    "state": {"type": "string", "maxLength": MAX_STATE_CHARS,
              "description": "unique; default: a fresh random state; never changes"},
    "remark": {"type": "string", "maxLength": MAX_REMARK_CHARS,
               "description": "WeCom's remark (default: the name, cut to 30)"},
    "auto_create_room": {**BOOLEAN, "default": True,
                         "description": "WeCom creates a new group when these fill"},
    "room_base_name": {"type": "string", "maxLength": MAX_ROOM_BASE_NAME_CHARS},
    "room_base_id": {**NULLABLE_INTEGER, "minimum": 0},
    "tag_ids": {**array(STRING), "description": "corp tags (the mirror's ids) customers "
                "who join get through their follow relation"},
}

GROUP_SCHEMAS: dict[str, Schema] = {
    "Group": obj({
        "chat_id": STRING, "name": STRING, "owner": STRING,
        "owner_status": {**INTEGER, "description": "0 normal, 1 owner left, 2 inheriting, "
                         "3 inherited"},
        "status": {"type": "string", "enum": [s.value for s in GroupStatus]},
        "member_count": INTEGER, "labels": array(STRING), "created_at": DATE_TIME,
        "synced_at": DATE_TIME, "dismissed_at": DATE_TIME,
    }, "chat_id", "name", "owner", "status", "member_count", "labels"),
    "GroupPage": page_of(ref("Group")),
    "GroupMember": obj({
        "userid": STRING, "type": {"type": "string", "enum": ["staff", "customer"]},
        "name": STRING, "group_nickname": STRING, "join_time": DATE_TIME,
        "join_scene": {**NULLABLE_INTEGER, "description": "1 direct invite, 2 invite "
                       "link, 3 group QR code (0: invited, as an event reports it)"},
        "state": STRING, "unionid": STRING, "invitor": STRING,
        "left_at": {**DATE_TIME, "description": "set once the member left"},
        "quit_scene": {**NULLABLE_INTEGER, "description": "0 left, 1 removed"},
    }, "userid", "type", "join_time", "left_at"),
    "GroupDetail": {"allOf": [ref("Group"), obj({
        "notice": STRING, "admins": array(STRING), "member_version": STRING,
        "members": array(ref("GroupMember")),
    }, "notice", "admins", "members")]},
    "GroupLabels": obj({"labels": {**array(_LABEL), "maxItems": MAX_LABELS_PER_GROUP}},
                       "labels", additionalProperties=False),
    "GroupLabelsChange": obj({
        "chat_ids": {**array(STRING), "minItems": 1, "maxItems": MAX_BULK_GROUPS},
        "add": array(_LABEL), "remove": array(_LABEL),
    }, "chat_ids", additionalProperties=False),
    "LabelledGroup": obj({"chat_id": STRING, "labels": array(STRING)}, "chat_id", "labels"),
    "LabelledGroups": obj({"groups": array(ref("LabelledGroup"))}, "groups"),
    "GroupSync": obj({
        "groups": {**INTEGER, "description": "groups stored"}, "members": INTEGER,
        "dismissed": {**INTEGER, "description": "groups we held that WeCom no longer lists"},
        "failed": {**INTEGER, "description": "listed groups that could not be fetched"},
        "joins": {**INTEGER, "description": "group QR code joins recorded"},
    }, "groups", "members", "dismissed", "failed", "joins"),
    "JoinWayCreate": obj(_JOIN_WAY_FIELDS, "name", "chat_ids", additionalProperties=False),
    "JoinWayPatch": obj(_JOIN_WAY_FIELDS, additionalProperties=False,
                        description="only the fields to change; `state` must stay as is"),
    "JoinWay": obj({
        **{k: v for k, v in _JOIN_WAY_FIELDS.items() if k != "tag_ids"},
        "config_id": STRING, "qr_code": STRING,
        "state": STRING, "remark": STRING, "room_base_id": NULLABLE_INTEGER,
        "tags": array(ref("ChannelTag")),
        "joins": obj({"total": INTEGER, "tagged": INTEGER}, "total", "tagged"),
        "created_at": DATE_TIME, "updated_at": DATE_TIME,
    }, "config_id", "name", "state", "qr_code", "chat_ids", "auto_create_room", "tags",
        "joins"),
    "JoinWayPage": page_of(ref("JoinWay")),
}

CHAT_ID: Schema = {"name": "chat_id", "in": "path", "required": True,
                   "description": "the WeCom chat id", "schema": STRING}
CONFIG_ID: Schema = {"name": "config_id", "in": "path", "required": True,
                     "description": "the join way's WeCom config_id", "schema": STRING}
