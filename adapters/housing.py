"""Housing and real-estate registry (住建 / 不动产登记): properties held by each person.

Contributes household-check facts ``property_count`` and ``non_residential_count`` (any use other
than housing, e.g. 商业, 办公, 工业): exclusion signals (two or more homes, any non-residential
property). Addresses and certificate numbers never leave the adapter.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters._datasets import DatasetSpec
from adapters._kind import KindAdapter, fact
from hub.v1 import verification_pb2 as pb

PROPERTIES = DatasetSpec(
    "properties",
    ("id_number", "certificate_number", "usage", "area_m2", "location", "region_code"),
    doc="不动产登记: one row per property and right holder",
)
RESIDENTIAL = frozenset({"住宅", "成套住宅", "宅基地", "农村宅基地", "residential"})


class HousingAdapter(KindAdapter):
    kind = "housing"
    DATASETS = (PROPERTIES,)

    async def facts(self, id_numbers: Sequence[str]) -> list[pb.SourceFact]:
        found = await self.datasets[PROPERTIES.name].by_id(id_numbers)
        facts: list[pb.SourceFact] = []
        for number in id_numbers:
            rows = found.get(number)
            if not rows:
                continue
            non_residential = sum(r.get("usage", "").strip().lower() not in RESIDENTIAL for r in rows)
            facts += [
                fact(number, "property_count", len(rows)),
                fact(number, "non_residential_count", non_residential),
            ]
        return facts
