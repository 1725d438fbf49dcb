"""Human resources and social security (人社): employment, pensions, unemployment registration.

Contributes household-check facts ``employer`` (one per employer), ``monthly_wage_fen`` and
``pension_fen`` (sums over the person's rows, in fen) and ``unemployment_registered``: exclusion
signals (a wage or pension that lifts income over the line) and discovery signals (unemployment).
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters._datasets import DatasetSpec
from adapters._kind import KindAdapter, fact, unique
from adapters._values import parse_flag, parse_int
from hub.v1 import verification_pb2 as pb

INSURED_PERSONS = DatasetSpec(
    "insured_persons",
    ("id_number", "name", "employer", "monthly_wage_fen", "pension_fen", "unemployment_registered"),
    doc="参保人员: one row per insured person and employer (or pension)",
)


class HrssAdapter(KindAdapter):
    kind = "hrss"
    DATASETS = (INSURED_PERSONS,)

    async def facts(self, id_numbers: Sequence[str]) -> list[pb.SourceFact]:
        found = await self.datasets[INSURED_PERSONS.name].by_id(id_numbers)
        facts: list[pb.SourceFact] = []
        for number in id_numbers:
            rows = found.get(number)
            if not rows:
                continue
            employers = unique(e for r in rows if (e := r.get("employer", "")))
            facts += [fact(number, "employer", e) for e in employers]
            for name in ("monthly_wage_fen", "pension_fen"):
                amounts = [a for r in rows if (a := parse_int(r.get(name, ""))) is not None]
                if amounts:
                    facts.append(fact(number, name, sum(amounts)))
            flags = [parse_flag(r["unemployment_registered"]) for r in rows if "unemployment_registered" in r]
            flags = [f for f in flags if f is not None]
            if flags:
                facts.append(fact(number, "unemployment_registered", any(flags)))
        return facts
