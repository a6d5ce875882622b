"""What of a client's input errors may repeat and logs may hold."""

from __future__ import annotations

import importlib
import json
import pkgutil
from importlib.resources import files

import fhir.resources.R4B as r4b
import pytest
from fastapi.testclient import TestClient

from schemas import NOT_SHOWN, loggable, loggable_expression, safe_name, shown
from tests.support.samples import service_request


@pytest.mark.parametrize("value,expected", [
    ("casusoverleg", "'casusoverleg'"),
    ("shoe-size", "'shoe-size'"),
    ("system/Task.read", "'system/Task.read'"),
    ("123456782", NOT_SHOWN),  # a BSN
    ("Fatima123456782", NOT_SHOWN),
    ("Jansen de Vries", NOT_SHOWN),  # a space: free text, not a code
    ("x" * 41, NOT_SHOWN),
    ("a'b", NOT_SHOWN),
    ("123.456.782", NOT_SHOWN),  # a BSN with separators
    ("2019-05-17", NOT_SHOWN),  # a birth date
    ("x\n", NOT_SHOWN),
])
def test_shown(value: str, expected: str) -> None:
    assert shown(value) == expected


@pytest.mark.parametrize("expression,logged", [
    ("ServiceRequest.contained[0].Fatima123456782", "ServiceRequest.contained[0].?"),
    ("ServiceRequest.Fatima", "ServiceRequest.?"),
    ("body.recipients.0.role", "body.recipients.0.role"),
    ("Consent.provision.actor[0].reference", "Consent.provision.actor[0].reference"),
    ("Authorization", "Authorization"),
    ("Jansen", "?"),
    ("body.123456782", "body.?"),  # a JSON key that is a BSN

])
def test_logs_name_only_known_elements(expression: str, logged: str) -> None:
    assert loggable_expression(expression) == logged


def test_loggable() -> None:
    assert (loggable("wijkteam-noord"), loggable("123456782")) == ("wijkteam-noord", NOT_SHOWN)


def test_safe_name() -> None:
    assert (safe_name("flat"), safe_name("Fatima123456782")) == ("flat", "?")


def test_the_shipped_vocabulary_is_fhir_r4b() -> None:
    """Regenerate ``schemas/fhir_elements.txt`` with this loop when fhir.resources changes."""
    names: set[str] = set()
    for module_info in pkgutil.iter_modules(r4b.__path__):
        if module_info.name.startswith(("fhirtypes", "tests")):
            continue
        module = importlib.import_module(f"fhir.resources.R4B.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and hasattr(value, "model_fields") \
                    and value.__module__.startswith("fhir.resources.R4B"):
                names.update(f.alias or n for n, f in value.model_fields.items())
                names.add(value.__name__)
    shipped = (files("schemas") / "fhir_elements.txt").read_text().split()
    assert sorted(shipped) == sorted(names)


def test_a_key_holding_personal_data_stays_out_of_log_and_answer(
        client: TestClient, gp: dict, log_stream) -> None:  # noqa: ANN001
    sent = {**service_request(), "Fatima123456782": "x"}
    response = client.post("/fhir/ServiceRequest", json=sent, headers=gp)
    assert response.status_code == 422, response.text
    assert response.json()["issue"][0]["expression"] == ["ServiceRequest.?"]
    refused = [json.loads(line) for line in log_stream.getvalue().splitlines()
               if "request_refused" in line]
    assert [r["expressions"] for r in refused] == ["ServiceRequest.?"]
    assert "Fatima" not in log_stream.getvalue() and "123456782" not in log_stream.getvalue()
