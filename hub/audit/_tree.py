"""Subtree hashes of the stored log, for proofs over millions of entries without rehashing them.

A proof names O(log n) ranges; each decomposes into aligned complete subtrees. Those at level ≥
``NODE_CACHE_LEVEL`` (256 leaves or more) were written to ``audit_nodes`` when they completed; smaller
ones are rehashed from at most 128 entry hashes. One query fetches the cached nodes of a proof, one
the entry hashes it needs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from hub.audit._errors import AuditTampered
from hub.audit._merkle import Node, Range, complete_subtrees, fold, leaf_hash, merkle_root
from hub.audit._models import AuditEntryRow, AuditNodeRow

log = logging.getLogger(__name__)

#: Complete subtrees of 2^8 = 256 leaves and more are cached: one node row per 128 appends, amortised.
NODE_CACHE_LEVEL = 8


def _leaf_span(node: Node) -> Range:
    level, index = node
    return index << level, (index + 1) << level


class StoredTree:
    """``hashes(ranges)`` gives MTH(D[start:end]) for each range a proof names, from the database."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def hashes(self, ranges: Sequence[Range]) -> list[bytes]:
        plan = [complete_subtrees(start, end) for start, end in ranges]
        wanted = {node for nodes in plan for node in nodes}
        known = self._cached(node for node in wanted if node[0] >= NODE_CACHE_LEVEL)
        missing = [node for node in wanted if node not in known]
        if any(level >= NODE_CACHE_LEVEL for level, _ in missing):
            log.warning("audit: %d cached tree nodes missing; rehashing them from the entries", len(missing))
        known.update(self._from_entries(missing))
        return [fold([known[node] for node in nodes]) for nodes in plan]

    def _cached(self, nodes: Iterable[Node]) -> dict[Node, bytes]:
        conditions = [and_(AuditNodeRow.level == level, AuditNodeRow.idx == index) for level, index in nodes]
        if not conditions:
            return {}
        rows = self.session.execute(
            select(AuditNodeRow.level, AuditNodeRow.idx, AuditNodeRow.hash).where(or_(*conditions))
        )
        return {(level, index): value for level, index, value in rows}

    def _from_entries(self, nodes: Sequence[Node]) -> dict[Node, bytes]:
        if not nodes:
            return {}
        spans = [_leaf_span(node) for node in nodes]
        conditions = [and_(AuditEntryRow.seq >= start, AuditEntryRow.seq < end) for start, end in spans]
        rows = self.session.execute(select(AuditEntryRow.seq, AuditEntryRow.entry_hash).where(or_(*conditions)))
        leaves = {seq: leaf_hash(value) for seq, value in rows}
        result: dict[Node, bytes] = {}
        for node, (start, end) in zip(nodes, spans, strict=True):
            absent = [seq for seq in range(start, end) if seq not in leaves]
            if absent:
                raise AuditTampered("gap", f"entries {absent[0]}… are missing from the stored log", seq=absent[0])
            result[node] = merkle_root([leaves[seq] for seq in range(start, end)])
        return result
