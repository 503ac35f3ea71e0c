"""SOP step content: placeholders and rendering."""

from __future__ import annotations

from handlers.sop_content import PLACEHOLDERS, render, unknown_placeholders


def test_render_replaces_only_the_known_placeholders() -> None:
    text = "{group_name} 的朋友们，{owner_name} 祝大家 {新年} 快乐 {} {{group_name}}"
    assert render(text, group_name="上海 VIP 群", owner_name="张三") == (
        "上海 VIP 群 的朋友们，张三 祝大家 {新年} 快乐 {} {上海 VIP 群}")
    assert render("{owner_name}{owner_name}", group_name="", owner_name="李四") == "李四李四"


def test_unknown_placeholders_are_named_once_in_order() -> None:
    assert {"group_name", "owner_name"} == PLACEHOLDERS
    assert unknown_placeholders("{group_name} {customer_name} {x} {customer_name}") == [
        "customer_name", "x"]
    assert unknown_placeholders("{ group_name }") == [" group_name "]
    assert unknown_placeholders("no braces, {} or { either") == []
