"""Reading agency values: every backend hands rows over as text; these helpers turn text into facts.

Agency systems write dates, flags and labels in many ways (``2024-03-01``, ``20240301``, ``是``, ``Y``,
``低保``); parsing here is forgiving and returns ``None`` for what it cannot read, so one bad cell omits
one fact instead of failing a whole answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import cast

from google.protobuf.timestamp_pb2 import Timestamp

from hub.v1 import verification_pb2 as pb

#: Dates in China's civil time; a date becomes the Timestamp of its local midnight.
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")

_TRUE = frozenset({"1", "true", "t", "yes", "y", "是"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "否", ""})

#: Programme labels as agencies write them (Chinese) and as the wire names them.
PROGRAMME_LABELS: dict[str, pb.Programme] = {
    "低保": pb.DIBAO,
    "特困": pb.TEKUN,
    "低保边缘": pb.DIBAO_EDGE,
    "临时救助": pb.TEMPORARY,
    "刚性支出困难": pb.RIGID_EXPENDITURE,
    "防返贫监测": pb.RELAPSE_MONITORING,
}
STATUS_LABELS: dict[str, pb.AssistanceStatus] = {
    "在保": pb.ACTIVE,
    "渐退": pb.GRADUAL_EXIT,
    "暂停": pb.SUSPENDED,
    "停保": pb.ENDED,
    "退出": pb.ENDED,
}


def to_text(value: object) -> str:
    """One cell as text: dates in ISO form, flags as ``1``/``0``, ``None`` as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip()


def parse_date(text: str) -> dt.date | None:
    """``2024-03-01``, ``2024/03/01``, ``20240301`` or an ISO datetime; ``None`` if empty or unreadable.

    A datetime with an offset is read as its date in China (UTC+8); one without is taken as China's civil time.
    """
    text = text.strip()
    if not text:
        return None
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    text = text.replace("/", "-")
    if len(text) > 10:  # a moment with an offset (timestamptz, ``...Z``) falls on its date in China
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment.astimezone(CHINA).date()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def parse_int(text: str) -> int | None:
    """An integer amount or count (``1200``, ``1200.0``); ``None`` if empty or not a whole number."""
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        number = Decimal(text)
    except ArithmeticError:
        return None
    if number != number.to_integral_value():
        return None
    return int(number)


def parse_flag(text: str) -> bool | None:
    """``1``/``0``, ``true``/``false``, ``Y``/``N``, ``是``/``否``; empty reads as false, anything else ``None``."""
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


def parse_programme(text: str) -> pb.Programme:
    """A ``Programme`` from ``低保`` or ``DIBAO``; ``PROGRAMME_UNSPECIFIED`` if unknown."""
    return cast(pb.Programme, _enum(text, PROGRAMME_LABELS, pb.Programme, pb.PROGRAMME_UNSPECIFIED))


def parse_status(text: str) -> pb.AssistanceStatus:
    """An ``AssistanceStatus`` from ``在保`` or ``ACTIVE``; ``ASSISTANCE_STATUS_UNSPECIFIED`` if unknown."""
    return cast(pb.AssistanceStatus, _enum(text, STATUS_LABELS, pb.AssistanceStatus, pb.ASSISTANCE_STATUS_UNSPECIFIED))


def _enum(text: str, labels: Mapping[str, int], wrapper: object, default: int) -> int:
    text = text.strip()
    if text in labels:
        return labels[text]
    try:
        return int(wrapper.Value(text.upper()))  # type: ignore[attr-defined]
    except ValueError:
        return default


def label(value: int, labels: Mapping[str, int]) -> str:
    """The Chinese label of an enum value (the first one listed), as agencies write it."""
    for text, number in labels.items():
        if number == value:
            return text
    raise ValueError(f"no label for {value}")


def timestamp(value: dt.date | dt.datetime) -> Timestamp:
    """A protobuf Timestamp; a bare date means its midnight in China."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(), CHINA)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=CHINA)
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp
