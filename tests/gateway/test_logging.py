"""The allowlist processor: unknown fields go, BSN-shaped values are masked, ids survive."""

from __future__ import annotations

from gateway.platform.logging import keep_allowed_fields


def test_unknown_fields_are_dropped() -> None:
    kept = keep_allowed_fields(None, "info", {"event": "x", "name": "Jansen", "bsn": "111222333",
                                              "body": {"note": "free text"}, "status": 201})
    assert kept == {"event": "x", "status": 201}


def test_bsn_shaped_values_in_allowed_fields_are_masked() -> None:
    kept = keep_allowed_fields(None, "info", {"event": "x", "request_id": "111222333",
                                              "expressions": "bsn 123456782, x"})
    assert kept == {"event": "x", "request_id": "*********", "expressions": "bsn *********, x"}


def test_hex_ids_with_digit_runs_are_kept() -> None:
    request_id = "d2d78c123456789e123456789e1027b8"
    kept = keep_allowed_fields(None, "info", {"event": "x", "request_id": request_id})
    assert kept["request_id"] == request_id
