"""Comparison rules as data (数据比对规则): per-region TOML files, checked into typed rules.

A rule file names a region (a GB/T 2260 prefix; ``""`` for the default), its local parameters (the 低保标准) and
its rules, keyed by code. A region file inherits everything from the nearest file whose prefix is shorter (the
default at the root), so a county states only what differs::

    region = "130629"
    name = "容城县"
    [standard]
    dibao_monthly_fen = 75000          # 750 yuan per person per month
    [rules.income_over_standard]
    months = 6                         # one key overrides one parameter
    [rules.second_home]
    enabled = false                    # this county does not apply the rule

Five shapes cover the signals of DOMAIN.md; a new rule of one of them is a new table in a file, no code:

- ``threshold``: amounts from ``feeds`` summed over ``months`` (per capita and month, per household, per
  person) compared with multiples of the standard (``above``, ``at_most``) or amounts (``above_fen``, ...);
- ``count``: records of ``feed`` matching ``where`` per household or person, ``at_least`` n (``distinct`` names
  the column that identifies one thing, e.g. a certificate owned jointly by two members);
- ``existence``: any record of ``feed`` matching ``where``, within ``within_months`` or ``current`` on the day;
- ``duplicate``: one person active twice in the rosters, ``across`` two localities or two of ``programmes``
  (listed by precedence: 特困 > 低保 > 边缘 > 刚性支出; the later one is the redundant payment);
- ``repeat``: a household granted ``programmes`` (临时救助) twice or more for the same cause (one of ``causes``)
  within ``within_months`` (the window of that many months ending with the comparison's month). A household,
  not a person: 临时救助 is granted to the family, so a repeat through another member is a repeat all the same,
  and one grant listed once for each member is one grant (grants differ by their ``since``).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from hub.errors import InvalidArgument
from hub.findings._facts import FACTS, facts_of, roster_codes
from hub.identifiers import validate_region_prefix


class Signal(StrEnum):
    """What a hit suggests: a reason to stop (exclusion), a need to help (discovery), a double payment."""

    EXCLUSION = "exclusion"
    DISCOVERY = "discovery"
    DUPLICATE = "duplicate"


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Shape(StrEnum):
    THRESHOLD = "threshold"
    COUNT = "count"
    EXISTENCE = "existence"
    DUPLICATE = "duplicate"
    REPEAT = "repeat"


class Per(StrEnum):
    """Whom a finding is about: one person, or the household (its head's token) as a whole."""

    PERSON = "person"
    HOUSEHOLD = "household"


class Measure(StrEnum):
    #: Household total over the window ÷ months ÷ members: the per-capita monthly income of the 低保 test.
    PER_CAPITA_MONTHLY = "per_capita_monthly"
    HOUSEHOLD_TOTAL = "household_total"
    PERSON_TOTAL = "person_total"


class Across(StrEnum):
    LOCALITY = "locality"
    PROGRAMME = "programme"


#: Roster statuses of persons on assistance; 渐退期 (gradual exit) included unless a rule disregards it.
ON_ASSISTANCE = ("active", "gradual_exit")


@dataclass(frozen=True)
class Bound:
    """A threshold: ``percent`` hundredths of the local 低保标准, or an amount in ``fen``."""

    percent: int | None = None
    fen: int | None = None

    def in_fen(self, standard_fen: int) -> int:
        """The bound as an amount (rounded down), for evidence and display."""
        return self.fen if self.fen is not None else (self.percent or 0) * standard_fen // 100


#: Enumerated-column filters: ((column, (codes, ...)), ...), sorted so equal rules compare equal.
Filters = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True, kw_only=True)
class Rule:
    code: str
    title: str
    signal: Signal
    severity: Severity
    #: Roster programmes whose persons the rule examines.
    programmes: tuple[str, ...]
    #: Roster statuses examined: a rule that disregards 渐退期 lists only ``active``.
    statuses: tuple[str, ...] = ON_ASSISTANCE
    #: Days a township has to resolve a finding of this rule (``None``: the configured default).
    due_days: int | None = None

    @property
    def shape(self) -> Shape:
        raise NotImplementedError

    @property
    def per(self) -> Per:
        return Per.PERSON

    def kinds(self) -> tuple[str, ...]:
        """The feeds the rule reads (the rosters aside)."""
        return ()

    def window_months(self) -> int | None:
        """How far back the rule looks, in months (``None``: no limit)."""
        return None

    def describe(self) -> dict[str, Any]:
        document = asdict(self)
        document["shape"] = str(self.shape)
        return document


@dataclass(frozen=True, kw_only=True)
class ThresholdRule(Rule):
    feeds: tuple[str, ...]
    months: int
    measure: Measure
    above: Bound
    at_most: Bound | None = None
    where: Filters = ()

    @property
    def shape(self) -> Shape:
        return Shape.THRESHOLD

    @property
    def per(self) -> Per:
        return Per.PERSON if self.measure is Measure.PERSON_TOTAL else Per.HOUSEHOLD

    def kinds(self) -> tuple[str, ...]:
        return self.feeds

    def window_months(self) -> int | None:
        return self.months


@dataclass(frozen=True, kw_only=True)
class CountRule(Rule):
    feed: str
    at_least: int
    count_per: Per = Per.HOUSEHOLD
    where: Filters = ()
    distinct: str | None = None
    within_months: int | None = None

    @property
    def shape(self) -> Shape:
        return Shape.COUNT

    @property
    def per(self) -> Per:
        return self.count_per

    def kinds(self) -> tuple[str, ...]:
        return (self.feed,)

    def window_months(self) -> int | None:
        return self.within_months


@dataclass(frozen=True, kw_only=True)
class ExistenceRule(Rule):
    feed: str
    where: Filters = ()
    within_months: int | None = None
    #: The record holds on the day of the comparison (started, not ended).
    current: bool = False

    @property
    def shape(self) -> Shape:
        return Shape.EXISTENCE

    def kinds(self) -> tuple[str, ...]:
        return (self.feed,)

    def window_months(self) -> int | None:
        return self.within_months


@dataclass(frozen=True, kw_only=True)
class DuplicateRule(Rule):
    across: Across

    @property
    def shape(self) -> Shape:
        return Shape.DUPLICATE


@dataclass(frozen=True, kw_only=True)
class RepeatRule(Rule):
    """Two or more grants of ``programmes`` to one household for the same cause, both within ``within_months``."""

    within_months: int
    #: The causes examined (codes of ``RosterRow.cause``); a grant whose cause is not said is never a repeat.
    causes: tuple[str, ...]

    @property
    def shape(self) -> Shape:
        return Shape.REPEAT

    @property
    def per(self) -> Per:
        return Per.HOUSEHOLD

    def window_months(self) -> int | None:
        return self.within_months


AnyRule = ThresholdRule | CountRule | ExistenceRule | DuplicateRule | RepeatRule


@dataclass(frozen=True)
class RegionRules:
    """The resolved rules of one region: its own file over its ancestors'."""

    prefix: str
    name: str
    #: 低保标准: yuan per person per month, in fen (local).
    standard_fen: int
    rules: tuple[AnyRule, ...]
    sources: tuple[str, ...] = ()

    def rule(self, code: str) -> AnyRule:
        for rule in self.rules:
            if rule.code == code:
                return rule
        raise InvalidArgument("rule", f"region {self.prefix or '(default)'} has no rule {code!r}")


@dataclass(frozen=True)
class Scope:
    """Where one region's rules apply within a run: under ``prefix``, not under a more specific region."""

    rules: RegionRules
    prefix: str
    excluded: tuple[str, ...]


@dataclass(frozen=True)
class RuleBook:
    regions: tuple[RegionRules, ...]

    def __post_init__(self) -> None:
        prefixes = [r.prefix for r in self.regions]
        if "" not in prefixes:
            raise InvalidArgument("rules", 'a rule book needs a default (region = "")')
        if len(set(prefixes)) != len(prefixes):
            raise InvalidArgument("rules", "two rule files name the same region")

    def region(self, prefix: str) -> RegionRules:
        for region in self.regions:
            if region.prefix == prefix:
                return region
        raise InvalidArgument("region", f"no rule file for region {prefix!r}")

    def governing(self, locality: str) -> RegionRules:
        """The rules that apply to ``locality``: the longest region prefix it starts with."""
        return max((r for r in self.regions if locality.startswith(r.prefix)), key=lambda r: len(r.prefix))

    def scopes(self, region: str | None = None) -> Iterator[Scope]:
        """Each region's share of a run limited to ``region`` (all localities when ``None``)."""
        within = region or ""
        for rules in self.regions:
            if rules.prefix.startswith(within):
                prefix = rules.prefix
            elif within.startswith(rules.prefix):
                prefix = within
            else:
                continue
            excluded = tuple(
                other.prefix
                for other in self.regions
                if len(other.prefix) > len(rules.prefix)
                and other.prefix.startswith(rules.prefix)
                and (other.prefix.startswith(prefix) or prefix.startswith(other.prefix))
            )
            if any(prefix.startswith(e) for e in excluded):
                continue  # the run's region lies wholly within a more specific region
            yield Scope(rules, prefix, tuple(sorted(excluded)))

    def digest(self) -> str:
        """SHA-256 of the resolved rules: a run records which rules it applied."""
        document = [
            {"prefix": r.prefix, "standard_fen": r.standard_fen, "rules": [x.describe() for x in r.rules]}
            for r in self.regions
        ]
        return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


# --- loading -----------------------------------------------------------------------------------------------

DEFAULT_FILE = "default.toml"


def packaged_rules_dir() -> Path:
    return Path(str(resources.files("hub.findings") / "rules"))


def load_rules(directory: Path | None = None) -> RuleBook:
    """The rule book of ``directory`` (``default.toml`` plus ``<prefix>.toml`` per region); the packaged
    default fills in when the directory has no ``default.toml``. ``None``: the packaged rules."""
    packaged = packaged_rules_dir()
    directory = directory or packaged
    if not directory.is_dir():
        raise InvalidArgument("rules_dir", f"{directory} is not a directory of rule files")
    documents: dict[str, tuple[str, dict[str, Any]]] = {}
    default = directory / DEFAULT_FILE
    base = default if default.is_file() else packaged / DEFAULT_FILE
    documents[""] = (base.name, _read(base))
    for path in sorted(directory.glob("*.toml")):
        if path.name == DEFAULT_FILE:
            continue
        document = _read(path)
        prefix = str(document.get("region", ""))
        if path.stem != prefix:
            raise InvalidArgument(f"{path.name}:region", f"the file of region {prefix!r} must be named {prefix}.toml")
        documents[prefix] = (path.name, document)
    return resolve(documents)


def parse_rules(documents: Mapping[str, Mapping[str, Any]]) -> RuleBook:
    """A rule book from parsed documents keyed by region prefix (``""``: the default); for tests and tools."""
    return resolve({prefix: (f"{prefix or 'default'}.toml", dict(doc)) for prefix, doc in documents.items()})


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise InvalidArgument(path.name, f"is not valid TOML: {error}") from None


def resolve(documents: Mapping[str, tuple[str, dict[str, Any]]]) -> RuleBook:
    if "" not in documents:
        raise InvalidArgument("rules", 'a rule book needs a default (region = "")')
    merged: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {}
    for prefix in sorted(documents, key=len):
        name, document = documents[prefix]
        if prefix:
            validate_region_prefix(prefix, f"{name}:region")
        if str(document.get("region", "")) != prefix:
            raise InvalidArgument(f"{name}:region", f"names region {document.get('region')!r}, expected {prefix!r}")
        parent = max((p for p in merged if prefix.startswith(p) and p != prefix), key=len, default=None)
        sources, inherited = merged[parent] if parent is not None else ((), {})
        merged[prefix] = ((*sources, name), _merge(inherited, document))
    regions = tuple(_region(prefix, sources, document) for prefix, (sources, document) in sorted(merged.items()))
    return RuleBook(regions)


def _merge(parent: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """Child keys over parent keys; ``standard`` and each rule merge key by key."""
    result = {k: v for k, v in parent.items() if k not in ("standard", "rules")}
    result.update({k: v for k, v in child.items() if k not in ("standard", "rules")})
    result["standard"] = {**parent.get("standard", {}), **child.get("standard", {})}
    rules = {code: dict(body) for code, body in parent.get("rules", {}).items()}
    for code, body in child.get("rules", {}).items():
        rules[code] = {**rules.get(code, {}), **body}
    result["rules"] = rules
    return result


def _region(prefix: str, sources: tuple[str, ...], document: Mapping[str, Any]) -> RegionRules:
    where = sources[-1]
    unknown = set(document) - {"region", "name", "standard", "rules"}
    if unknown:
        raise InvalidArgument(f"{where}", f"unknown keys {', '.join(sorted(unknown))}")
    standard = _Fields(f"{where}:standard", document["standard"])
    standard_fen = standard.integer("dibao_monthly_fen", minimum=1)
    standard.done()
    rules = []
    for code, body in sorted(document["rules"].items()):
        if body.get("enabled", True) is False:
            continue
        rules.append(parse_rule(code, body, where=f"{where}:rules.{code}"))
    return RegionRules(prefix, str(document.get("name", prefix or "default")), standard_fen, tuple(rules), sources)


class _Fields:
    """Reads a rule's keys one by one; whatever is left unread at the end is a typo and refused."""

    def __init__(self, where: str, body: Mapping[str, Any]) -> None:
        if not isinstance(body, Mapping):
            raise InvalidArgument(where, "must be a table")
        self.where = where
        self.body = dict(body)

    def _take(self, key: str) -> Any:
        return self.body.pop(key, None)

    def error(self, key: str, explanation: str) -> InvalidArgument:
        return InvalidArgument(f"{self.where}.{key}", explanation)

    def text(self, key: str, default: str | None = None) -> str:
        value = self._take(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, str) or not value:
            raise self.error(key, "is required text")
        return value

    def choice(self, key: str, options: type[StrEnum], default: StrEnum | None = None) -> Any:
        value = self._take(key)
        if value is None and default is not None:
            return default
        try:
            return options(value)
        except ValueError:
            raise self.error(key, f"must be one of {', '.join(o.value for o in options)}") from None

    def integer(self, key: str, *, minimum: int = 0, default: int | None = None, optional: bool = False) -> Any:
        value = self._take(key)
        if value is None and (default is not None or optional):
            return default
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self.error(key, f"must be a whole number ≥ {minimum}")
        return value

    def flag(self, key: str) -> bool:
        value = self._take(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false")
        return value

    def codes(self, key: str, allowed: Iterable[str], *, default: tuple[str, ...] | None = None) -> tuple[str, ...]:
        value = self._take(key)
        if value is None and default is not None:
            return default
        allowed = frozenset(allowed)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise self.error(key, "must be a non-empty list of codes")
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise self.error(key, f"unknown codes {', '.join(unknown)} (known: {', '.join(sorted(allowed))})")
        if len(set(value)) != len(value):
            raise self.error(key, "lists a code twice")
        return tuple(value)

    def bound(self, key: str, *, required: bool) -> Bound | None:
        multiple, fen = self._take(key), self._take(f"{key}_fen")
        if multiple is None and fen is None:
            if required:
                raise self.error(key, f"give {key} (a multiple of the standard) or {key}_fen (an amount)")
            return None
        if multiple is not None and fen is not None:
            raise self.error(key, f"give {key} or {key}_fen, not both")
        if fen is not None:
            if not isinstance(fen, int) or isinstance(fen, bool) or fen < 0:
                raise self.error(f"{key}_fen", "must be a whole amount in fen ≥ 0")
            return Bound(fen=fen)
        try:
            hundredths = Decimal(str(multiple)) * 100
        except InvalidOperation:
            raise self.error(key, "must be a number (a multiple of the standard)") from None
        if isinstance(multiple, bool) or hundredths < 0 or hundredths != hundredths.to_integral_value():
            raise self.error(key, "must be a multiple ≥ 0 with at most two decimals, e.g. 1.5")
        return Bound(percent=int(hundredths))

    def filters(self, key: str, kinds: tuple[str, ...]) -> Filters:
        value = self._take(key)
        if value is None:
            return ()
        if not isinstance(value, Mapping):
            raise self.error(key, 'must be a table of column = ["code", ...]')
        result = []
        for column, codes in sorted(value.items()):
            allowed: frozenset[str] | None = None
            for kind in kinds:
                kind_codes = facts_of(kind).enum_codes(column)
                if kind_codes is None:
                    raise self.error(f"{key}.{column}", f"{kind} records have no enumerated column {column}")
                allowed = kind_codes if allowed is None else allowed & kind_codes
            nested = _Fields(f"{self.where}.{key}", {column: codes})
            result.append((column, tuple(sorted(nested.codes(column, allowed or ())))))
        return tuple(result)

    def done(self) -> None:
        if self.body:
            raise InvalidArgument(self.where, f"unknown keys {', '.join(sorted(self.body))}")


def _feed(fields: _Fields, key: str = "feed") -> str:
    code = fields.text(key)
    facts_of(code, f"{fields.where}.{key}")
    return code


def parse_rule(code: str, body: Mapping[str, Any], *, where: str = "rule") -> AnyRule:
    """One rule from its table; ``InvalidArgument`` names the file, rule and key at fault."""
    if not code.replace("_", "").isalnum() or not code.isascii() or len(code) > 64:
        raise InvalidArgument(where, "a rule code is up to 64 ASCII letters, digits and underscores")
    fields = _Fields(where, body)
    fields.flag("enabled")
    shape = fields.choice("shape", Shape)
    common: dict[str, Any] = {
        "code": code,
        "title": fields.text("title"),
        "severity": fields.choice("severity", Severity),
        "programmes": fields.codes("programmes", roster_codes("programme")),
        "statuses": fields.codes("statuses", roster_codes("status"), default=ON_ASSISTANCE),
        "due_days": fields.integer("due_days", minimum=1, optional=True),
    }
    rule: AnyRule
    if shape is Shape.DUPLICATE:
        fields.choice("signal", Signal, Signal.DUPLICATE)
        rule = DuplicateRule(signal=Signal.DUPLICATE, across=fields.choice("across", Across), **common)
    elif shape is Shape.REPEAT:
        _duplicate_signal(fields, shape)
        causes = roster_codes("cause")
        rule = RepeatRule(
            signal=Signal.DUPLICATE,
            within_months=fields.integer("within_months", minimum=1),
            causes=tuple(sorted(fields.codes("causes", causes, default=tuple(sorted(causes))))),
            **common,
        )
    else:
        signal = fields.choice("signal", Signal)
        if signal is Signal.DUPLICATE:
            raise fields.error("signal", 'duplicate signals come from shape = "duplicate"')
        common["signal"] = signal
        rule = _feed_rule(shape, fields, common)
    fields.done()
    return rule


def _duplicate_signal(fields: _Fields, shape: Shape) -> None:
    if fields.choice("signal", Signal, Signal.DUPLICATE) is not Signal.DUPLICATE:
        raise fields.error("signal", f'a rule of shape "{shape}" raises duplicate signals')


def _feed_rule(shape: Shape, fields: _Fields, common: dict[str, Any]) -> AnyRule:
    if shape is Shape.THRESHOLD:
        feeds = fields.codes("feeds", FACTS)
        for kind in feeds:
            if facts_of(kind, f"{fields.where}.feeds").amount is None:
                raise fields.error("feeds", f"{kind} records carry no amount to sum")
        rule: AnyRule = ThresholdRule(
            feeds=feeds,
            months=fields.integer("months", minimum=1),
            measure=fields.choice("measure", Measure),
            above=_required(fields.bound("above", required=True)),
            at_most=fields.bound("at_most", required=False),
            where=fields.filters("where", feeds),
            **common,
        )
        return rule
    feed = _feed(fields)
    if shape is Shape.COUNT:
        distinct = fields._take("distinct")
        if distinct is not None and not (isinstance(distinct, str) and facts_of(feed).record_column(distinct)):
            raise fields.error("distinct", f"must name a column of {feed} records")
        return CountRule(
            feed=feed,
            at_least=fields.integer("at_least", minimum=1),
            count_per=fields.choice("per", Per, Per.HOUSEHOLD),
            where=fields.filters("where", (feed,)),
            distinct=distinct,
            within_months=fields.integer("within_months", minimum=1, optional=True),
            **common,
        )
    current = fields.flag("current")
    if current and facts_of(feed).end is None:
        raise fields.error("current", f"{feed} records are events; they have no end to be current until")
    return ExistenceRule(
        feed=feed,
        where=fields.filters("where", (feed,)),
        within_months=fields.integer("within_months", minimum=1, optional=True),
        current=current,
        **common,
    )


def _required(bound: Bound | None) -> Bound:
    assert bound is not None
    return bound
