"""The admin API's errors: the shared JSON error shape and middleware (bot.http_errors)
with what only this edge refuses or maps.

Routes raise: `ApiError` (and its subclasses) for what the edge itself refuses, the
domain's `DomainInputError`s (bad channel, group or plan input),
`WeComError`/`WeComUnavailable` when WeCom refuses or cannot be reached. The
middleware maps each to its status:

| raised | status | code |
| --- | --- | --- |
| `InputError`, `DomainInputError` | 400 | `invalid_input` (+ `field`) |
| `ApiError(401)` | 401 | `unauthorized` |
| `NotFound`, an unknown path | 404 | `not_found` |
| a method the path lacks | 405 | `method_not_allowed` |
| `Conflict`, a unique constraint (two writers at once) | 409 | `conflict` |
| `BodyTooLarge` | 413 | `body_too_large` |
| `WeComError` | 502 | `wecom_error` (+ `errcode`, `errmsg`) |
| `WeComUnavailable` | 503 | `wecom_unavailable` |
| anything else | 500 | `internal_error` (logged with its traceback) |
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot import http_errors
from bot.http_errors import ApiError, BodyTooLarge, Conflict, InputError, NotFound
from bot.wecom.errors import WeComError, WeComUnavailable
from handlers.input_error import DomainInputError

__all__ = ["ApiError", "BodyTooLarge", "Conflict", "InputError", "NotFound", "Unauthorized",
           "error_middleware"]

log = logging.getLogger("scrm.admin")


class Unauthorized(http_errors.Unauthorized):
    """No bearer token, or one that `[admin] tokens` does not hold."""

    headers = {"WWW-Authenticate": 'Bearer realm="admin"'}


def _translate(request: web.Request, exc: Exception) -> ApiError | None:
    if isinstance(exc, DomainInputError):
        return InputError(exc.field, exc.message)
    if isinstance(exc, WeComError):
        log.warning("admin.wecom_error %s %s api=%s errcode=%s",
                    request.method, request.path, exc.api, exc.errcode)
        return ApiError(str(exc), status=502, code="wecom_error", errcode=exc.errcode,
                        errmsg=exc.errmsg)
    if isinstance(exc, WeComUnavailable):
        log.warning("admin.wecom_unavailable %s %s api=%s", request.method, request.path,
                    exc.api)
        return ApiError(str(exc), status=503, code="wecom_unavailable")
    return None


error_middleware = http_errors.error_middleware("admin", _translate)
