"""The RFC 9162 (RFC 6962) Merkle tree over the processing log: hashes, the compact range that
keeps appends cheap, inclusion and consistency proofs, and their verification. Pure.

A leaf is SHA-256(0x00 || entry line), an interior node SHA-256(0x01 || left || right), and the
tree over n leaves splits at the largest power of two below n (RFC 9162 §2.1.1). Proofs follow
§2.1.3 and §2.1.4; the verifiers are the RFC's algorithms step by step, so a proof made here
checks with any other RFC 9162 implementation and the reverse.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The tree's right frontier (a compact range from 0): the roots of the perfect subtrees
    that make up the first ``size`` leaves, largest first. Appending costs O(1) amortised and
    the root O(log n), so the log never rehashes what it wrote before."""

    __slots__ = ("size", "hashes")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != size.bit_count():
            raise ValueError(f"a frontier of {size} leaves has {size.bit_count()} hashes, "
                             f"not {len(hashes)}")
        self.size, self.hashes = size, list(hashes)

    def append(self, leaf: bytes) -> None:
        node, size = leaf, self.size
        while size & 1:
            node = node_hash(self.hashes.pop(), node)
            size >>= 1
        self.hashes.append(node)
        self.size += 1

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        node = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            node = node_hash(left, node)
        return node

    def copy(self) -> Frontier:
        return Frontier(self.size, self.hashes)

    def to_text(self) -> str:
        return " ".join(h.hex() for h in self.hashes)

    @classmethod
    def from_text(cls, size: int, text: str) -> Frontier:
        return cls(size, [bytes.fromhex(h) for h in text.split()])


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes."""
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


class Tree:
    """Every perfect subtree's hash over a list of leaf hashes, built once (O(n)), so each
    proof afterwards costs O(log n) lookups: for proofs of many entries at once."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.size = len(leaves)
        self._levels: list[list[bytes]] = [list(leaves)]
        while len(level := self._levels[-1]) > 1:
            self._levels.append([node_hash(level[i], level[i + 1])
                                 for i in range(0, len(level) - 1, 2)])

    def subtree(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi])."""
        width = hi - lo
        if width == 0:
            return EMPTY_ROOT
        height = width.bit_length() - 1
        if width == 1 << height and lo % width == 0:
            return self._levels[height][lo >> height]
        k = split_point(width)
        return node_hash(self.subtree(lo, lo + k), self.subtree(lo + k, hi))

    def root(self, size: int | None = None) -> bytes:
        return self.subtree(0, self.size if size is None else self._size(size))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size]) (RFC 9162 §2.1.3.1)."""
        if not 0 <= index < self._size(size):
            raise ValueError(f"leaf {index} is not in a tree of {size}")
        proof: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            k = split_point(hi - lo)
            if index < lo + k:
                proof.append(self.subtree(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self.subtree(lo, lo + k))
                lo += k
        return proof[::-1]

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """PROOF(old_size, D[0:new_size]) (RFC 9162 §2.1.4.1); empty when there is nothing
        to prove (an empty old tree, or the same size)."""
        if not 0 <= old_size <= self._size(new_size):
            raise ValueError(f"no consistency proof from {old_size} to {new_size}")
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        lo, hi, whole = 0, new_size, True
        m = old_size
        while m != hi - lo:
            k = split_point(hi - lo)
            if m <= k:
                proof.append(self.subtree(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self.subtree(lo, lo + k))
                lo, m, whole = lo + k, m - k, False
        if not whole:
            proof.append(self.subtree(lo, hi))
        return proof[::-1]

    def _size(self, size: int) -> int:
        if not 0 <= size <= self.size:
            raise ValueError(f"tree of {self.size} leaves has no size {size}")
        return size


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes],
                     expected_root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if index >= size or index < 0:
        return False
    fn, sn, node = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = node_hash(p, node)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and node == expected_root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2, with its two trivial cases: an empty old tree is consistent with
    every tree, and a tree only with itself (same size, same root, empty proof)."""
    if old_size < 0 or old_size > new_size:
        return False
    if old_size == 0:
        return not proof
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0
