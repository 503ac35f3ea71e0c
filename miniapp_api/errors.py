"""The mini-program API's errors: the shared JSON error shape and middleware
(bot.http_errors) with what only this edge refuses or maps.

| raised | status | code |
| --- | --- | --- |
| `InputError`, `DomainInputError` | 400 | `invalid_input` (+ `field`) |
| WeChat 40029 (a login or phone code that is not valid) | 400 | `invalid_code` |
| `RedeemRefused` address_required (a physical item) | 400 | `address_required` (+ `field`) |
| no, expired, revoked or unknown session token | 401 | `unauthorized` |
| WeChat 40226 (a user WeChat blocks from logging in) | 403 | `user_blocked` |
| `UnknownItem` (none, or deleted), `UnknownOrder` (not theirs) | 404 | `not_found` |
| `Conflict`, a unique constraint, a merge with a member gone meanwhile | 409 | `conflict` |
| `UnknownMember` (the member merged or erased while points moved) | 409 | `conflict` |
| another `RedeemRefused` (`off_shelf`, `level_too_low`, …) | 409 | its own code |
| `KeyReused` (the member's key of another redemption) | 409 | `idempotency_key_reused` |
| `WrongStatus` (an order too far along to cancel or confirm) | 409 | `wrong_status` (+ `status`) |
| `BodyTooLarge` | 413 | `body_too_large` |
| too many logins from one client, WeChat 45011 | 429 | `rate_limited` (+ Retry-After) |
| another WeChat errcode | 502 | `wechat_error` (+ `errcode`, `errmsg`) |
| WeChat busy (-1) or out of reach | 503 | `wechat_unavailable` |
| anything else | 500 | `internal_error` |

WeChat's codes and messages reach the log with the request, never the user's code.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot import http_errors
from bot.http_errors import ApiError, Conflict, InputError, NotFound
from bot.miniapp.errors import (
    Busy,
    InvalidCode,
    MiniProgramError,
    MiniProgramUnavailable,
    RateLimited,
    UserBlocked,
)
from handlers.input_error import DomainInputError
from handlers.ledger import UnknownMember
from handlers.mall_items import UnknownItem
from handlers.mall_orders import UnknownOrder, WrongStatus
from handlers.mall_redeem import KeyReused
from handlers.mall_rules import ADDRESS_REQUIRED, RedeemRefused
from handlers.member_merge import MergeRefused

log = logging.getLogger("scrm.miniapp")

RETRY_AFTER_SECONDS = 60


class Unauthorized(http_errors.Unauthorized):
    headers = {"WWW-Authenticate": 'Bearer realm="miniapp"'}


class TooManyRequests(ApiError):
    status = 429
    code = "rate_limited"
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}


class OrderInWrongStatus(Conflict):
    code = "wrong_status"

    def __init__(self, exc: WrongStatus) -> None:
        super().__init__(str(exc))
        # Not a constructor keyword: `status` there is the HTTP status.
        self.extra["status"] = exc.order.status.value


def _mall(exc: Exception) -> ApiError | None:
    if isinstance(exc, RedeemRefused):
        if exc.code == ADDRESS_REQUIRED:
            return ApiError(exc.message, code=exc.code, field="address")
        return ApiError(exc.message, status=409, code=exc.code)
    if isinstance(exc, KeyReused):
        return ApiError(str(exc), status=409, code="idempotency_key_reused")
    if isinstance(exc, (UnknownItem, UnknownOrder)):
        return NotFound(str(exc))
    if isinstance(exc, WrongStatus):
        return OrderInWrongStatus(exc)
    return None


def _wechat_down(message: str) -> ApiError:
    return ApiError(message, status=503, code="wechat_unavailable")


def _wechat(exc: MiniProgramError) -> ApiError:
    if isinstance(exc, InvalidCode):
        return ApiError("the code is not valid (expired or used already); get a new one",
                        code="invalid_code")
    if isinstance(exc, RateLimited):
        return TooManyRequests("WeChat's limit for this user is reached; retry in a minute")
    if isinstance(exc, UserBlocked):
        return ApiError("WeChat does not let this user log in", status=403,
                        code="user_blocked")
    if isinstance(exc, Busy):
        return _wechat_down("WeChat is busy; retry shortly")
    return ApiError(f"WeChat refused: errcode {exc.errcode}", status=502, code="wechat_error",
                    errcode=exc.errcode, errmsg=exc.errmsg)


def _translate(request: web.Request, exc: Exception) -> ApiError | None:
    if isinstance(exc, DomainInputError):
        return InputError(exc.field, exc.message)
    if isinstance(exc, MiniProgramError):
        log.warning("miniapp.wechat_error %s %s api=%s errcode=%s", request.method,
                    request.path, exc.api, exc.errcode)
        return _wechat(exc)
    if isinstance(exc, MiniProgramUnavailable):
        log.warning("miniapp.wechat_unavailable %s %s api=%s", request.method, request.path,
                    exc.api)
        return _wechat_down("WeChat could not be reached; retry shortly")
    if isinstance(exc, (MergeRefused, UnknownMember)):
        return Conflict("the member changed meanwhile; retry")
    return _mall(exc)


error_middleware = http_errors.error_middleware("miniapp", _translate)
