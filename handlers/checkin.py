"""Daily check-in: once per member and day (Asia/Shanghai), points.checkin_daily plus
the streak bonus on the Nth consecutive day (points.checkin_streak_bonus, e.g. 20 on
day 7 and 100 on day 30; a streak that goes on past its last bonus earns the daily
points only), and the birthday month bonus on a check-in in that month.

The check-in row (unique member and day) and its award (key
`checkin:<member>:<day>`) are written in one transaction: of any number of check-ins
at once, one inserts the row and the others find it and are refused. A repeat after
the day's check-in is refused by one read before any transaction (most check-in
requests are repeats: the button is pressed again, the page reloads).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from handlers.ledger import award, utc
from handlers.member_cache import announcing_transaction
from handlers.points_rules import award_birthday, local_day
from models.members import Member
from models.points import CheckIn
from models.upsert import insert_row

if TYPE_CHECKING:
    from bot.settings import Settings


class AlreadyCheckedIn(Exception):
    """The member checked in today already."""

    def __init__(self, day: date) -> None:
        super().__init__(f"already checked in on {day.isoformat()}")
        self.day = day


@dataclass(frozen=True)
class CheckInResult:
    day: date
    streak: int
    daily: int
    streak_bonus: int
    birthday_bonus: int
    balance: int

    @property
    def awarded(self) -> int:
        return self.daily + self.streak_bonus + self.birthday_bonus


async def check_in(member: Member, settings: Settings, now: datetime) -> CheckInResult:
    """Check the member in for today; raises AlreadyCheckedIn on the second check-in of
    a day, the ledger's UnknownMember for a member who is not active (nothing is
    recorded then). `member` is the row as read (its birthday and level are used)."""
    member_id = member.id
    day = local_day(now)
    rules = settings.points
    if await CheckIn.exists(member_id=member_id, day=day):
        raise AlreadyCheckedIn(day)
    async with announcing_transaction():
        yesterday = await CheckIn.get_or_none(member_id=member_id,
                                              day=day - timedelta(days=1))
        streak = yesterday.streak + 1 if yesterday is not None else 1
        row = await insert_row(CheckIn, {"member_id": member_id, "day": day, "streak": streak,
                                         "created_at": utc(now)}, unless=("member_id", "day"))
        if row is None:
            raise AlreadyCheckedIn(day)
        bonus = int(rules.checkin_streak_bonus.get(str(streak), 0))
        reason = f"签到 第{streak}天" if streak > 1 else "签到"
        await award(member_id, rules.checkin_daily + bonus, key=f"checkin:{member_id}:{day}",
                    reason=reason, now=now, settings=settings)
    birthday = await award_birthday(member, settings, now)
    balance = await Member.filter(id=member_id).values("points")
    return CheckInResult(day, streak, rules.checkin_daily, bonus, birthday,
                         int(balance[0]["points"]))
