"""The register of processing activities: the packaged default and every validation rule."""

from __future__ import annotations

import copy
from importlib.resources import files
from typing import Any

import pytest
import yaml

from consent import RegisterError, parse_register

DEFAULT = yaml.safe_load((files("consent") / "processing_activities.yaml").read_text())


def _changed(index: int, **changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(DEFAULT)
    document["activities"][index].update(changes)
    return document


def test_default_register_holds_the_dutch_activities() -> None:
    register = parse_register(DEFAULT)
    assert [a.id for a in register.activities] == [
        "gp-referral-to-wijkteam", "household-plan-sharing", "casusoverleg",
        "report-to-veilig-thuis", "referrer-feedback", "trajectory-sharing", "household-plan",
        "identity-matching", "who-else-helps", "who-else-helps-sensitive", "debt-support"]
    veilig_thuis = register.activity("report-to-veilig-thuis")
    assert (veilig_thuis.requires_consent, veilig_thuis.meldrecht_override) == (True, True)
    assert register.activity("referrer-feedback").data_categories == {"referral-status"}
    assert register.activity("nope") is None


def test_a_trajectory_is_the_categories_of_its_life_domains() -> None:
    register = parse_register(DEFAULT)
    assert register.categories_of(["finances", "parenting", "safety"]) == {
        "finances", "parenting", "safety-signals"}  # one category per domain
    assert register.categories_of([]) == frozenset()


def test_criminal_offence_data_with_its_statutory_basis_is_a_valid_activity() -> None:
    document = _changed(2, data_categories=["plan", "justice"],
                        criminal_ground="UAVG art 33: processing in a partnership's case meeting")
    assert parse_register(document).activity("casusoverleg").criminal_ground.startswith("UAVG")


@pytest.mark.parametrize("document,message", [
    (_changed(0, health_ground=None),
     "activity gp-referral-to-wijkteam: special data (AVG art 9: health) needs an art 9(2)"),
    (_changed(2, data_categories=["plan", "justice"]),
     "activity casusoverleg: criminal-offence data (AVG art 10: justice) needs its statutory"),
    ({**DEFAULT, "special_categories": ["health", "gossip"]},
     "special_categories name undeclared data categories: gossip"),
    (_changed(4, legal_basis="6.1.a"), "activities.4: Value error, legal basis 6.1.a"),
    (_changed(4, meldrecht_override=True), "activities.4: Value error, meldrecht_override"),
    (_changed(1, id="casusoverleg"), "repeated: casusoverleg"),
    (_changed(2, legal_basis="6.2"), "activities.2.legal_basis"),
    (_changed(2, id="Not A Slug"), "activities.2.id"),
    (_changed(3, retention_years=0), "activities.3.retention_years"),
    (_changed(3, recipient_roles=[]), "activities.3.recipient_roles"),
    (_changed(0, surprise=1), "activities.0.surprise"),
    (_changed(1, data_categories=["plan", "shoe-size"]), "undeclared data categories: shoe-size"),
    ({**DEFAULT, "envelope": ["ServiceRequest.status", "not a path"]}, "envelope"),
    ({**DEFAULT, "categories": {**DEFAULT["categories"], "x": ["Patient"]}}, "categories.x"),
    ({**DEFAULT, "activities": []}, "activities"),
    ({**DEFAULT, "life_domains": {"finances": "debts"}},
     "life_domains name undeclared data categories: debts"),
    (None, "register"),
    ("just text", "register"),
])
def test_invalid_register_names_the_problem(document: Any, message: str) -> None:
    with pytest.raises(RegisterError) as raised:
        parse_register(document)
    assert message in str(raised.value)
