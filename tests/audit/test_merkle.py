"""RFC 6962 hashing and proofs against the public vectors, and against the recursive definition."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.audit import ProofInvalid
from hub.audit._merkle import (
    EMPTY_ROOT,
    complete_subtrees,
    consistency_proof,
    fold,
    frontier_append,
    inclusion_proof,
    leaf_hash,
    memory_subtrees,
    merkle_root,
    node_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "merkle"


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())


def b64(value: str) -> bytes:
    return base64.b64decode(value)


REFERENCE = load("reference_tree.json")
LEAVES = [leaf_hash(bytes.fromhex(data)) for data in REFERENCE["leaves_hex"]]


@pytest.mark.parametrize("case", load("rfc6962_hashes.json")["cases"], ids=lambda c: c["desc"])
def test_hashes_match_rfc6962_vectors(case: dict[str, str]) -> None:
    if case["op"] == "empty_root":
        got = EMPTY_ROOT
    elif case["op"] == "leaf":
        got = leaf_hash(bytes.fromhex(case["data_hex"]))
    else:
        got = node_hash(bytes.fromhex(case["left_hex"]), bytes.fromhex(case["right_hex"]))
    assert got.hex() == case["want"]


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_reference_tree(size: int) -> None:
    assert merkle_root(LEAVES[:size]).hex() == REFERENCE["roots"][size - 1]


@pytest.mark.parametrize("case", REFERENCE["inclusion"], ids=lambda c: f"{c['leaf_index']}@{c['tree_size']}")
def test_inclusion_proofs_match_reference_tree(case: dict[str, Any]) -> None:
    index, size = case["leaf_index"], case["tree_size"]
    proof = inclusion_proof(index, size, memory_subtrees(LEAVES[:size]))
    assert [p.hex() for p in proof] == case["path"]
    verify_inclusion(index, size, LEAVES[index], proof, bytes.fromhex(REFERENCE["roots"][size - 1]))


@pytest.mark.parametrize("case", REFERENCE["consistency"], ids=lambda c: f"{c['first']}->{c['second']}")
def test_consistency_proofs_match_reference_tree(case: dict[str, Any]) -> None:
    first, second = case["first"], case["second"]
    proof = consistency_proof(first, second, memory_subtrees(LEAVES[:second]))
    assert [p.hex() for p in proof] == case["proof"]
    roots = REFERENCE["roots"]
    verify_consistency(first, second, bytes.fromhex(roots[first - 1]), bytes.fromhex(roots[second - 1]), proof)


@pytest.mark.parametrize("case", load("inclusion.json")["cases"], ids=lambda c: c["file"])
def test_inclusion_vectors_from_transparency_dev(case: dict[str, Any]) -> None:
    args = (case["leafIdx"], case["treeSize"], b64(case["leafHash"]), [b64(p) for p in case["proof"] or []])
    if case["wantErr"]:
        with pytest.raises(ProofInvalid):
            verify_inclusion(*args, b64(case["root"]))
    else:
        verify_inclusion(*args, b64(case["root"]))


@pytest.mark.parametrize("case", load("consistency.json")["cases"], ids=lambda c: c["file"])
def test_consistency_vectors_from_transparency_dev(case: dict[str, Any]) -> None:
    args = (case["size1"], case["size2"], b64(case["root1"]), b64(case["root2"]), [b64(p) for p in case["proof"] or []])
    if case["wantErr"]:
        with pytest.raises(ProofInvalid):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_edge_cases_of_consistency() -> None:
    root = LEAVES[0]
    verify_consistency(0, 5, EMPTY_ROOT, bytes.fromhex(REFERENCE["roots"][4]), [])  # the empty tree: always
    verify_consistency(3, 3, root, root, [])
    with pytest.raises(ProofInvalid, match="only grow"):
        verify_consistency(4, 3, root, root, [])
    with pytest.raises(ProofInvalid, match="different roots"):
        verify_consistency(3, 3, root, EMPTY_ROOT, [])
    with pytest.raises(ProofInvalid, match="must be empty"):
        verify_consistency(3, 3, root, root, [root])


def test_wrong_sizes_are_refused_not_crashed() -> None:
    with pytest.raises(ProofInvalid, match="outside"):
        verify_inclusion(8, 8, LEAVES[0], [], LEAVES[0])
    with pytest.raises(ProofInvalid, match="32-byte"):
        verify_inclusion(0, 1, b"short", [], LEAVES[0])
    with pytest.raises(ValueError):
        inclusion_proof(3, 3, memory_subtrees(LEAVES[:3]))


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


@given(st.integers(min_value=1, max_value=300), st.data())
def test_generated_proofs_verify_and_pin_the_leaf(size: int, data: st.DataObject) -> None:
    leaves = _leaves(size)
    root = merkle_root(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = inclusion_proof(index, size, memory_subtrees(leaves))
    assert root_from_inclusion_proof(index, size, leaves[index], proof) == root
    other = (index + 1) % size
    if other != index:
        with pytest.raises(ProofInvalid):
            verify_inclusion(other, size, leaves[index], proof, root)


@given(st.integers(min_value=1, max_value=300), st.data())
def test_generated_consistency_proofs_verify(second: int, data: st.DataObject) -> None:
    leaves = _leaves(second)
    first = data.draw(st.integers(min_value=1, max_value=second))
    proof = consistency_proof(first, second, memory_subtrees(leaves))
    verify_consistency(first, second, merkle_root(leaves[:first]), merkle_root(leaves), proof)
    if first < second:
        with pytest.raises(ProofInvalid):
            verify_consistency(
                first, second, merkle_root([*leaves[: first - 1], EMPTY_ROOT]), merkle_root(leaves), proof
            )


def test_the_frontier_tracks_the_root_and_completes_each_node_once() -> None:
    leaves = _leaves(70)
    frontier: list[bytes] = []
    completed: dict[tuple[int, int], bytes] = {}
    for size, leaf in enumerate(leaves):
        frontier, done = frontier_append(frontier, size, leaf)
        assert fold(frontier) == merkle_root(leaves[: size + 1])
        for node, value in done:
            assert node not in completed
            completed[node] = value
    for (level, index), value in completed.items():
        assert value == merkle_root(leaves[index << level : (index + 1) << level])
    assert len(completed) == 70 - bin(70).count("1")  # n leaves, one internal node per merge


@given(st.integers(min_value=0, max_value=1000), st.data())
def test_complete_subtrees_rebuild_any_proof_range(end: int, data: st.DataObject) -> None:
    leaves = _leaves(end)
    # a proof range starts at a multiple of the power of two at or above its length
    length = data.draw(st.integers(min_value=0, max_value=end))
    step = 1 << max(length - 1, 0).bit_length() if length else 1
    start = data.draw(st.integers(min_value=0, max_value=(end - length) // step)) * step
    nodes = complete_subtrees(start, start + length)
    hashes = [merkle_root(leaves[i << lv : (i + 1) << lv]) for lv, i in nodes]
    assert fold(hashes) == merkle_root(leaves[start : start + length])
