"""Chinese and English labels for codes, as officers read them in exports and reports."""

from __future__ import annotations

from collections.abc import Mapping

PROGRAMMES = {
    "dibao": "低保 dibao",
    "tekun": "特困 tekun",
    "dibao_edge": "低保边缘 dibao edge",
    "temporary": "临时救助 temporary",
    "rigid_expenditure": "刚性支出困难 rigid expenditure",
    "relapse_monitoring": "防返贫监测 relapse monitoring",
}

STATUSES = {
    "open": "待核查 open",
    "under_review": "核查中 under review",
    "confirmed": "属实 confirmed",
    "dismissed": "排除 dismissed",
}

SIGNALS = {
    "exclusion": "排除性 exclusion",
    "discovery": "主动发现 discovery",
    "duplicate": "重复救助 duplicate",
}

SEVERITIES = {"high": "高 high", "medium": "中 medium", "low": "低 low"}


def label(labels: dict[str, str], code: str) -> str:
    return labels.get(code, code)


def yuan(fen: int | None) -> str:
    return "" if fen is None else f"{fen / 100:.2f}"


def title_of(titles: Mapping[str, str], rule: str, region: str) -> str:
    """The title of ``rule`` as the rule file of ``region`` (a finding's ``region``) states it (``rule_titles``)."""
    return titles.get(f"{region}:{rule}") or titles.get(rule, "")
