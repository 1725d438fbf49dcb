"""Education (教育): student registrations (学籍).

Contributes household-check facts ``enrolled_level`` (the current level, as a code: ``primary``,
``junior_secondary``, ``senior_secondary``, ``secondary_vocational``, ``junior_college``,
``undergraduate``, ``postgraduate``) and ``new_university_entrant`` (enrolled at a junior college or
university within the last 12 months: a discovery signal for 教育救助). Children's data is sensitive
(PIPL Art. 28): the school's name never leaves the adapter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from adapters._datasets import DatasetSpec
from adapters._kind import KindAdapter, fact
from adapters._values import parse_date
from hub.v1 import verification_pb2 as pb

ENROLMENTS = DatasetSpec(
    "enrolments",
    ("id_number", "school", "level", "enrolled_on", "left_on"),
    doc="学籍: one row per enrolment at a school",
)
LEVELS = {
    "小学": "primary",
    "初中": "junior_secondary",
    "高中": "senior_secondary",
    "中职": "secondary_vocational",
    "专科": "junior_college",
    "高职": "junior_college",
    "本科": "undergraduate",
    "研究生": "postgraduate",
    "硕士": "postgraduate",
    "博士": "postgraduate",
}
ENTRANT_LEVELS = frozenset({"junior_college", "undergraduate"})


def level_code(text: str) -> str:
    """The level as a code; an unknown label passes through unchanged."""
    text = text.strip()
    return LEVELS.get(text, text)


class EducationAdapter(KindAdapter):
    kind = "education"
    DATASETS = (ENROLMENTS,)

    async def facts(self, id_numbers: Sequence[str]) -> list[pb.SourceFact]:
        today = self.today()
        found = await self.datasets[ENROLMENTS.name].by_id(id_numbers)
        facts: list[pb.SourceFact] = []
        for number in id_numbers:
            current = [
                r for r in found.get(number, ()) if (left := parse_date(r.get("left_on", ""))) is None or left > today
            ]
            if not current:
                continue
            latest = max(current, key=lambda r: parse_date(r.get("enrolled_on", "")) or dt.date.min)
            level = level_code(latest.get("level", ""))
            enrolled_on = parse_date(latest.get("enrolled_on", ""))
            recent = enrolled_on is not None and today - dt.timedelta(days=365) < enrolled_on <= today
            facts += [
                fact(number, "enrolled_level", level),
                fact(number, "new_university_entrant", level in ENTRANT_LEVELS and recent),
            ]
        return facts
