"""The bearer token of a request (`Authorization: Bearer <token>`), for every HTTP edge
that authenticates with one (admin tokens, member sessions)."""

from __future__ import annotations

from aiohttp import web

_SCHEME = "bearer "


def presented_token(request: web.Request) -> str:
    """The token, or "" when the header is missing or not a bearer one."""
    header = request.headers.get("Authorization", "")
    if header[: len(_SCHEME)].lower() != _SCHEME:
        return ""
    return header[len(_SCHEME):].strip()
