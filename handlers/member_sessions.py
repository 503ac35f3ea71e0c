"""Mini-program sessions: an opaque random token for the client, only its SHA-256 kept
server-side with the member, expiry and revocation.

The token is `secrets.token_urlsafe(32)` (256 random bits), so a plain hash is enough
to make a leaked table useless (no salt or slow hash needed: nothing to guess).
`authenticate` is the hot path of every member request but GET /me's cache hits: one
primary-key lookup joined to the member, so a revoked or expired session is refused at
once. A revocation evicts the member's cached answers (handlers/member_cache.py).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime, timedelta

from tortoise import connections

from handlers.member_cache import member_changed
from models.members import Member, MemberSession, MemberStatus
from models.upsert import placeholders

__all__ = ["authenticate", "open_session", "revoke", "token_hash"]

log = logging.getLogger("scrm.members")

# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
MAX_TOKEN_CHARS = 128
MAX_CLIENT_CHARS = 128


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


async def open_session(member_id: int, *, now: datetime, days: int, client: str = "",
                       session_key_cipher: str = "") -> str:
    """A new session for the member; returns the token (shown once, never stored)."""
    token = secrets.token_urlsafe(32)
    await MemberSession.create(
        token_hash=token_hash(token), member_id=member_id, created_at=now,
        expires_at=now + timedelta(days=days), client=client[:MAX_CLIENT_CHARS],
        session_key_cipher=session_key_cipher)
    log.info("member.session_opened member=%s", member_id)
    return token


async def authenticate(token: str, now: datetime) -> MemberSession | None:
    """The live session the token opens, with its (active) member loaded as
    `session.member`; None for an unknown, expired or revoked token, or a member who
    is no longer active."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    # One plain SELECT: tortoise's query building took 4/5 of this lookup's time and
    # held GET /me under 1,000 requests/s (bench/member_api.py).
    conn = connections.get("default")
    rows = await conn.execute_query_dict(
        _authenticate_sql(conn.capabilities.dialect),
        [token_hash(token), now.astimezone(UTC), MemberStatus.ACTIVE.value])
    if not rows:
        return None
    row = rows[0]
    session = MemberSession._init_from_db(**{c: row[c] for c in MemberSession._meta.db_fields})
    member = Member._init_from_db(**{c: row[f"member.{c}"] for c in Member._meta.db_fields})
    object.__setattr__(session, "_member", member)  # as select_related("member") sets it
    return session


_AUTHENTICATE_SQL: dict[str, str] = {}


def _authenticate_sql(dialect: str) -> str:
    """The session's columns and its member's (as "member.<column>") for a token hash,
    a time the session must not have expired at, and the member's status."""
    sql = _AUTHENTICATE_SQL.get(dialect)
    if sql is None:
        token, now, status = placeholders(dialect, 0, 3)
        sql = _AUTHENTICATE_SQL[dialect] = (
            "SELECT " + ", ".join(f's."{c}"' for c in MemberSession._meta.db_fields) + ", "
            + ", ".join(f'm."{c}" AS "member.{c}"' for c in Member._meta.db_fields)
            + f' FROM "{MemberSession._meta.db_table}" s JOIN "{Member._meta.db_table}" m'
            f' ON m."id" = s."member_id" WHERE s."token_hash" = {token}'
            f' AND s."revoked_at" IS NULL AND s."expires_at" > {now} AND m."status" = {status}')
    return sql


async def revoke(session_hash: str, now: datetime) -> bool:
    live = MemberSession.filter(token_hash=session_hash, revoked_at=None)
    member_ids = [int(row["member_id"]) for row in await live.values("member_id")]
    revoked = await live.update(revoked_at=now)
    await member_changed(*member_ids)
    return bool(revoked)
