"""Cron strings from configuration, as APScheduler triggers.

Five fields as in crontab (``minute hour day month weekday``, weekday 0 or 7 = Sunday) or six with seconds
first (``second minute hour day month weekday``). APScheduler 3 numbers weekdays from Monday; numbers are
translated to names here so that ``0 6 * * 1`` means Monday, as an operator reading crontab expects.
"""

from __future__ import annotations

import re
from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

from hub.errors import InvalidArgument

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKDAY_NUMBER = re.compile(r"(?<![/\d])\d+")


def _weekday_names(field: str, where: str) -> str:
    def name(match: re.Match[str]) -> str:
        number = int(match.group())
        if number > 7:
            raise InvalidArgument(where, f"weekday {number} is not 0-7 (0 and 7 are Sunday)")
        return _WEEKDAYS[number % 7]

    return _WEEKDAY_NUMBER.sub(name, field)


def cron_trigger(expression: str, timezone: tzinfo, where: str = "cron") -> CronTrigger:
    """The trigger for ``expression``; ``InvalidArgument`` naming ``where`` if it is not a cron string."""
    fields = expression.split()
    if len(fields) == 5:
        fields.insert(0, "0")
    if len(fields) != 6:
        raise InvalidArgument(where, f"{expression!r} is not a cron string of 5 fields (or 6 with seconds first)")
    second, minute, hour, day, month, weekday = fields
    try:
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_weekday_names(weekday, where),
            timezone=timezone,
        )
    except ValueError as error:
        raise InvalidArgument(where, f"{expression!r} is not a valid cron string: {error}") from None
