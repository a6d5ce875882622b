"""The Merkle functions against the RFC 9162 definitions written out naively (recursion over
slices, exactly as §2.1 states them), for trees of every small size hypothesis picks."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    Tree,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    return path(m, d[:k]) + [mth(d[k:])] if m < k else path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], whole: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if whole else [mth(d)]
    k = _k(n)
    if m <= k:
        return subproof(m, d[:k], whole) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


data = st.lists(st.binary(max_size=8), min_size=1, max_size=70, unique=True)


def _leaves(d: list[bytes]) -> list[bytes]:
    return [leaf_hash(x) for x in d]


def test_known_values() -> None:
    assert EMPTY_ROOT.hex() == ("e3b0c44298fc1c149afbf4c8996fb924"
                                "27ae41e4649b934ca495991b7852b855")
    assert root([]) == EMPTY_ROOT
    assert root([leaf_hash(b"")]).hex() == ("6e340b9cffb37a989ca544e6bb780a2c"
                                            "78901d3fb33738768511a30617afa01d")
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@given(data)
def test_root_and_frontier_match_the_definition(d: list[bytes]) -> None:
    leaves = _leaves(d)
    assert root(leaves) == mth(d)
    assert Tree(leaves).root() == mth(d)
    frontier = Frontier()
    for i, leaf in enumerate(leaves):
        frontier.append(leaf)
        assert frontier.root() == mth(d[:i + 1])
        again = Frontier.from_text(frontier.size, frontier.to_text())
        assert (again.size, again.hashes) == (frontier.size, frontier.hashes)


@given(data, st.data())
def test_inclusion_proofs(d: list[bytes], pick: st.DataObject) -> None:
    tree = Tree(_leaves(d))
    size = pick.draw(st.integers(1, len(d)))
    index = pick.draw(st.integers(0, size - 1))
    proof = tree.inclusion_proof(index, size)
    assert proof == path(index, d[:size])
    leaf = leaf_hash(d[index])
    assert verify_inclusion(leaf, index, size, proof, mth(d[:size])) is True
    assert verify_inclusion(leaf_hash(d[index] + b"x"), index, size, proof,
                            mth(d[:size])) is False
    assert verify_inclusion(leaf, index, size, proof + [leaf], mth(d[:size])) is False
    if size > 1:
        assert verify_inclusion(leaf, (index + 1) % size, size, proof, mth(d[:size])) is False


@given(data, st.data())
def test_consistency_proofs(d: list[bytes], pick: st.DataObject) -> None:
    tree = Tree(_leaves(d))
    new = pick.draw(st.integers(1, len(d)))
    old = pick.draw(st.integers(1, new))
    proof = tree.consistency_proof(old, new)
    assert proof == (subproof(old, d[:new], True) if old < new else [])
    assert verify_consistency(old, new, mth(d[:old]), mth(d[:new]), proof) is True
    forged = mth(d[:old - 1] + [d[old - 1] + b"x"])
    assert verify_consistency(old, new, forged, mth(d[:new]), proof) is False
    if old < new:
        assert verify_consistency(old, new, mth(d[:old]), mth(d[:new - 1]), proof) is False
        assert verify_consistency(old, new, mth(d[:old]), mth(d[:new]), proof[:-1]) is False


def test_trivial_consistency() -> None:
    leaves = _leaves([b"a", b"b", b"c"])
    assert verify_consistency(0, 3, EMPTY_ROOT, root(leaves), []) is True
    assert verify_consistency(3, 3, root(leaves), root(leaves), []) is True
    assert verify_consistency(3, 3, root(leaves), root(leaves[:2]), []) is False
    assert verify_consistency(4, 3, root(leaves), root(leaves), []) is False
    assert verify_consistency(2, 3, root(leaves[:2]), root(leaves), []) is False


def test_a_frontier_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="^a frontier of 3 leaves has 2 hashes, not 1$"):
        Frontier(3, [b"x"])
