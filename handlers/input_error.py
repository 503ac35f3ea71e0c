"""`DomainInputError`: input the domain's rules refuse, naming the field at fault; raised
before anything is stored or sent to WeCom. Each area has its subclass (channels,
groups, plans, profiles); the HTTP edges answer every one of them as a 400
`invalid_input` with that field."""

from __future__ import annotations

__all__ = ["DomainInputError", "GroupInputError"]


class DomainInputError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class GroupInputError(DomainInputError):
    """Bad input about customer groups (labels, group QR codes)."""
