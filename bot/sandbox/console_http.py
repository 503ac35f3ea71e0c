"""Console plumbing shared by the /sandbox/ route modules: reading and checking JSON
bodies, the error middleware, and access to the app's sandbox objects.

Every console error answers `{"error": "...", "detail": "..."}` with 400 (bad_request,
conflict) or 404 (not_found). Handlers raise; they never build error answers.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.sandbox.delivery import DELIVERER, Deliverer
from bot.sandbox.envelope import CallbackEvent
from bot.sandbox.errors import ConsoleError, NotFound
from bot.sandbox.state import STATE, SandboxState

_REQUIRED = object()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    error: ConsoleError
    try:
        return await handler(request)
    except ConsoleError as exc:
        error = exc
    except web.HTTPNotFound:
        error = NotFound(f"no console route {request.method} {request.path}")
    except web.HTTPMethodNotAllowed as exc:
        allowed = ", ".join(sorted(exc.allowed_methods))
        error = ConsoleError(f"{request.method} {request.path}: allowed {allowed}")
    return web.json_response(error.payload(), status=error.status)


def state_of(request: web.Request) -> SandboxState:
    return request.config_dict[STATE]


def deliverer_of(request: web.Request) -> Deliverer:
    return request.config_dict[DELIVERER]


class Body:
    """A console request's JSON object, read with typed, checked accessors. An accessor
    called without a default makes the field required; a missing required field or a
    wrong type is a 400 naming the field."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def _get(self, name: str, kind: type | tuple[type, ...], default: Any) -> Any:
        if name not in self.data or self.data[name] is None:
            if default is _REQUIRED:
                raise ConsoleError(f"field {name!r} is required")
            return default
        value = self.data[name]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise ConsoleError(f"field {name!r} has the wrong type")
        return value

    def text(self, name: str, default: Any = None) -> str:
        return str(self._get(name, str, _REQUIRED if default is None else default))

    def integer(self, name: str, default: int | None = None) -> int:
        return int(self._get(name, int, _REQUIRED if default is None else default))

    def number(self, name: str, default: float | None = None) -> float:
        return float(self._get(name, (int, float), _REQUIRED if default is None else default))

    def flag(self, name: str, default: bool) -> bool:
        return bool(self._get(name, bool, default))

    def texts(self, name: str) -> list[str]:
        """A list of strings, [] when absent."""
        values = self._get(name, list, [])
        if not all(isinstance(v, str) for v in values):
            raise ConsoleError(f"field {name!r} must be a list of strings")
        return list(values)

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    @property
    def wait(self) -> bool:
        """`"wait": false` delivers the callback in the background."""
        return self.flag("wait", True)


async def read_body(request: web.Request) -> Body:
    raw = await request.read()
    if not raw.strip():
        return Body({})
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ConsoleError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ConsoleError("the body must be a JSON object")
    return Body(data)


async def fired(request: web.Request, event: CallbackEvent, wait: bool,
                **extra: Any) -> dict[str, Any]:
    """Deliver the callback a console action causes; the action's own fields plus the
    delivery record (still `pending` when `wait` is false)."""
    delivery = await deliverer_of(request).send_event(event, wait=wait)
    return {**extra, "delivery": delivery.to_json()}


async def fire(request: web.Request, event: CallbackEvent, wait: bool,
               **extra: Any) -> web.Response:
    """`fired`, answered as JSON."""
    return web.json_response(await fired(request, event, wait, **extra))
