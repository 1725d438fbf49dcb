"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.

    leaf hash  = SHA-256(0x00 || data)        node hash = SHA-256(0x01 || left || right)
    MTH({})    = SHA-256("")                   MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n])), k = 2^⌊log2(n-1)⌋

Proof generation is split in two so storage can batch its reads: ``inclusion_ranges`` and
``consistency_ranges`` name the leaf ranges ``[start, end)`` whose subtree hashes make up the proof,
and a ``SubtreeHash`` callback supplies them. Every such range starts at a multiple of the power of
two at or above its length, so it decomposes into a few aligned complete subtrees
(``complete_subtrees``) that storage can cache once and for all.

Verification raises ``ProofInvalid``; it never returns a boolean.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from hub.audit._errors import ProofInvalid

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

#: ``subtree(start, end)`` returns MTH(D[start:end]) of the log's leaves.
SubtreeHash = Callable[[int, int], bytes]
Range = tuple[int, int]
#: An aligned complete subtree: ``(level, index)`` covers leaves ``[index·2^level, (index+1)·2^level)``.
Node = tuple[int, int]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes, by the recursive split (for small trees and tests)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = _split(len(leaf_hashes))
    return node_hash(merkle_root(leaf_hashes[:k]), merkle_root(leaf_hashes[k:]))


def memory_subtrees(leaf_hashes: Sequence[bytes]) -> SubtreeHash:
    """A ``SubtreeHash`` over leaf hashes held in memory."""
    return lambda start, end: merkle_root(leaf_hashes[start:end])


# --- proof generation ------------------------------------------------------------------------------------


def _check_sizes(index: int, size: int, what: str) -> None:
    if not 0 <= index < size:
        raise ValueError(f"{what} {index} is outside a tree of {size} leaves")


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges of PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), leaf side first."""
    _check_sizes(index, size, "leaf index")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The ranges of PROOF(first, D[0:second]) (RFC 9162 §2.1.4.1); empty when first is 0 or second."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from {first} to {second} leaves")
    if first in (0, second):
        return []
    ranges: list[Range] = []
    start, end, m, complete = 0, second, first, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def inclusion_proof(index: int, size: int, subtree: SubtreeHash) -> list[bytes]:
    return [subtree(start, end) for start, end in inclusion_ranges(index, size)]


def consistency_proof(first: int, second: int, subtree: SubtreeHash) -> list[bytes]:
    return [subtree(start, end) for start, end in consistency_ranges(first, second)]


def complete_subtrees(start: int, end: int) -> list[Node]:
    """Aligned complete subtrees whose hashes, folded right to left, give MTH(D[start:end]).

    Valid for every range a proof names: ``start`` is a multiple of the power of two ≥ ``end - start``.
    """
    nodes: list[Node] = []
    while start < end:
        level = (end - start).bit_length() - 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """Combine complete-subtree hashes (left to right) into the hash of their range."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


# --- the right border of a growing tree ------------------------------------------------------------------


def frontier_append(frontier: Sequence[bytes], size: int, leaf: bytes) -> tuple[list[bytes], list[tuple[Node, bytes]]]:
    """Append one leaf hash to the compact range of ``[0, size)``.

    ``frontier`` holds the hashes of the complete subtrees for the set bits of ``size``, largest
    first. Returns the new frontier and the internal nodes the append completed.
    """
    nodes = list(frontier)
    completed: list[tuple[Node, bytes]] = []
    current, level = leaf, 0
    while size >> level & 1:
        current = node_hash(nodes.pop(), current)
        level += 1
        completed.append(((level, (size + 1 >> level) - 1), current))
    nodes.append(current)
    return nodes, completed


# --- verification ----------------------------------------------------------------------------------------


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofInvalid(f"{what} is {len(value)} bytes, not a {HASH_SIZE}-byte SHA-256 hash")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` leads to from ``leaf`` at ``index`` (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofInvalid(f"leaf index {index} is outside a tree of {size} leaves")
    _check_hash(leaf, "the leaf hash")
    fn, sn, result = index, size - 1, leaf
    for position, sibling in enumerate(proof):
        _check_hash(sibling, f"proof[{position}]")
        if sn == 0:
            raise ProofInvalid(f"the proof has {len(proof)} hashes; a tree of {size} needs fewer")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofInvalid(f"the proof has {len(proof)} hashes; a tree of {size} needs more")
    return result


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise ``ProofInvalid`` unless ``leaf`` is at ``index`` in the tree of ``size`` leaves with ``root``."""
    _check_hash(root, "the root")
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise ProofInvalid(f"the inclusion proof for leaf {index} does not lead to the root of {size} leaves")


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> None:
    """Raise ``ProofInvalid`` unless the tree of ``second`` leaves extends the tree of ``first`` (RFC 9162 §2.1.4.2)."""
    _check_hash(first_root, "the first root")
    _check_hash(second_root, "the second root")
    if not 0 <= first <= second:
        raise ProofInvalid(f"a log of {second} entries cannot extend one of {first}: logs only grow")
    if first == second:
        if proof:
            raise ProofInvalid("a proof between equal sizes must be empty")
        if first_root != second_root:
            raise ProofInvalid(f"two different roots for the same size {first}")
        return
    if first == 0:
        if proof:
            raise ProofInvalid("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofInvalid(f"an empty proof cannot show that {second} entries extend {first}")
    for position, node in enumerate(proof):
        _check_hash(node, f"proof[{position}]")
    hashes = list(proof)
    if first & (first - 1) == 0:  # a complete subtree: the first root is the proof's starting point
        hashes.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first_result = second_result = hashes[0]
    for node in hashes[1:]:
        if sn == 0:
            raise ProofInvalid(f"the proof has {len(proof)} hashes; going from {first} to {second} needs fewer")
        if fn & 1 or fn == sn:
            first_result = node_hash(node, first_result)
            second_result = node_hash(node, second_result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second_result = node_hash(second_result, node)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofInvalid(f"the proof has {len(proof)} hashes; going from {first} to {second} needs more")
    if first_result != first_root:
        raise ProofInvalid(f"the consistency proof does not lead to the root of the first {first} entries")
    if second_result != second_root:
        raise ProofInvalid(f"the consistency proof does not lead to the root of the {second} entries")
