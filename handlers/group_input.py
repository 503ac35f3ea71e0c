"""`GroupInputError`: input about customer groups (labels, group QR codes) that the rules
refuse, naming the field at fault; raised before anything reaches WeCom."""

from __future__ import annotations


class GroupInputError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
