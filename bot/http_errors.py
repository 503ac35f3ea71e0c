"""The one JSON error shape of every HTTP edge (`/admin/api/`, `/miniapp/api/`),
`{"error": {"code", "message", ...}}`, and the middleware factory that produces it.

Routes raise: an `ApiError` subclass for what the edge itself refuses, or a domain
exception the edge's `translate` function turns into one. The middleware maps the rest:

| raised | status | code |
| --- | --- | --- |
| `ApiError` (and what `translate` returns) | its own | its own |
| a unique constraint (two writers at once) | 409 | `conflict` |
| an unknown path / a method the path lacks | 404 / 405 | `not_found` / `method_not_allowed` |
| aiohttp's body limit | 413 | `body_too_large` |
| anything else | 500 | `internal_error` (logged with its traceback) |

Each edge lives in its own module (admin_api/errors.py, miniapp_api/errors.py) and adds
its own refusals and translations; nothing here knows a domain.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from tortoise.exceptions import IntegrityError

Translate = Callable[[web.Request, Exception], "ApiError | None"]


class ApiError(Exception):
    """A refusal with its HTTP status, error code and extra members of the error object.
    Subclasses fix the status and code of refusals raised in several places; a one-off
    (e.g. an upstream error mapped in one spot) gives them to the constructor."""

    status = 400
    code = "bad_request"
    headers: dict[str, str] = {}

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def payload(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


class InputError(ApiError):
    """Bad input to the edge (body, query, path), naming the field at fault."""

    code = "invalid_input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field=field)


class Unauthorized(ApiError):
    """No bearer token, or one the edge does not accept; subclasses name their realm."""

    status = 401
    code = "unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    """The thing exists already, or is not in a state for what was asked."""

    status = 409
    code = "conflict"


class BodyTooLarge(ApiError):
    status = 413
    code = "body_too_large"


def error_response(exc: ApiError) -> web.Response:
    return web.json_response(exc.payload(), status=exc.status, headers=exc.headers or None)


def _from_http_exception(exc: web.HTTPException) -> web.Response:
    """aiohttp's own refusals (no route, wrong method, body limit) in our shape."""
    codes = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
    code = codes.get(exc.status, "bad_request" if exc.status < 500 else "internal_error")
    headers = {}
    if isinstance(exc, web.HTTPMethodNotAllowed):
        headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
    return web.json_response({"error": {"code": code, "message": exc.reason}},
                             status=exc.status, headers=headers or None)


def error_middleware(edge: str, translate: Translate | None = None) -> Middleware:
    """The outermost middleware of an edge's app: every failure leaves as JSON. Log
    lines start with `edge` (e.g. `admin.internal_error`)."""
    log = logging.getLogger(f"scrm.{edge}")

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return error_response(exc)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return _from_http_exception(exc)
        except Exception as exc:
            translated = translate(request, exc) if translate is not None else None
            if translated is not None:
                return error_response(translated)
            if isinstance(exc, IntegrityError):
                log.warning("%s.conflict %s %s", edge, request.method, request.path)
                return error_response(Conflict("a concurrent change made this a duplicate"))
            # The traceback names code, not the request's headers or body: no secrets.
            log.exception("%s.internal_error %s %s", edge, request.method, request.path)
            return web.json_response({"error": {"code": "internal_error",
                                                "message": "internal error; see the server log"}},
                                     status=500)

    return middleware
