"""Portable SQL text: evidence as JSON built by string concatenation, so one statement runs on every backend.

SQLite's ``json_object`` and PostgreSQL's ``json_build_object`` differ in name, in spacing and in how they type
their arguments; concatenating casts gives byte-identical evidence on both (and on DuckDB in the benchmark).
The values are numbers, dates, codes and record keys: none needs escaping.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from functools import reduce
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Integer,
    Join,
    Numeric,
    Select,
    String,
    case,
    cast,
    literal,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Executable


def as_text(value: ColumnElement[Any]) -> ColumnElement[str]:
    return cast(value, String)


def _is_number(value: ColumnElement[Any]) -> bool:
    return isinstance(value.type, Integer | BigInteger | Numeric)


def _json_value(value: ColumnElement[Any]) -> ColumnElement[str]:
    shown = as_text(value) if _is_number(value) else literal('"', String) + as_text(value) + literal('"', String)
    return case((value.is_(None), literal("null", String)), else_=shown)


def json_constant(value: Any) -> str:
    """A Python value as the evidence writes it."""
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


@dataclass(frozen=True)
class JsonFragment:
    """A value the statement picks among texts already written as JSON (a figure that differs by region)."""

    text: ColumnElement[str]


def json_text(*pairs: tuple[str, Any]) -> ColumnElement[str]:
    """A JSON object whose values are SQL expressions (numbers, dates, text), ``JsonFragment``s or Python
    constants."""
    pieces: list[ColumnElement[str]] = []
    text = "{"
    for index, (key, value) in enumerate(pairs):
        text += ("," if index else "") + json.dumps(key, ensure_ascii=False) + ":"
        if isinstance(value, JsonFragment | ColumnElement):
            pieces.append(literal(text, String))
            pieces.append(value.text if isinstance(value, JsonFragment) else _json_value(value))
            text = ""
        else:
            text += json_constant(value)
    pieces.append(literal(text + "}", String))
    return reduce(lambda left, right: left + right, pieces)


def joined(*parts: ColumnElement[Any] | str, separator: str = "|") -> ColumnElement[str]:
    """``a|b|c`` of the parts' text (a NULL part shows as empty): the evidence key."""
    pieces: list[ColumnElement[str]] = []
    for index, part in enumerate(parts):
        if index:
            pieces.append(literal(separator, String))
        if isinstance(part, str):
            pieces.append(literal(part, String))
        else:
            pieces.append(case((part.is_(None), literal("", String)), else_=as_text(part)))
    return reduce(lambda left, right: left + right, pieces)


class OrderedJoin(Join):
    """An inner join whose left side drives the loop. On SQLite it is written ``CROSS JOIN``, the one way to fix
    the order of its nested loops: without statistics its planner puts the more filtered side outside, which for
    a million-person roster against a few thousand deaths probes the wrong table a million times."""

    inherit_cache = True


def ordered_join(left: FromClause, right: FromClause, onclause: ColumnElement[bool]) -> OrderedJoin:
    return OrderedJoin(left, right, onclause)


@compiles(OrderedJoin, "sqlite")
def _cross_join(join: OrderedJoin, compiler: SQLCompiler, from_linter: Any = None, **kw: Any) -> str:
    if from_linter:
        from_linter.edges.update(itertools.product(join.left._from_objects, join.right._from_objects))
    kw.pop("asfrom", None)
    left = join.left._compiler_dispatch(compiler, asfrom=True, from_linter=from_linter, **kw)
    right = join.right._compiler_dispatch(compiler, asfrom=True, from_linter=from_linter, **kw)
    assert join.onclause is not None
    onclause = join.onclause._compiler_dispatch(compiler, from_linter=from_linter, **kw)
    return f"{left} CROSS JOIN {right} ON {onclause}"


class CreateTemporaryAs(Executable, ClauseElement):
    """``CREATE TEMPORARY TABLE name ON COMMIT DROP AS select`` (PostgreSQL): unlike ``INSERT … SELECT``, which
    never runs in parallel, its ``SELECT`` may be split among the server's parallel workers."""

    inherit_cache = False

    def __init__(self, name: str, select: Select[Any]) -> None:
        self.name = name
        self.select = select


@compiles(CreateTemporaryAs, "postgresql")
def _create_temporary_as(element: CreateTemporaryAs, compiler: SQLCompiler, **kw: Any) -> str:
    name = compiler.preparer.quote(element.name)
    return f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS {compiler.process(element.select, **kw)}"
