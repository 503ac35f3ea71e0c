"""Console: the sandbox plays the senders of group pushes (企业群发) and shows them.

- `POST /sandbox/groupmsg/confirm` {msgid, userid?} → {"task": {...}}: the sender
  (`userid`, when given, must be the task's sender) confirms the push in the WeCom
  client: sender status 2; each group 1 (sent), or 3 when it has already received the
  month's limit of pushes (group_pushes.py). A cancelled or already confirmed task is
  refused (400 conflict), an unknown msgid 404.
- `POST /sandbox/groupmsg/policy` {userid?, auto?: "confirm" | "ignore",
  receive_limit?: N} → the policies {"default", "staff": {userid: auto},
  "receive_limit", "receive_limit_now"}. `auto` for one member, or without `userid`
  the corp-wide default (dropping the per-member ones): "confirm" confirms every new
  push at once (end-to-end tests, benchmarks), "ignore" (the start) leaves pushes
  waiting for `confirm`. `receive_limit`: pushes a group may receive per natural month
  (N >= 1), 0 for the default (as many as the month has days).
- `GET /sandbox/groupmsg?sender=` → {"tasks": [{msgid, chat_type, sender, create_time,
  text, attachments, chat_ids, chats: [{chat_id, status, send_time}], fail_list,
  status, send_time, reminders, reminded_at, cancelled}]}, oldest first, so tests can
  assert what each group really received.
"""

from __future__ import annotations

from aiohttp import web

from bot.sandbox.console_http import read_body, state_of
from bot.sandbox.errors import ConsoleError
from bot.sandbox.group_pushes import POLICIES


async def confirm(request: web.Request) -> web.Response:
    body, state = await read_body(request), state_of(request)
    task = state.group_pushes.require(body.text("msgid"))
    userid = body.text("userid", "")
    if userid and userid != task.sender:
        raise ConsoleError(f"{userid!r} is not the sender of {task.msgid!r} ({task.sender!r})")
    state.group_pushes.confirm(task, state.now())
    return web.json_response({"task": task.to_json()})


async def set_policy(request: web.Request) -> web.Response:
    body, state = await read_body(request), state_of(request)
    pushes = state.group_pushes
    if not (body.has("auto") or body.has("receive_limit")):
        raise ConsoleError("give auto and/or receive_limit")
    limit = body.integer("receive_limit", 0)
    auto = body.text("auto", "")
    if limit < 0 or (body.has("auto") and auto not in POLICIES):
        raise ConsoleError(f"receive_limit must be >= 0 (0: the days of the month) and "
                           f"auto one of {POLICIES}")
    userid = body.text("userid", "") or None
    if userid is not None:
        state.contacts.require_staff(userid)
    if body.has("receive_limit"):
        pushes.receive_limit = limit or None
    if auto:
        pushes.set_policy(userid, auto)
    return web.json_response(pushes.policy_json(state.now()))


async def list_tasks(request: web.Request) -> web.Response:
    sender = request.query.get("sender")
    tasks = state_of(request).group_pushes.tasks.values()
    return web.json_response({"tasks": [t.to_json() for t in tasks
                                        if sender is None or t.sender == sender]})


def routes() -> list[web.RouteDef]:
    return [
        web.post("/groupmsg/confirm", confirm),
        web.post("/groupmsg/policy", set_policy),
        web.get("/groupmsg", list_tasks),
    ]
