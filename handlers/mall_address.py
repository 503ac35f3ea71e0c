"""The shipping address of a physical mall order: its fields and their rules, and how it
is kept. An address names a person, their phone and their home, so it is stored sealed
with the members' data key (handlers.member_crypto, purpose "address") and opened
only for the member themself and for the operators who ship the order.

The fields follow what the mini-program's `wx.chooseAddress` gives (userName,
telNumber, provinceName, cityName, countyName, detailInfo, postalCode), in our
snake_case: name, phone, province, city, district, detail, postal_code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bot.settings import MemberSettings
from handlers.input_error import DomainInputError
from handlers.member_crypto import seal, unseal

ADDRESS_PURPOSE = "address"

# Field: (required, max characters).
FIELDS: dict[str, tuple[bool, int]] = {
    "name": (True, 32), "phone": (True, 20), "province": (True, 32), "city": (True, 32),
    "district": (False, 32), "detail": (True, 200), "postal_code": (False, 12),
}
_PHONE = re.compile(r"\+?[0-9][0-9\- ]{4,19}")


class MallInputError(DomainInputError):
    """Bad input about the mall (items, addresses, orders)."""


@dataclass(frozen=True)
class Address:
    name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    postal_code: str

    def as_json(self) -> dict[str, str]:
        return asdict(self)


def read_address(data: Any, where: str = "address") -> Address:
    """The address in a request body; MallInputError naming the field at fault."""
    if not isinstance(data, Mapping):
        raise MallInputError(where, "must be an object")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise MallInputError(f"{where}.{unknown[0]}", "unknown field")
    values: dict[str, str] = {}
    for name, (required, max_chars) in FIELDS.items():
        value = data.get(name, "")
        if not isinstance(value, str):
            raise MallInputError(f"{where}.{name}", "must be a string")
        value = value.strip()
        if required and not value:
            raise MallInputError(f"{where}.{name}", "is required")
        if len(value) > max_chars:
            raise MallInputError(f"{where}.{name}", f"must be at most {max_chars} characters")
        values[name] = value
    if not _PHONE.fullmatch(values["phone"]):
        raise MallInputError(f"{where}.phone", "must be a phone number")
    return Address(**values)


def seal_address(keys: MemberSettings, address: Address) -> str:
    return seal(keys, json.dumps(address.as_json(), ensure_ascii=False), ADDRESS_PURPOSE)


def open_address(keys: MemberSettings, sealed: str | None) -> dict[str, str] | None:
    if not sealed:
        return None
    return dict(json.loads(unseal(keys, sealed, ADDRESS_PURPOSE)))
