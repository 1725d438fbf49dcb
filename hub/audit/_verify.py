"""Offline verification of an export: nothing but the file and the hub's public key.

Two passes over the file. The first only notes where each sequence number and checkpoint size
appears, so the second can tell a deleted entry from a moved one and knows at which sizes to keep a
root. The second walks the lines in order and stops at the first that does not add up: its sequence
number, its link to the previous entry, its own hash, its payload, and finally every checkpoint's
signature and root. Rewriting the chain after a change (which anyone can hash) is caught by the roots
the hub signed, located between the last checkpoint that still matches and the first that does not.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.audit._errors import AuditTampered
from hub.audit._export import FORMAT, checkpoint_from_json, entry_from_json
from hub.audit._merkle import EMPTY_ROOT, fold, frontier_append, leaf_hash
from hub.audit._record import GENESIS_HASH, encode_entry
from hub.envelope import VerifyingKey
from hub.errors import HubError, InvalidArgument, Malformed, SignatureInvalid


@dataclass(frozen=True)
class VerifyReport:
    """What an export proved: ``signed_size`` entries are exactly what the hub signed at ``root_hash``."""

    origin: str
    entries: int
    checkpoints: int
    signed_size: int
    root_hash: bytes
    payloads: int

    @property
    def unsigned(self) -> int:
        """Entries after the last checkpoint: chained, but not yet covered by a hub signature."""
        return self.entries - self.signed_size


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):  # readers disagree on which of two equal keys wins
        raise ValueError("a key appears twice")
    return obj


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    with path.open("rb") as source:
        for number, raw in enumerate(source, start=1):
            try:
                obj = json.loads(raw, object_pairs_hook=_unique)
            except (ValueError, UnicodeDecodeError):
                obj = None
            yield number, obj if isinstance(obj, dict) else None


@dataclass
class _Scan:
    """First pass: where each sequence number sits, and which tree sizes the checkpoints sign."""

    seqs: set[int] = field(default_factory=set)
    sizes: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, path: Path) -> _Scan:
        scan = cls()
        for _, obj in _lines(path):
            if obj is None:
                continue
            if obj.get("type") == "entry" and isinstance(obj.get("seq"), int):
                scan.seqs.add(obj["seq"])
            elif obj.get("type") == "checkpoint":
                with contextlib.suppress(HubError):
                    scan.sizes.add(checkpoint_from_json(obj).tree_size)
        return scan


@dataclass
class _Walk:
    """Second pass: the running chain and tree, checked line by line."""

    scan: _Scan
    key: VerifyingKey
    expected: int = 0
    prev_hash: bytes = GENESIS_HASH
    frontier: list[bytes] = field(default_factory=list)
    roots: dict[int, bytes] = field(default_factory=dict)
    payloads: int = 0
    checkpoints: int = 0
    signed_size: int = 0
    matched: list[int] = field(default_factory=list)
    origin: str = ""

    def entry(self, line: int, obj: dict[str, Any]) -> None:
        raw_seq = obj.get("seq")
        seq = raw_seq if isinstance(raw_seq, int) else -1
        try:
            entry, payload = entry_from_json(obj)
        except (Malformed, InvalidArgument) as error:
            explanation = f"the entry does not parse: {error.explanation}"
            raise AuditTampered("malformed", explanation, line=line, seq=seq) from None
        self._check_place(line, entry.seq)
        if entry.prev_hash != self.prev_hash:
            raise AuditTampered(
                "chain_broken",
                f"prev_hash is not the hash of entry {entry.seq - 1}: this entry or the one before was changed",
                line=line,
                seq=entry.seq,
            )
        actual = hashlib.sha256(encode_entry(entry.seq, entry.prev_hash, entry.recorded_at, entry.record)).digest()
        if actual != entry.entry_hash:
            explanation = "the entry's fields do not hash to its entry_hash: it was changed"
            raise AuditTampered("hash_mismatch", explanation, line=line, seq=entry.seq)
        if payload is not None:
            if hashlib.sha256(payload).digest() != entry.record.payload_sha256:
                explanation = "the payload does not hash to payload_sha256"
                raise AuditTampered("payload_mismatch", explanation, line=line, seq=entry.seq)
            self.payloads += 1
        self.frontier, _ = frontier_append(self.frontier, self.expected, leaf_hash(actual))
        self.prev_hash, self.expected = actual, self.expected + 1
        if self.expected in self.scan.sizes:
            self.roots[self.expected] = fold(self.frontier)

    def _check_place(self, line: int, seq: int) -> None:
        if seq == self.expected:
            return
        if seq < self.expected:
            raise AuditTampered(
                "inserted", f"a second entry {seq} (entry {self.expected} was expected next)", line=line, seq=seq
            )
        if self.expected in self.scan.seqs:
            raise AuditTampered(
                "out_of_order", f"entry {seq} stands where entry {self.expected} belongs", line=line, seq=seq
            )
        missing = f"{self.expected}" if seq == self.expected + 1 else f"{self.expected} to {seq - 1}"
        raise AuditTampered("gap", f"entries {missing} are missing (deleted) before this one", line=line, seq=seq)

    def checkpoint(self, line: int, obj: dict[str, Any]) -> None:
        try:
            signed = checkpoint_from_json(obj)
        except HubError as error:
            explanation = f"the checkpoint does not parse: {error.explanation}"
            raise AuditTampered("malformed", explanation, line=line) from None
        try:
            signed.verify(self.key)
        except SignatureInvalid as error:
            raise AuditTampered("bad_signature", error.explanation, line=line) from None
        self.origin = self.origin or signed.origin
        if signed.origin != self.origin:
            raise AuditTampered("bad_signature", f"a checkpoint of another log ({signed.origin!r})", line=line)
        size = signed.tree_size
        if size > self.expected:
            raise AuditTampered(
                "truncated",
                f"the hub signed {size} entries but the export holds {self.expected}: entries were removed at the end",
                line=line,
                seq=self.expected,
            )
        root = self.roots.get(size, EMPTY_ROOT if size == 0 else b"")
        if root != signed.root_hash:
            lower = max((good for good in self.matched if good < size), default=0)
            raise AuditTampered(
                "root_mismatch",
                f"the first {size} entries are not what the hub signed: an entry in seq {lower}–{size - 1} "
                "was altered, inserted, removed or moved",
                line=line,
                seq=lower,
            )
        self.matched.append(size)
        self.checkpoints += 1
        self.signed_size = max(self.signed_size, size)


def _check_header(obj: dict[str, Any] | None) -> dict[str, Any]:
    if obj is None or obj.get("type") != "header" or obj.get("format") != FORMAT:
        raise AuditTampered("malformed", f"the first line is not a {FORMAT} header", line=1)
    return obj


def verify_export(path: Path, hub_public_key: VerifyingKey) -> VerifyReport:
    """Recompute the chain and the Merkle roots of an export and check every checkpoint's signature.

    Returns what was proved, or raises ``AuditTampered`` naming the first bad line and sequence number.
    """
    path = Path(path)
    walk = _Walk(_Scan.of(path), hub_public_key)
    header: dict[str, Any] | None = None
    section = "header"
    for line, obj in _lines(path):
        if section == "header":
            header, section = _check_header(obj), "entries"
            continue
        if obj is None:
            raise AuditTampered("malformed", "not a JSON object (a changed or cut line?)", line=line)
        kind = obj.get("type")
        if kind == "entry" and section == "entries":
            walk.entry(line, obj)
        elif kind == "checkpoint":
            section = "checkpoints"
            walk.checkpoint(line, obj)
        else:
            raise AuditTampered("malformed", f"unexpected {kind!r} line here", line=line)
    if header is None:
        raise AuditTampered("malformed", "the export is empty", line=1)
    declared = header.get("tree_size")
    if declared != walk.expected:
        problem = "truncated" if isinstance(declared, int) and declared > walk.expected else "inserted"
        raise AuditTampered(
            problem, f"the header announces {declared} entries but the export holds {walk.expected}", seq=walk.expected
        )
    root = walk.roots.get(walk.signed_size, EMPTY_ROOT)
    origin = walk.origin or str(header.get("origin", ""))
    return VerifyReport(origin, walk.expected, walk.checkpoints, walk.signed_size, root, walk.payloads)
