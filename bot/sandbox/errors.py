"""Errors the sandbox answers with: WeCom errcodes for /cgi-bin/, HTTP errors for the console.

The API side answers like WeCom: HTTP 200 and `{"errcode", "errmsg"}`. Handlers raise
`ApiError(code)` and the pipeline in `api.py` renders it. The console answers
`{"error", "detail"}` with 400 or 404; its handlers and the state stores raise
`ConsoleError` subclasses, rendered by `console_http.error_middleware`.

Codes the sandbox chose where WeCom's own answer is not documented (wecom-protocol.md §4):
- 48001 for an unknown /cgi-bin/ path or method (WeChat's "api unauthorized").
- 40058 for a parameter out of range: more than 100 userids in batch/get_by_user, an
  empty or malformed userid_list, a bad limit, or a cursor the sandbox did not issue;
  a 「联系我」 of type 1 without exactly one user; mark_tag with nothing to add or
  remove; remark fields over their length; a link or mini-program attachment missing a
  required field.
- 40071 for a corp tag or group name that is empty or over 30 characters.
- 45002 for welcome text over 4000 bytes, 44004 for a welcome with neither text nor
  attachments.
- 60123 for any `party` in a 「联系我」 (the sandbox corp has no departments).
- 40058 for a join way naming a group that is unknown or dismissed, and for mass
  messages of chat_type "single" (not simulated); 44004 for a mass message with
  neither text nor attachments; 41045 when contact ways and join ways together reach
  their shared 500,000 quota.
- 48002 for message/send with a token of the customer-contact secret (only the app's
  own secret may send app messages).

The mini-program APIs (api_miniapp.py, wecom-protocol.md §5) answer WeChat's codes; where
WeChat's own answer is not documented the sandbox chose: 40013 "invalid appid" and
40125 "invalid appsecret" (what WeChat answers in community reports) for a wrong appid
or secret; 40002 for a grant_type other than the documented one; 41008 for an empty
js_code; 40014 for a mini-program access token it did not issue (WeChat often says
40001 "invalid credential" instead: the client treats both as "refresh").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

K = TypeVar("K")
V = TypeVar("V")

SYSTEM_BUSY = -1
INVALID_SECRET = 40001
INVALID_GRANT_TYPE = 40002
INVALID_MESSAGE_TYPE = 40008
INVALID_USERID = 40003
INVALID_CORPID = 40013
INVALID_APPID = 40013  # the mini-program's name for the same code
INVALID_TOKEN = 40014
INVALID_CODE = 40029
INVALID_AGENTID = 40056
INVALID_PARAMETER = 40058
INVALID_TAG = 40068
INVALID_TAG_NAME = 40071
INVALID_EXTERNAL_USERID = 40096
INVALID_APPSECRET = 40125
TAG_LIMIT = 40126
CODE_BLOCKED = 40226
MISSING_TOKEN = 41001
MISSING_CODE = 41008
MISSING_USERID = 41009
MISSING_EXTERNAL_USERID = 41035
MISSING_CONTACT_WAY_TYPE = 41037
MISSING_CONTACT_WAY_SCENE = 41038
INVALID_CONTACT_WAY_TYPE = 41039
INVALID_CONTACT_WAY_SCENE = 41040
CONTACT_WAY_USER_LIMIT = 41041
INVALID_CONTACT_WAY_STYLE = 41042
MISSING_CONFIG_ID = 41043
INVALID_CONFIG_ID = 41044
CONTACT_WAY_LIMIT = 41045
MISSING_WELCOME_CODE = 41049
INVALID_WELCOME_CODE = 41050
WELCOME_ALREADY_SENT = 41051
MISSING_MSGID = 41046
INVALID_MSGID = 41047
MSG_DISPATCHING = 41063
TOO_MANY_ATTACHMENTS = 41064
INVALID_ATTACHMENT_TYPE = 41065
JOIN_WAY_CHAT_LIMIT = 41091
MSG_CANCELLED = 41093
REMIND_LIMIT = 41094
WELCOME_SENDING = 41096
TOKEN_EXPIRED = 42001
EMPTY_CONTENT = 44004
CONTENT_TOO_LONG = 45002
FREQUENCY_LIMIT = 45009
MINUTE_QUOTA = 45011
CONCURRENCY_LIMIT = 45033
DATA_FORMAT_ERROR = 47001
UNKNOWN_API = 48001
API_FORBIDDEN = 48002
NO_PRIVILEGE = 60011
USERID_NOT_FOUND = 60111
INVALID_PARTY = 60123
TOO_MANY_ITEMS = 81017
NO_RELATIONSHIP = 84061
NO_CONTACT_PERMISSION = 84074
NOT_CUSTOMER_GROUP = 90501

ERRMSG: dict[int, str] = {
    SYSTEM_BUSY: "system busy",
    INVALID_SECRET: "invalid secret",
    INVALID_GRANT_TYPE: "invalid grant_type",
    INVALID_MESSAGE_TYPE: "invalid message type",
    INVALID_USERID: "invalid userid",
    INVALID_CORPID: "invalid corpid",
    INVALID_TOKEN: "invalid access_token",
    INVALID_CODE: "invalid code",
    INVALID_AGENTID: "invalid agentid",
    INVALID_PARAMETER: "invalid parameter",
    INVALID_TAG: "invalid tag id",
    INVALID_TAG_NAME: "invalid tag name",
    INVALID_EXTERNAL_USERID: "invalid external userid",
    INVALID_APPSECRET: "invalid appsecret",
    TAG_LIMIT: "corp tag count reaches the limit of 3000",
    CODE_BLOCKED: "code blocked",
    MISSING_TOKEN: "access_token missing",
    MISSING_CODE: "missing code",
    MISSING_USERID: "missing userid",
    MISSING_EXTERNAL_USERID: "missing external userid",
    MISSING_CONTACT_WAY_TYPE: "missing contact way type",
    MISSING_CONTACT_WAY_SCENE: "missing contact way scene",
    INVALID_CONTACT_WAY_TYPE: "invalid contact way type",
    INVALID_CONTACT_WAY_SCENE: "invalid contact way scene",
    CONTACT_WAY_USER_LIMIT: "contact way user count exceeds the limit",
    INVALID_CONTACT_WAY_STYLE: "invalid contact way style",
    MISSING_CONFIG_ID: "missing config_id",
    INVALID_CONFIG_ID: "invalid config_id",
    CONTACT_WAY_LIMIT: "contact way count reaches the limit",
    MISSING_WELCOME_CODE: "missing welcome code",
    INVALID_WELCOME_CODE: "invalid welcome code",
    WELCOME_ALREADY_SENT: "customer and member already chatted or welcome msg already sent",
    MISSING_MSGID: "missing msgid",
    INVALID_MSGID: "invalid msgid",
    MSG_DISPATCHING: "msg is being dispatched, please try again later",
    TOO_MANY_ATTACHMENTS: "too many attachments",
    INVALID_ATTACHMENT_TYPE: "invalid attachment msgtype",
    JOIN_WAY_CHAT_LIMIT: "join way links at most 5 group chats",
    MSG_CANCELLED: "mass msg task already cancelled",
    REMIND_LIMIT: "remind frequency out of limit",
    WELCOME_SENDING: "welcome msg is being sent by another app",
    TOKEN_EXPIRED: "access_token expired",
    EMPTY_CONTENT: "empty content",
    CONTENT_TOO_LONG: "content size out of limit",
    FREQUENCY_LIMIT: "api freq out of limit",
    MINUTE_QUOTA: "api minute-quota reach limit mustslower retry next minute",
    CONCURRENCY_LIMIT: "api concurrent out of limit",
    DATA_FORMAT_ERROR: "data format error",
    UNKNOWN_API: "api unauthorized",
    API_FORBIDDEN: "api forbidden",
    NO_PRIVILEGE: "no privilege to access/modify contact/party/agent",
    USERID_NOT_FOUND: "userid not found",
    INVALID_PARTY: "invalid party id",
    TOO_MANY_ITEMS: "too many items requested",
    NO_RELATIONSHIP: "not external contact",
    NO_CONTACT_PERMISSION: "no external contact permission",
    NOT_CUSTOMER_GROUP: "not a customer group chat",
}


def errmsg(errcode: int) -> str:
    """WeCom's errmsg for a code; codes outside the table (faults may inject any) get a
    generic text."""
    return ERRMSG.get(errcode, "sandbox injected error")


class ApiError(Exception):
    """An API call fails with this errcode (answered with HTTP 200, like WeCom), and
    `message` instead of the code's errmsg when the code means something else there
    (40013: "invalid corpid" for WeCom, "invalid appid" for the mini-program)."""

    def __init__(self, errcode: int, message: str = "") -> None:
        super().__init__(errcode)
        self.errcode = errcode
        self.message = message

    def payload(self) -> dict[str, Any]:
        return {"errcode": self.errcode, "errmsg": self.message or errmsg(self.errcode)}


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
