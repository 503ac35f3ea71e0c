"""How the admin API's OpenAPI document describes an operation: `op` (summary, id, the
success answer, the error responses it can give besides those every route can, its
parameters and body), `with_response` (one more answer: a second success, a specific
error), and the parameters many operations share. `openapi.py` and the
path modules (`openapi_mall.py`) build their paths with them."""

from __future__ import annotations

from typing import Any

from admin_api.openapi_schemas import ERROR_STATUS, Schema, ref

# Every route can answer these.
_ALWAYS = ("Unauthorized", "Internal")

PAGE = (ref("Limit", "parameters"), ref("Offset", "parameters"))
ID = ref("Id", "parameters")
# A route reading a JSON body can answer these.
INPUT = ("BadRequest", "TooLarge")
# Routes that call WeCom can also answer these.
WECOM = ("WeComError", "WeComUnavailable")


def json_content(schema: Schema) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def query_param(name: str, description: str, schema: Schema) -> Schema:
    return {"name": name, "in": "query", "description": description, "schema": schema}


def op(summary: str, operation_id: str, ok: tuple[int, str, dict[str, Any] | None], *,
       errors: tuple[str, ...] = (), parameters: tuple[Schema, ...] = (),
       body: str | None = None) -> dict[str, Any]:
    status, description, content = ok
    success: dict[str, Any] = {"description": description}
    if content is not None:
        success["content"] = content
    operation: dict[str, Any] = {
        "summary": summary,
        "operationId": operation_id,
        "responses": {str(status): success, **{ERROR_STATUS[name]: ref(name, "responses")
                                               for name in (*errors, *_ALWAYS)}},
    }
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        operation["requestBody"] = {"required": True, "content": json_content(ref(body))}
    return operation


def with_response(operation: dict[str, Any], status: str, description: str,
                  schema: Schema) -> dict[str, Any]:
    """The operation with one more answer (a second success, a specific 409)."""
    operation["responses"][status] = {"description": description,
                                      "content": json_content(schema)}
    return operation
