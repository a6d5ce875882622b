"""Regressions from red-teaming issue 10's read surface (vread, ``_history``, search): what a
client types is not repeated in an error when it could be personal data, and a parameter is
read as FHIR writes it, not more leniently."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.gateway.test_tasks_api import _referral_task
from tests.support.samples import VALID_BSNS

BSN = VALID_BSNS[1]


class TestHistoryRepeatsNoPersonalData:
    def test_a_parameter_named_like_a_bsn_is_not_repeated(self, client: TestClient,
                                                          gp: dict) -> None:
        task = _referral_task(client, gp)
        response = client.get(f"/fhir/Task/{task['id']}/_history?{BSN}=1", headers=gp)
        assert response.status_code == 400
        assert BSN not in response.text
        assert response.json()["issue"][0]["diagnostics"] == \
            "instance history takes no parameters; (value not repeated) is not supported"
        assert response.json()["issue"][0]["expression"] == ["?"]

    def test_a_version_id_like_a_bsn_is_not_repeated(self, client: TestClient,
                                                     gp: dict) -> None:
        task = _referral_task(client, gp)
        response = client.get(f"/fhir/Task/{task['id']}/_history/{BSN}", headers=gp)
        assert response.status_code == 404
        assert response.json()["issue"][0]["diagnostics"] == \
            "no version (value not repeated) of this Task; the newest is 1"


@pytest.mark.parametrize("value", ["ge\u0662026", "eq2026-\u0661\u0662", "ge\uff12026"])
def test_last_updated_takes_ascii_digits_only(value: str, client: TestClient,
                                              gp: dict) -> None:
    """Python's ``\\d`` and ``int()`` read every Unicode digit: 'ge٢026' searched 2026."""
    response = client.get("/fhir/Task", params={"_lastUpdated": value}, headers=gp)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["_lastUpdated"]
