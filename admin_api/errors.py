"""The admin API's one error shape, `{"error": {"code", "message", ...}}`, and the one
middleware that produces it.

Routes raise: `ApiError` (and its subclasses) for what the edge itself refuses, the
domain's `ChannelInputError` and `GroupInputError` for bad channel or group input,
`WeComError`/`WeComUnavailable` when WeCom refuses or cannot be reached. The
middleware maps each to its status:

| raised | status | code |
| --- | --- | --- |
| `InputError`, `ChannelInputError`, `GroupInputError` | 400 | `invalid_input` (+ `field`) |
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
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from tortoise.exceptions import IntegrityError

from bot.wecom.errors import WeComError, WeComUnavailable
from handlers.channels import ChannelInputError
from handlers.group_input import GroupInputError

log = logging.getLogger("scrm.admin")


class ApiError(Exception):
    """A refusal with its HTTP status, error code and extra members of the error object."""

    status = 400
    code = "bad_request"
    headers: dict[str, str] = {}

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def payload(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


class InputError(ApiError):
    """Bad input to the edge (body, query, path), naming the field at fault."""

    code = "invalid_input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field=field)


class Unauthorized(ApiError):
    """No bearer token, or one that `[admin] tokens` does not hold."""

    status = 401
    code = "unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="admin"'}


class NotFound(ApiError):
    """No such id, or a channel that was deleted where a live one is needed."""

    status = 404
    code = "not_found"


class Conflict(ApiError):
    """The thing exists already, or is not in a state for what was asked."""

    status = 409
    code = "conflict"


class BodyTooLarge(ApiError):
    """A request body over the admin API's limit."""

    status = 413
    code = "body_too_large"


def _json(status: int, payload: dict[str, Any], **headers: str) -> web.Response:
    return web.json_response(payload, status=status, headers=headers or None)


def _from_http_exception(exc: web.HTTPException) -> web.Response:
    """aiohttp's own refusals (no route, wrong method) in our shape."""
    codes = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
    code = codes.get(exc.status, "bad_request" if exc.status < 500 else "internal_error")
    headers = {}
    if isinstance(exc, web.HTTPMethodNotAllowed):
        headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
    return _json(exc.status, {"error": {"code": code, "message": exc.reason}}, **headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The outermost middleware of the admin app: every failure leaves as JSON."""
    try:
        return await handler(request)
    except ApiError as exc:
        return _json(exc.status, exc.payload(), **exc.headers)
    except (ChannelInputError, GroupInputError) as exc:
        return _json(400, InputError(exc.field, exc.message).payload())
    except WeComError as exc:
        log.warning("admin.wecom_error %s %s api=%s errcode=%s",
                    request.method, request.path, exc.api, exc.errcode)
        return _json(502, {"error": {"code": "wecom_error", "message": str(exc),
                                     "errcode": exc.errcode, "errmsg": exc.errmsg}})
    except WeComUnavailable as exc:
        log.warning("admin.wecom_unavailable %s %s api=%s", request.method, request.path,
                    exc.api)
        return _json(503, {"error": {"code": "wecom_unavailable", "message": str(exc)}})
    except IntegrityError:
        log.warning("admin.conflict %s %s", request.method, request.path)
        return _json(409, Conflict("a concurrent change made this a duplicate").payload())
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _from_http_exception(exc)
    except Exception:
        # The traceback names code, not the request's headers or body: no secrets.
        log.exception("admin.internal_error %s %s", request.method, request.path)
        return _json(500, {"error": {"code": "internal_error",
                                     "message": "internal error; see the server log"}})
