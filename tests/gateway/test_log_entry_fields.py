"""The processing-log entry's fields worked out once or without the general helpers (for
who-else-helps' speed) equal what the general helpers give."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from gateway.audit import log
from gateway.audit.pseudonyms import Pseudonymiser, key_id
from gateway.platform.processing_register import load_register


def test_pseudonym_is_the_hmac_of_the_identifier_under_the_current_key() -> None:
    pseudonymiser = Pseudonymiser("current-key", ("old-key",))
    for identifier in ("bsn:123456782", "local:urn:x|42", "bsn:123456782"):
        expected = hmac.new(b"current-key", identifier.encode(), hashlib.sha256).hexdigest()
        assert pseudonymiser.pseudonym(identifier) == (expected, key_id("current-key"))
        assert pseudonymiser.every_pseudonym(identifier)[0] == expected


@pytest.mark.parametrize("moment", [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                                    datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=UTC),
                                    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)])
def test_the_entry_time_is_the_timestamp_text(moment: datetime,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):  # noqa: ANN001, ANN206
            return moment

    monkeypatch.setattr(log, "datetime", Frozen)
    assert log._now_text() == log.timestamp(moment)


def test_activity_fields_are_the_registers() -> None:
    register = load_register()
    context = log.AuditContext(register, Pseudonymiser("k"), None,  # type: ignore[arg-type]
                               default_retention_years=15)
    activity = register.activity("who-else-helps-sensitive")
    assert activity is not None
    assert context.activity_fields(activity.id) == (
        activity.purpose, f"{activity.legal_basis} {activity.health_ground}",
        activity.retention_years)
    assert context.activity_fields(None) == (None, None, 15)
