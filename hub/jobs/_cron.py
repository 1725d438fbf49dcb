"""Cron strings from configuration, as APScheduler triggers.

Five fields as in crontab (``minute hour day month weekday``, weekday 0 or 7 = Sunday) or six with seconds
first (``second minute hour day month weekday``). APScheduler 3 numbers weekdays from Monday; numbers are
translated to names here so that ``0 6 * * 1`` means Monday, as an operator reading crontab expects.
"""

from __future__ import annotations

from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

from hub.errors import InvalidArgument

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab_day(token: str, where: str) -> int:
    """A weekday as crontab numbers it (0-7, 0 and 7 Sunday), from a number or a three-letter name."""
    if token.isdigit():
        number = int(token)
        if number > 7:
            raise InvalidArgument(where, f"weekday {number} is not 0-7 (0 and 7 are Sunday)")
        return number
    try:
        return _WEEKDAYS.index(token.lower())
    except ValueError:
        raise InvalidArgument(where, f"{token!r} is not a weekday (0-7 or sun-sat)") from None


def _weekday_part(part: str, where: str) -> str:
    """One comma-separated part of a crontab weekday field, in APScheduler's terms (which count from Monday).

    A single day or a range that runs forward in APScheduler's week keeps its form (``1-5`` is ``mon-fri``);
    a range from Sunday (``0-3``) or a step (``*/2``) becomes the list of its days, as crontab means them.
    """
    base, slash, step_text = part.partition("/")
    if not slash and base == "*":
        return "*"
    step = int(step_text) if step_text.isdigit() else 0
    if slash and step < 1:
        raise InvalidArgument(where, f"weekday step {step_text!r} is not a positive number")
    step = step or 1
    if base == "*":
        first, last = 0, 6
    elif "-" in base:
        start, _, end = base.partition("-")
        first, last = _crontab_day(start, where), _crontab_day(end, where)
    else:
        first = _crontab_day(base, where)
        last = 7 if slash else first
    if first > last:
        raise InvalidArgument(where, f"weekday range {base!r} runs backwards")
    monday_first = (first - 1) % 7 <= (last - 1) % 7
    if step == 1 and (first == last or monday_first):
        return _WEEKDAYS[first % 7] if first == last else f"{_WEEKDAYS[first % 7]}-{_WEEKDAYS[last % 7]}"
    days = sorted({day % 7 for day in range(first, last + 1, step)})
    return ",".join(_WEEKDAYS[day] for day in days)


def _weekday_names(field: str, where: str) -> str:
    return ",".join(_weekday_part(part, where) for part in field.split(","))


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
