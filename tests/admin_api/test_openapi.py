"""The OpenAPI document matches the admin app's routes exactly, and is self-consistent."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.app import create_app
from bot.settings import Settings
from tests.admin_api.conftest import AdminClient

METHODS = {"get", "post", "put", "patch", "delete"}


def mounted_admin_routes(settings: Settings) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves under /admin/api/."""
    app = create_app(settings)
    subapps = [r.get_info()["app"] for r in app.router.resources()
               if isinstance(r, web.PrefixedSubAppResource)
               and r.get_info()["prefix"] == "/admin/api"]
    assert len(subapps) == 1
    return {(route.method.lower(), route.resource.canonical)
            for route in subapps[0].router.routes()
            if route.resource is not None and route.method != "HEAD"}


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


async def test_document_paths_are_the_routes(admin: AdminClient, settings: Settings) -> None:
    reply = await admin.get("/openapi.json")
    assert reply.status == 200
    document = reply.json()
    assert document["openapi"].startswith("3.")
    documented = {(method, path) for path, item in document["paths"].items()
                  for method in item if method in METHODS}
    routes = mounted_admin_routes(settings)
    assert documented == routes
    assert ("get", "/admin/api/channels/{id}/poster.svg") in routes
    assert ("get", "/admin/api/groups/join-ways") in routes
    assert ("post", "/admin/api/groups/join-ways") in routes
    for method, path in (("post", "/sop/plans"), ("get", "/sop/plans/{id}"),
                         ("patch", "/sop/plans/{id}"), ("delete", "/sop/plans/{id}"),
                         ("get", "/sop/plans/{id}/preview"), ("get", "/sop/plans/{id}/report"),
                         ("get", "/members/{id}"), ("post", "/points/adjust"),
                         ("post", "/orders/import"), ("post", "/mall/items"),
                         ("get", "/mall/items"), ("get", "/mall/items/{id}"),
                         ("patch", "/mall/items/{id}"), ("delete", "/mall/items/{id}"),
                         ("post", "/mall/items/{id}/stock"), ("get", "/mall/items/{id}/stock"),
                         ("post", "/mall/items/{id}/codes"), ("get", "/mall/orders"),
                         ("get", "/mall/orders/{id}"), ("post", "/mall/orders/{id}/ship"),
                         ("post", "/mall/orders/{id}/cancel"),
                         ("post", "/mall/orders/{id}/complete"), ("get", "/trace/products"),
                         ("post", "/trace/products"), ("get", "/trace/products/{gtin}"),
                         ("get", "/trace/batches"), ("post", "/trace/batches"),
                         ("get", "/trace/batches/{lot}"), ("post", "/trace/batches/{lot}/events"),
                         ("post", "/trace/batches/{lot}/recall")):
        assert (method, f"/admin/api{path}") in routes
    assert len(routes) == 61


async def test_document_is_consistent(admin: AdminClient) -> None:
    document = (await admin.get("/openapi.json")).json()
    assert document["security"] == [{"bearer": []}]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for ref in refs(document):
        assert ref.startswith("#/components/"), ref
        node = document
        for part in ref[2:].split("/"):
            assert part in node, f"{ref} does not resolve"
            node = node[part]
    operation_ids = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            operation_ids.append(operation["operationId"])
            assert operation["summary"]
            assert "401" in operation["responses"] and "500" in operation["responses"]
            assert any(code.startswith("2") for code in operation["responses"]), (method, path)
            declared = {p["name"] for p in operation.get("parameters", [])
                        if "name" in p} | {
                document["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["name"]
                for p in operation.get("parameters", []) if "$ref" in p}
            if "{id}" in path:
                assert "id" in declared, (method, path)
            if method in {"post", "patch"} and path.endswith(("/channels", "/channels/{id}",
                                                              "/tags")):
                assert "requestBody" in operation, (method, path)
    assert len(operation_ids) == len(set(operation_ids))
