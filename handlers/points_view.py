"""How a ledger entry looks in JSON, to members (`GET /miniapp/api/me/points/ledger`)
and to operators (the admin API, which also sees the key, operator and member).
Datetimes are ISO 8601 with their UTC offset."""

from __future__ import annotations

from typing import Any

from models.points import PointsEntry


def entry_json(entry: PointsEntry, *, audit: bool = False) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": entry.id, "kind": entry.kind.value, "delta": entry.delta,
        "growth_delta": entry.growth_delta, "balance_after": entry.balance_after,
        "reason": entry.reason, "created_at": entry.created_at.isoformat(),
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
        "remaining": entry.remaining,
    }
    if audit:
        shown.update(member_id=entry.member_id, key=entry.key, operator=entry.operator)
    return shown
