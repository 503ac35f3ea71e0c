"""The corp's people: staff, customers and the follow relations between them.

A follow relation is one staff member ↔ one customer, with the member's remark, tags
and how the customer was added. Its `status` decides what the API may see
(wecom-protocol.md §4, 84061): `active` and `deleted_by_customer` (one-way, APIs still
work) are visible; `half` (免验证 pending) and `deleted_by_staff` are not. `chatted`
means the member and the customer have exchanged messages (a delivered welcome counts):
no further welcome can be sent (41051).

Relations are indexed by staff, by customer and by corp tag, so no API call scans all
of them: deleting a tag touches only the relations carrying it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import count, islice

from bot.sandbox.errors import Conflict, NotFound, lookup
from bot.sandbox.ids import new_external_userid, new_id

ADD_WAY_QR_CODE = 1


class RelationStatus(StrEnum):
    ACTIVE = "active"
    HALF = "half"
    DELETED_BY_STAFF = "deleted_by_staff"
    DELETED_BY_CUSTOMER = "deleted_by_customer"


VISIBLE_STATUSES = frozenset({RelationStatus.ACTIVE, RelationStatus.DELETED_BY_CUSTOMER})


@dataclass
class Staff:
    """A member. `console_welcome`: the admin configured a welcome message for them in
    the WeCom console, so their add events carry no WelcomeCode."""

    userid: str
    name: str
    customer_contact: bool = True
    avatar: str = ""
    console_welcome: bool = False


@dataclass
class Customer:
    external_userid: str
    name: str
    type: int = 1
    avatar: str = ""
    gender: int = 0
    unionid: str = ""
    corp_name: str = ""
    corp_full_name: str = ""
    position: str = ""


@dataclass
class FollowRelation:
    userid: str
    external_userid: str
    createtime: int
    status: RelationStatus
    oper_userid: str
    add_way: int = ADD_WAY_QR_CODE
    state: str = ""
    remark: str = ""
    description: str = ""
    remark_corp_name: str = ""
    remark_mobiles: list[str] = field(default_factory=list)
    tag_ids: list[str] = field(default_factory=list)
    chatted: bool = False

    @property
    def visible(self) -> bool:
        return self.status in VISIBLE_STATUSES

    @property
    def key(self) -> tuple[str, str]:
        return self.userid, self.external_userid


class Contacts:
    """Staff, customers and relations, indexed by staff, by customer (insertion order
    kept, so API listings and paging are deterministic) and by corp tag."""

    def __init__(self) -> None:
        self.staff: dict[str, Staff] = {}
        self.customers: dict[str, Customer] = {}
        self._by_staff: dict[str, dict[str, FollowRelation]] = {}
        self._by_customer: dict[str, dict[str, FollowRelation]] = {}
        self._by_tag: dict[str, dict[tuple[str, str], FollowRelation]] = {}

    def add_staff(self, staff: Staff) -> Staff:
        if staff.userid in self.staff:
            raise Conflict(f"staff {staff.userid!r} already exists")
        self.staff[staff.userid] = staff
        self._by_staff[staff.userid] = {}
        return staff

    def add_customer(self, customer: Customer) -> Customer:
        if customer.external_userid in self.customers:
            raise Conflict(f"customer {customer.external_userid!r} already exists")
        self.customers[customer.external_userid] = customer
        self._by_customer[customer.external_userid] = {}
        return customer

    def require_staff(self, userid: str) -> Staff:
        return lookup(self.staff, userid, "staff")

    def require_customer(self, external_userid: str) -> Customer:
        return lookup(self.customers, external_userid, "customer")

    def relation(self, userid: str, external_userid: str) -> FollowRelation | None:
        return self._by_staff.get(userid, {}).get(external_userid)

    def require_relation(self, userid: str, external_userid: str) -> FollowRelation:
        found = self.relation(userid, external_userid)
        if found is None:
            raise NotFound(f"relation {userid!r} ↔ {external_userid!r}")
        return found

    def followers_of(self, external_userid: str) -> list[FollowRelation]:
        return list(self._by_customer.get(external_userid, {}).values())

    def followed_by(self, userid: str) -> list[FollowRelation]:
        return list(self._by_staff.get(userid, {}).values())

    def relations(self) -> Iterator[FollowRelation]:
        for by_customer in self._by_staff.values():
            yield from by_customer.values()

    def follow(
        self, userid: str, external_userid: str, *, createtime: int, half: bool,
        state: str = "", add_way: int = ADD_WAY_QR_CODE,
    ) -> FollowRelation:
        """The customer adds the member. A new or deleted relation starts over; a half-added
        one becomes active when `half` is false (the member confirmed)."""
        staff = self.require_staff(userid)
        self.require_customer(external_userid)
        if not staff.customer_contact:
            raise Conflict(f"staff {userid!r} does not have customer contact enabled")
        current = self.relation(userid, external_userid)
        if current is not None and current.status is RelationStatus.ACTIVE:
            raise Conflict(f"{external_userid!r} already follows {userid!r}")
        status = RelationStatus.HALF if half else RelationStatus.ACTIVE
        if current is not None and current.status is RelationStatus.HALF:
            current.status = status
            return current
        relation = FollowRelation(
            userid=userid, external_userid=external_userid, createtime=createtime,
            status=status, oper_userid=external_userid, add_way=add_way, state=state,
        )
        self._by_staff[userid][external_userid] = relation
        self._by_customer[external_userid][userid] = relation
        return relation

    def retag(self, relation: FollowRelation, add: Iterable[str] = (),
              remove: Iterable[str] = ()) -> None:
        """Take `remove` off the relation, then put `add` on (kept in the order first
        added, without repeats). Callers check that the tags exist."""
        removed = set(remove)
        kept = [t for t in relation.tag_ids if t not in removed]
        for tag_id in removed.difference(kept):
            self._by_tag.get(tag_id, {}).pop(relation.key, None)
        for tag_id in add:
            if tag_id not in kept:
                kept.append(tag_id)
                self._by_tag.setdefault(tag_id, {})[relation.key] = relation
        relation.tag_ids = kept

    def remove_tags(self, tag_ids: Iterable[str]) -> None:
        """Deleted corp tags disappear from every customer they were on."""
        for tag_id in tag_ids:
            for relation in self._by_tag.pop(tag_id, {}).values():
                relation.tag_ids.remove(tag_id)

    def seed(
        self, staff_count: int, customers_per_staff: int, createtime: int
    ) -> dict[str, list[str]]:
        """Bulk data: new staff, each followed by its own new WeChat customers. Returns
        userid → external_userids in the order the API lists them."""
        seeded: dict[str, list[str]] = {}
        free = (f"staff{n:05d}" for n in count(1) if f"staff{n:05d}" not in self.staff)
        for userid in islice(free, staff_count):
            self.add_staff(Staff(userid, f"员工{userid.removeprefix('staff')}"))
            seeded[userid] = [
                self._seed_customer(userid, index, createtime)
                for index in range(customers_per_staff)
            ]
        return seeded

    def _seed_customer(self, userid: str, index: int, createtime: int) -> str:
        customer = self.add_customer(Customer(
            external_userid=new_external_userid(1), name=f"客户{len(self.customers) + 1}",
            gender=index % 3, unionid=new_id("o"),
        ))
        self.follow(userid, customer.external_userid, createtime=createtime, half=False)
        return customer.external_userid

    def status_counts(self) -> dict[str, int]:
        counts = {status.value: 0 for status in RelationStatus}
        for relation in self.relations():
            counts[relation.status.value] += 1
        return counts
