"""A hand-built world in which every default rule fires exactly where it should, next to near misses.

Each case says why it is, or is not, a hit. Localities: 110105 and 440308 follow ``default.toml`` (低保标准
628 yuan, incomes over three months); 130629 follows the packaged county file (700 yuan, six months, medical
spending above ten times the standard). ``expected`` maps each rule to its hits as (locality, household head's
ID number, subject's ID number), the subject being the person for person-level rules and the head otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.v1 import feeds_pb2 as pb
from tests.findings.conftest import H1, Q2, World, new_id

Hit = tuple[str, str, str]


@dataclass
class Dataset:
    world: World = field(default_factory=World)
    expected: dict[str, set[Hit]] = field(default_factory=dict)
    #: Named persons the lifecycle tests pick up.
    people: dict[str, str] = field(default_factory=dict)

    def expect(self, rule: str, locality: str, head: str, subject: str | None = None) -> None:
        self.expected.setdefault(rule, set()).add((locality, head, subject or head))


def build() -> Dataset:
    d = Dataset()
    w = d.world

    # --- income_over_standard: 低保, active only, wages + pensions, per capita > standard -------------------
    h = w.household("110105", 3)
    w.wages(h[1], 200_000, Q2)  # 600,000 / 3 months / 3 persons = 66,666 > 62,800
    d.expect("income_over_standard", "110105", h[0])
    h = w.household("110105", 3)
    w.wages(h[1], 180_000, Q2)  # 60,000 ≤ 62,800: a near miss
    h = w.household("110105", 2, status="gradual_exit")
    w.wages(h[0], 300_000, Q2)  # far over, but in its 渐退期: disregarded
    h = w.household("110105", 2)
    w.wages(h[0], 100_000, Q2)  # wages alone: 50,000
    w.pensions(h[1], 30_000, Q2)  # with the pension: 390,000 / 6 = 65,000 > 62,800
    d.expect("income_over_standard", "110105", h[0])
    h = w.household("110105", 3)
    w.wages(h[0], 500_000, ["2025-01", "2025-02", "2025-03"])  # outside the three-month window
    h = w.household("110105", 3)
    w.enrol(new_id("110105"), h[0], "110105", "dibao", status="ended", until="2025-05-31")  # left: not counted
    w.wages(h[2], 190_000, Q2)  # 570,000 / 9 = 63,333 > 62,800 (it would be 47,500 among four)
    d.expect("income_over_standard", "110105", h[0])
    h = w.household("130629", 2)
    w.wages(h[0], 150_000, H1)  # county: 900,000 / 6 months / 2 = 75,000 > 70,000
    d.expect("income_over_standard", "130629", h[0])
    h = w.household("130629", 2)
    w.wages(h[0], 135_000, H1)  # county: 67,500 ≤ 70,000 (the default would flag 67,500 > 62,800)

    # --- tekun_income: a 特困 person earning over three months of the standard in three months --------------
    h = w.household("110105", 1, "tekun")
    w.wages(h[0], 70_000, Q2)  # 210,000 > 188,400
    d.expect("tekun_income", "110105", h[0], h[0])
    h = w.household("110105", 1, "tekun")
    w.wages(h[0], 60_000, Q2)  # 180,000: no

    # --- second_home and non_residential_property -----------------------------------------------------
    h = w.household("440308", 2)
    w.property(h[0], "粤(2019)深圳市不动产权第0000001号")
    w.property(h[1], "粤(2019)深圳市不动产权第0000002号")  # two homes in the household
    d.expect("second_home", "440308", h[0])
    h = w.household("440308", 2)
    w.property(h[0], "粤(2019)深圳市不动产权第0000003号")
    w.property(h[1], "粤(2019)深圳市不动产权第0000003号")  # one home owned jointly: not two
    h = w.household("440308", 1)
    w.property(h[0], "粤(2019)深圳市不动产权第0000004号")
    w.property(h[0], "粤(2019)深圳市不动产权第0000005号", pb.PROPERTY_KIND_PARKING)  # a parking space: neither rule
    h = w.household("440308", 2, "dibao_edge")
    w.property(h[1], "粤(2019)深圳市不动产权第0000006号", pb.PROPERTY_KIND_COMMERCIAL)
    d.expect("non_residential_property", "440308", h[0])
    h = w.household("440308", 1, "temporary")
    w.property(h[0], "粤(2019)深圳市不动产权第0000007号", pb.PROPERTY_KIND_OFFICE)  # 临时救助: not examined

    # --- state_salaried: employed by a state organ or public institution, still employed --------------------
    h = w.household("110105", 2)
    w.employment(h[1], pb.EMPLOYER_KIND_STATE_ORGAN, "2024-03-01")
    d.expect("state_salaried", "110105", h[0], h[1])
    h = w.household("110105", 2)
    w.employment(h[1], pb.EMPLOYER_KIND_PUBLIC_INSTITUTION, "2023-03-01", "2025-03-01")  # ended before
    h = w.household("110105", 2)
    w.employment(h[1], pb.EMPLOYER_KIND_ENTERPRISE, "2024-03-01")  # a company job: not this rule

    # --- member_died -----------------------------------------------------------------------------------
    h = w.household("110105", 2)
    w.death(h[1], "2025-05-01")
    d.expect("member_died", "110105", h[0], h[1])
    d.people["died"] = h[1]
    h = w.household("440308", 1, status="suspended")
    w.death(h[0], "2025-05-01")  # suspended: not examined
    h = w.household("440308", 1, until="2025-04-30", status="ended")
    w.death(h[0], "2025-05-01")  # left the roster before
    w.death("11010519491231002X", "2025-02-01")  # never on a roster

    # --- medical_spending: household out-of-pocket over 12 months ------------------------------------------
    h = w.household("110105", 2, "dibao_edge")
    w.settlement(h[0], 400_000, "2024-10-10")
    w.settlement(h[1], 400_000, "2025-02-10")  # 800,000 > 753,600
    d.expect("medical_spending", "110105", h[0])
    h = w.household("110105", 2)
    w.settlement(h[0], 700_000, "2025-01-10")  # 700,000 ≤ 753,600
    w.settlement(h[1], 300_000, "2024-05-10")  # before the window
    h = w.household("130629", 2)
    w.settlement(h[0], 720_000, "2025-01-10")  # county: 720,000 > 700,000
    d.expect("medical_spending", "130629", h[0])
    # on 低保 and 低保边缘 at once: the settlements count once (400,000), not twice (800,000)
    twice = w.household("110105", 1)
    w.enrol(twice[0], twice[0], "110105", "dibao_edge", since="2024-03-01")
    w.settlement(twice[0], 200_000, "2025-01-10")
    w.settlement(twice[0], 200_000, "2025-03-10")
    d.expect("duplicate_programme", "110105", twice[0], twice[0])

    # --- university_entrant, unemployment_registered -------------------------------------------------------
    h = w.household("110105", 3)
    w.entrant(h[2], "2024-09-01")
    d.expect("university_entrant", "110105", h[0], h[2])
    h = w.household("110105", 3)
    w.entrant(h[2], "2023-09-01")  # more than twelve months ago
    h = w.household("110105", 2)
    w.unemployment(h[1], "2025-02-01")
    d.expect("unemployment_registered", "110105", h[0], h[1])
    h = w.household("110105", 2)
    w.unemployment(h[1], "2024-11-01", "2025-05-01")  # found work since

    # --- income_marginal: 临时救助 etc., per capita in (1.0, 1.5] × standard ---------------------------------
    h = w.household("110105", 2, "temporary")
    w.wages(h[0], 140_000, Q2)  # 70,000
    d.expect("income_marginal", "110105", h[0])
    h = w.household("110105", 2, "temporary")
    w.wages(h[0], 200_000, Q2)  # 100,000 > 94,200
    h = w.household("110105", 2, "temporary")
    w.wages(h[0], 120_000, Q2)  # 60,000 ≤ 62,800

    # --- monitored_household ---------------------------------------------------------------------------
    h = w.household("110105", 2, "rigid_expenditure")
    w.monitored(h[1], h[0], "2024-11-01")
    d.expect("monitored_household", "110105", h[0], h[1])
    h = w.household("110105", 2, "rigid_expenditure")
    w.monitored(h[1], h[0], "2024-11-01", "2025-03-01")  # risk cleared

    # --- duplicates --------------------------------------------------------------------------------------
    h = w.household("110105", 2, since="2024-01-01", amount=60_000)
    w.enrol(h[1], h[1], "440308", "dibao", since="2024-06-01", amount=55_000)  # the later enrolment, elsewhere
    d.expect("duplicate_locality", "440308", h[1], h[1])
    d.people["two_localities"] = h[1]
    h = w.household("110105", 1, since="2023-01-01")
    w.enrol(h[0], h[0], "440308", "dibao", since="2023-06-01", until="2024-05-31", status="ended")  # not both now
    h = w.household("110105", 1, since="2024-01-01", amount=50_000)
    w.enrol(h[0], h[0], "110105", "tekun", since="2024-03-01", amount=90_000)  # 特困 takes precedence
    d.expect("duplicate_programme", "110105", h[0], h[0])
    h = w.household("110105", 1)
    w.enrol(h[0], h[0], "110105", "temporary", since="2025-02-01")  # 临时救助 on top of 低保 is allowed

    # --- repeat_temporary: 临时救助 twice for the same cause within twelve months (window from 2024-07-01) ------
    h = [new_id("110105"), new_id("110105")]
    w.grant(h, h[0], "110105", "fire", "2024-09-10", amount=100_000)
    w.grant(h, h[0], "110105", "fire", "2025-03-05", amount=150_000)  # the repeat
    d.expect("repeat_temporary", "110105", h[0])
    d.people["repeat_head"] = h[0]
    h = [new_id("440308") for _ in range(3)]
    w.grant(h[:2], h[0], "440308", "accident", "2024-11-01")
    w.grant(h[1:], h[0], "440308", "accident", "2025-05-01")  # the household again, through other members
    d.expect("repeat_temporary", "440308", h[0])
    h = [new_id("110105"), new_id("110105")]
    w.grant(h, h[0], "110105", "fire", "2024-10-01")
    w.grant(h, h[0], "110105", "sudden_illness", "2025-04-01")  # another cause
    h = [new_id("110105"), new_id("110105")]
    w.grant(h, h[0], "110105", "fire", "2024-06-15")  # before the window
    w.grant(h, h[0], "110105", "fire", "2025-05-01")
    h = [new_id("110105"), new_id("110105")]
    w.grant(h, h[0], "110105", "", "2024-10-01")  # the cause not said
    w.grant(h, h[0], "110105", "", "2025-04-01")
    h = [new_id("110105"), new_id("110105")]
    w.grant(h, h[0], "110105", "other", "2024-10-01")  # 其他: no one cause
    w.grant(h, h[0], "110105", "other", "2025-04-01")
    h = [new_id("110105")]
    w.grant(h, h[0], "110105", "fire", "2024-08-01", programme="dibao_edge")  # not 临时救助
    w.grant(h, h[0], "110105", "fire", "2025-02-01", programme="dibao_edge")
    h = w.household("110105", 2)  # on 低保, so listed twice: one grant listed for each member is one grant
    w.grant(h, h[0], "110105", "natural_disaster", "2025-01-10")
    h = [new_id("130629"), new_id("130629")]
    w.grant(h, h[0], "130629", "medical_expense", "2024-08-01", status="suspended")  # never paid: not examined
    w.grant(h, h[0], "130629", "medical_expense", "2025-02-01")
    return d
