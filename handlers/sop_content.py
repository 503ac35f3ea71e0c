"""What an SOP step says: its placeholders and the text one group gets.

Placeholders are `{group_name}` and `{owner_name}`, replaced by plain substitution
(not `str.format`), so other braces in a text stay as written; plan validation refuses
any other `{name}` so that a typo never reaches a group.
"""

from __future__ import annotations

import re

__all__ = ["PLACEHOLDERS", "render", "unknown_placeholders"]

PLACEHOLDERS = frozenset({"group_name", "owner_name"})
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def unknown_placeholders(text: str) -> list[str]:
    """The `{name}`s in `text` that are not PLACEHOLDERS, in order of first appearance."""
    found = dict.fromkeys(m[1] for m in _PLACEHOLDER.finditer(text))
    return [name for name in found if name not in PLACEHOLDERS]


def render(text: str, *, group_name: str, owner_name: str) -> str:
    values = {"group_name": group_name, "owner_name": owner_name}
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), text)
