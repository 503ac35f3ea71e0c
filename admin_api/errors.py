"""The admin API's errors: the shared JSON error shape and middleware (bot.http_errors)
with what only this edge refuses or maps.

Routes raise: `ApiError` (and its subclasses) for what the edge itself refuses, the
domain's `DomainInputError`s (bad channel, group, plan, mall or 安心码 catalogue input),
the mall's refusals and the catalogue's failed lookups, `WeComError`/`WeComUnavailable`
when WeCom refuses or cannot be reached. The middleware maps each to its status:

| raised | status | code |
| --- | --- | --- |
| `InputError`, `DomainInputError` | 400 | `invalid_input` (+ `field`) |
| `ApiError(401)` | 401 | `unauthorized` |
| `NotFound`, an unknown path, `Unknown{Item,Order,Product,Batch}` | 404 | `not_found` |
| a method the path lacks | 405 | `method_not_allowed` |
| `Conflict`, a unique constraint (two writers at once), `KeyReused` (stock) | 409 | `conflict` |
| `WrongStatus` (a mall order's) | 409 | `wrong_status` (+ the order's `status`) |
| `NotEnoughStock` | 409 | `out_of_stock` (+ `item_id`) |
| `AmbiguousLot` (products share a lot; `?gtin=` says which) | 409 | `ambiguous_lot` |
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
from handlers.mall_items import UnknownItem
from handlers.mall_orders import UnknownOrder, WrongStatus
from handlers.mall_stock import KeyReused, NotEnoughStock
from handlers.trace_catalog import AmbiguousLot, UnknownBatch, UnknownProduct

__all__ = ["ApiError", "BodyTooLarge", "Conflict", "InputError", "NotFound", "Unauthorized",
           "error_middleware"]

log = logging.getLogger("scrm.admin")


class Unauthorized(http_errors.Unauthorized):
    """No bearer token, or one that `[admin] tokens` does not hold."""

    headers = {"WWW-Authenticate": 'Bearer realm="admin"'}


class OrderStatusConflict(Conflict):
    """A mall order is not in a status that allows the change; `status` is the one it
    is in, so a client can show it without another request."""

    code = "wrong_status"

    def __init__(self, refused: WrongStatus) -> None:
        super().__init__(str(refused))
        # Not a constructor keyword: `status` there is the HTTP status.
        self.extra["status"] = refused.order.status.value


class OutOfStock(Conflict):
    code = "out_of_stock"


class LotOfSeveralProducts(Conflict):
    code = "ambiguous_lot"


def _translate(request: web.Request, exc: Exception) -> ApiError | None:
    if isinstance(exc, DomainInputError):
        return InputError(exc.field, exc.message)
    if isinstance(exc, UnknownItem | UnknownOrder | UnknownProduct | UnknownBatch):
        return NotFound(str(exc))
    if isinstance(exc, WrongStatus):
        return OrderStatusConflict(exc)
    if isinstance(exc, NotEnoughStock):
        return OutOfStock(str(exc), item_id=exc.item_id)
    if isinstance(exc, AmbiguousLot):
        return LotOfSeveralProducts(str(exc))
    if isinstance(exc, KeyReused):
        return Conflict(str(exc))
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
