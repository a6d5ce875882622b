"""BSN elfproef and AGB format."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas import is_valid_agb, is_valid_bsn


@pytest.mark.parametrize("bsn", ["111222333", "123456782", "999998456", "999990019"])
def test_valid_bsns(bsn: str) -> None:
    assert is_valid_bsn(bsn) is True


@pytest.mark.parametrize("bsn", ["123456789", "111222334", "12345678", "1234567820",
                                 "000000000", "12345678a", "１２３４５６７８２", ""])
def test_invalid_bsns(bsn: str) -> None:
    assert is_valid_bsn(bsn) is False


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_elfproef_matches_its_definition(bsn: str) -> None:
    total = sum(int(d) * w for d, w in zip(bsn, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
    assert is_valid_bsn(bsn) is (total % 11 == 0 and bsn != "000000000")


@pytest.mark.parametrize("agb,valid", [("01234567", True), ("1234567", False),
                                       ("123456789", False), ("0123456a", False)])
def test_agb(agb: str, valid: bool) -> None:
    assert is_valid_agb(agb) is valid
