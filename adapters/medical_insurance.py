"""Medical insurance (医保): settlements of medical expenses.

Contributes the household-check fact ``out_of_pocket_12m_fen``: the person's own share of settled
expenses over the last 12 months, in fen, a discovery signal for 支出型临时救助 and 刚性支出困难.
Diagnoses and hospitals never leave the adapter (medical data is sensitive, PIPL Art. 28).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from adapters._datasets import DatasetSpec
from adapters._kind import KindAdapter, fact
from adapters._values import parse_date, parse_int
from hub.v1 import verification_pb2 as pb

SETTLEMENTS = DatasetSpec(
    "settlements",
    ("id_number", "settled_on", "total_fen", "out_of_pocket_fen"),
    doc="结算信息: one row per settlement",
)
WINDOW = dt.timedelta(days=365)


class MedicalInsuranceAdapter(KindAdapter):
    kind = "medical-insurance"
    DATASETS = (SETTLEMENTS,)

    async def facts(self, id_numbers: Sequence[str]) -> list[pb.SourceFact]:
        today = self.today()
        found = await self.datasets[SETTLEMENTS.name].by_id(id_numbers)
        facts: list[pb.SourceFact] = []
        for number in id_numbers:
            rows = found.get(number)
            if not rows:
                continue
            total = 0
            for row in rows:
                settled = parse_date(row.get("settled_on", ""))
                if settled is not None and today - WINDOW < settled <= today:
                    total += parse_int(row.get("out_of_pocket_fen", "")) or 0
            facts.append(fact(number, "out_of_pocket_12m_fen", total))
        return facts
