"""The OpenAPI schemas of the member routes; `openapi.py` merges them into the
document."""

from __future__ import annotations

from admin_api.openapi_schemas import (
    DATE_TIME,
    INTEGER,
    NULLABLE_INTEGER,
    NULLABLE_STRING,
    STRING,
    Schema,
    array,
    obj,
    ref,
)
from models.members import IdentityKind, MemberStatus
from models.points import EntryKind

MEMBER_SCHEMAS: dict[str, Schema] = {
    "MemberIdentity": obj({
        "kind": {**STRING, "enum": [k.value for k in IdentityKind]},
        "value": {**STRING, "description": "the id; for `phone` the masked number"},
        "created_at": DATE_TIME,
    }, "kind", "value"),
    "LedgerEntry": obj({
        "id": INTEGER, "member_id": INTEGER,
        "kind": {**STRING, "enum": [k.value for k in EntryKind]},
        "key": {**STRING, "description": "the movement's unique business key"},
        "delta": INTEGER, "growth_delta": INTEGER, "balance_after": INTEGER,
        "reason": STRING, "operator": STRING, "created_at": DATE_TIME,
        "expires_at": DATE_TIME, "remaining": INTEGER,
    }, "id", "kind", "key", "delta", "balance_after", "created_at"),
    "LevelChange": obj({"from": INTEGER, "to": INTEGER, "growth": INTEGER,
                        "reason": STRING, "at": DATE_TIME}, "from", "to", "growth", "at"),
    "MemberDetail": obj({
        "id": INTEGER,
        "status": {**STRING, "enum": [s.value for s in MemberStatus]},
        "merged_into": {**NULLABLE_INTEGER, "description": "the survivor of a merge"},
        "nickname": STRING, "avatar": STRING,
        "birthday": {"type": "string", "format": "date", "nullable": True},
        "phone": {**NULLABLE_STRING, "description": "masked, e.g. +86138****8000"},
        "consents": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "guide": {**NULLABLE_STRING, "description": "the guide's WeCom userid"},
        "level": {**STRING, "description": "the level's name, e.g. V2"},
        "level_number": INTEGER, "growth": INTEGER,
        "points": {**INTEGER, "description": "the balance"},
        "created_at": DATE_TIME, "erased_at": DATE_TIME,
        "identities": array(ref("MemberIdentity")),
        "ledger": {**array(ref("LedgerEntry")), "description": "the latest entries, newest "
                   "first"},
        "ledger_total": {**INTEGER, "description": "all of the member's entries"},
        "level_changes": {**array(ref("LevelChange")), "description": "the latest, newest "
                          "first"},
    }, "id", "status", "level", "growth", "points", "identities", "ledger"),
}
