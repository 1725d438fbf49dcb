"""Rural revitalisation (乡村振兴): households monitored for relapse into poverty (防返贫监测对象).

Contributes household-check facts ``monitored_household`` (``true`` while the household is monitored,
``false`` once its risk is eliminated) and ``monitoring_type`` (e.g. 脱贫不稳定户, 边缘易致贫户,
突发严重困难户) while monitored.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters._datasets import DatasetSpec
from adapters._kind import KindAdapter, fact
from adapters._values import parse_flag
from hub.v1 import verification_pb2 as pb

MONITORED_PERSONS = DatasetSpec(
    "monitored_persons",
    ("id_number", "household_id", "monitoring_type", "since", "risk_eliminated"),
    doc="监测对象: one row per member of a monitored household",
)


class RuralRevitalisationAdapter(KindAdapter):
    kind = "rural-revitalisation"
    DATASETS = (MONITORED_PERSONS,)

    async def facts(self, id_numbers: Sequence[str]) -> list[pb.SourceFact]:
        found = await self.datasets[MONITORED_PERSONS.name].by_id(id_numbers)
        facts: list[pb.SourceFact] = []
        for number in id_numbers:
            rows = found.get(number)
            if not rows:
                continue
            row = rows[-1]
            monitored = not parse_flag(row.get("risk_eliminated", ""))
            facts.append(fact(number, "monitored_household", monitored))
            if monitored and row.get("monitoring_type"):
                facts.append(fact(number, "monitoring_type", row["monitoring_type"]))
        return facts
