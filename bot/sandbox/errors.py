"""Errors the sandbox answers with: WeCom errcodes for /cgi-bin/, HTTP errors for the console.

The API side answers like WeCom: HTTP 200 and `{"errcode", "errmsg"}`. Handlers raise
`ApiError(code)` and the pipeline in `api.py` renders it. The console answers
`{"error", "detail"}` with 400 or 404; its handlers and the state stores raise
`ConsoleError` subclasses, rendered by `console_http.error_middleware`.

Codes the sandbox chose where WeCom's own answer is not documented (wecom-protocol.md §4):
- 48001 for an unknown /cgi-bin/ path or method (WeChat's "api unauthorized").
- 40058 for a parameter out of range: more than 100 userids in batch/get_by_user, an
  empty or malformed userid_list, a bad limit, or a cursor the sandbox did not issue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

K = TypeVar("K")
V = TypeVar("V")

SYSTEM_BUSY = -1
INVALID_SECRET = 40001
INVALID_USERID = 40003
INVALID_CORPID = 40013
INVALID_TOKEN = 40014
INVALID_PARAMETER = 40058
INVALID_EXTERNAL_USERID = 40096
MISSING_TOKEN = 41001
MISSING_EXTERNAL_USERID = 41035
MISSING_WELCOME_CODE = 41049
INVALID_WELCOME_CODE = 41050
WELCOME_ALREADY_SENT = 41051
TOKEN_EXPIRED = 42001
FREQUENCY_LIMIT = 45009
CONCURRENCY_LIMIT = 45033
DATA_FORMAT_ERROR = 47001
UNKNOWN_API = 48001
API_FORBIDDEN = 48002
NO_PRIVILEGE = 60011
NO_RELATIONSHIP = 84061
NO_CONTACT_PERMISSION = 84074

ERRMSG: dict[int, str] = {
    SYSTEM_BUSY: "system busy",
    INVALID_SECRET: "invalid secret",
    INVALID_USERID: "invalid userid",
    INVALID_CORPID: "invalid corpid",
    INVALID_TOKEN: "invalid access_token",
    INVALID_PARAMETER: "invalid parameter",
    INVALID_EXTERNAL_USERID: "invalid external userid",
    MISSING_TOKEN: "access_token missing",
    MISSING_EXTERNAL_USERID: "missing external userid",
    MISSING_WELCOME_CODE: "missing welcome code",
    INVALID_WELCOME_CODE: "invalid welcome code",
    WELCOME_ALREADY_SENT: "customer and member already chatted or welcome msg already sent",
    TOKEN_EXPIRED: "access_token expired",
    FREQUENCY_LIMIT: "api freq out of limit",
    CONCURRENCY_LIMIT: "api concurrent out of limit",
    DATA_FORMAT_ERROR: "data format error",
    UNKNOWN_API: "api unauthorized",
    API_FORBIDDEN: "api forbidden",
    NO_PRIVILEGE: "no privilege to access/modify contact/party/agent",
    NO_RELATIONSHIP: "not external contact",
    NO_CONTACT_PERMISSION: "no external contact permission",
}


def errmsg(errcode: int) -> str:
    """WeCom's errmsg for a code; codes outside the table (faults may inject any) get a
    generic text."""
    return ERRMSG.get(errcode, "sandbox injected error")


class ApiError(Exception):
    """A /cgi-bin/ call fails with this errcode (answered with HTTP 200, like WeCom)."""

    def __init__(self, errcode: int) -> None:
        super().__init__(errcode)
        self.errcode = errcode

    def payload(self) -> dict[str, Any]:
        return {"errcode": self.errcode, "errmsg": errmsg(self.errcode)}


class ConsoleError(Exception):
    """A console request is refused: HTTP `status`, machine-readable `error`, human `detail`."""

    status = 400
    error = "bad_request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def payload(self) -> dict[str, Any]:
        return {"error": self.error, "detail": self.detail}


class NotFound(ConsoleError):
    """The request names a staff member, customer, relation, tag, group or delivery that
    the sandbox does not hold."""

    status = 404
    error = "not_found"


class Conflict(ConsoleError):
    """The request contradicts the current state (an id already taken, a relation not in a
    state that allows the action)."""

    error = "conflict"


def lookup(table: Mapping[K, V], key: K, what: str) -> V:
    """`table[key]`, or NotFound naming `what` (e.g. "staff") and the key."""
    try:
        return table[key]
    except KeyError:
        raise NotFound(f"{what} {key!r}") from None
