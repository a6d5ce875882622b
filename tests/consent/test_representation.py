"""Who must consent, given the representatives who speak for the person: every holder of
authority for a minor, and a curator, mentor or bewindvoerder within their scope for an adult."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from consent import (
    REPRESENTATION_KINDS,
    SELF,
    UNNAMED_REPRESENTATIVE,
    ConsentRecord,
    DecisionRequest,
    Recipient,
    Representative,
    counts_for,
    decide,
    parse_register,
    speaks_for,
)

REGISTER = parse_register(yaml.safe_load(
    (files("consent") / "processing_activities.yaml").read_text()))
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
NOORD = Recipient("wijkteam-noord", "wijkteam")
GP = "gp-referral-to-wijkteam"
DEBT = "debt-support"
DEBT_CATEGORIES = frozenset({"identification", "contact", "finances", "social-situation"})
MOTHER = Representative("RelatedPerson/mother", "parental-authority")
FATHER = Representative("RelatedPerson/father", "parental-authority")
VOOGD = Representative("RelatedPerson/jeugdbescherming", "guardian")
CURATOR = Representative("RelatedPerson/curator", "curator")
MENTOR = Representative("RelatedPerson/mentor", "mentor")
BEWIND = Representative("RelatedPerson/bewind", "financial-administrator")
NO_AUTHORITY = "RelatedPerson/stepfather"  # a parent the sender names, without authority
_ids = itertools.count(1)


def born(years: int) -> date:
    return date(NOW.year - years, NOW.month, NOW.day)


def record(*grantors: str, verdict: str = "permit", activity: str = GP,
           **kw) -> ConsentRecord:
    return ConsentRecord(f"c{next(_ids)}", 1, "p1", activity, verdict, frozenset(grantors),
                         **kw)


def ask(records: list[ConsentRecord], representatives: tuple[Representative, ...], age: int, *,
        activity: str = GP, at: datetime = NOW):
    request = DecisionRequest(activity, "p1", born(age), (NOORD,), at,
                              representatives=representatives)
    return decide(REGISTER, request, records).for_recipient(NOORD)


class TestScope:
    @pytest.mark.parametrize("kind,finances,health", [
        ("parental-authority", True, True), ("guardian", True, True), ("curator", True, True),
        ("mentor", False, True), ("financial-administrator", True, False)])
    def test_each_kind_speaks_for_its_categories(self, kind, finances, health) -> None:
        assert (speaks_for(kind, "finances"), speaks_for(kind, "health")) == (finances, health)

    def test_every_kind_has_a_scope(self) -> None:
        assert sorted(REPRESENTATION_KINDS) == ["curator", "financial-administrator",
                                                "guardian", "mentor", "parental-authority"]


class TestAuthorityHolders:
    """Under 16: every holder of parental authority (or the guardian) must consent."""

    def test_every_parent_with_authority_must_permit(self) -> None:
        mother, father = record(MOTHER.id), record(FATHER.id)
        both = ask([mother, father], (MOTHER, FATHER), 8)
        assert both.verdict == "permit"
        assert {"age-under-12", "authority-holders"} <= set(both.rules)
        assert both.records == tuple(sorted((mother.id, father.id)))
        only_mother = ask([mother], (MOTHER, FATHER), 8)
        assert only_mother.verdict == "deny"
        assert only_mother.explanation.endswith(
            "no consent of a holder of parental authority")

    def test_one_objecting_parent_denies(self) -> None:
        result = ask([record(MOTHER.id), record(FATHER.id, verdict="deny")], (MOTHER, FATHER), 8)
        assert result.verdict == "deny"
        assert "a holder of parental authority objected" in result.explanation

    def test_one_consent_given_by_both_parents_counts_for_each(self) -> None:
        assert ask([record(MOTHER.id, FATHER.id)], (MOTHER, FATHER), 5).verdict == "permit"

    @pytest.mark.parametrize("grantor", [NO_AUTHORITY, UNNAMED_REPRESENTATIVE])
    def test_a_parent_without_authority_is_never_asked_nor_counted(self, grantor) -> None:
        """Once a holder is known, neither a named parent without authority nor a record of
        an unnamed parent (from before grantors were named) stands in for the holder."""
        assert ask([record(grantor)], (MOTHER,), 8).verdict == "deny"
        assert ask([record(grantor, verdict="deny"), record(MOTHER.id)], (MOTHER,), 8).verdict \
            == "permit"

    def test_a_guardian_institution_decides_for_a_child(self) -> None:
        result = ask([record(VOOGD.id)], (VOOGD,), 3)
        assert result.verdict == "permit" and "authority-holders" in result.rules
        assert ask([record(VOOGD.id, verdict="deny")], (VOOGD,), 3).explanation.endswith(
            "a guardian objected")

    def test_twelve_to_fifteen_needs_the_child_and_every_holder(self) -> None:
        child, mother, father = record(SELF), record(MOTHER.id), record(FATHER.id)
        assert ask([child, mother, father], (MOTHER, FATHER), 13).verdict == "permit"
        assert ask([mother, father], (MOTHER, FATHER), 13).explanation.endswith(
            "no consent of the person")
        assert ask([child, mother], (MOTHER, FATHER), 13).verdict == "deny"

    def test_from_sixteen_holders_are_not_asked(self) -> None:
        result = ask([record(SELF)], (MOTHER, FATHER), 16)
        assert result.verdict == "permit" and "authority-holders" not in result.rules
        assert ask([record(MOTHER.id)], (MOTHER,), 17).verdict == "deny"


class TestAuthorityUnverified:
    """No holder known at all: a parent or guardian the sender declared counts."""

    @pytest.mark.parametrize("grantor", [NO_AUTHORITY, UNNAMED_REPRESENTATIVE])
    def test_a_declared_parent_counts_while_no_holder_is_known(self, grantor) -> None:
        result = ask([record(grantor)], (), 8)
        assert result.verdict == "permit" and "authority-unverified" in result.rules
        assert ask([record(grantor, verdict="deny")], (), 8).explanation.endswith(
            "a parent or guardian objected")

    def test_a_known_representative_of_another_kind_is_no_declared_parent(self) -> None:
        assert ask([record(BEWIND.id)], (BEWIND,), 8).verdict == "deny"
        assert ask([record(BEWIND.id)], (BEWIND,), 8).permitted == frozenset()

    def test_a_holder_out_of_force_leaves_the_declared_parents(self) -> None:
        ended = replace(MOTHER, end=NOW - timedelta(days=1))
        assert ask([record(NO_AUTHORITY)], (ended,), 8).verdict == "permit"


class TestAdultRepresentatives:
    def test_a_curator_decides_instead_of_the_person(self) -> None:
        result = ask([record(CURATOR.id)], (CURATOR,), 40)
        assert result.verdict == "permit" and "curator-scope" in result.rules
        assert ask([record(SELF)], (CURATOR,), 40).explanation.endswith(
            "no consent of a curator")

    def test_the_persons_own_objection_still_denies(self) -> None:
        objection = record(SELF, verdict="deny")
        result = ask([record(CURATOR.id), objection], (CURATOR,), 40)
        assert result.verdict == "deny" and "person-objection-stands" in result.rules
        assert result.records == (objection.id,)
        assert result.explanation.endswith("the person objected")

    def test_a_bewindvoerder_consents_for_finances_only(self) -> None:
        result = ask([record(BEWIND.id, activity=DEBT)], (BEWIND,), 45, activity=DEBT)
        assert result.permitted == {"finances"}
        assert "financial-administrator-scope" in result.rules
        assert dict(result.reasons)["contact"] == "no consent of the person"
        person = ask([record(SELF, activity=DEBT)], (BEWIND,), 45, activity=DEBT)
        assert person.permitted == DEBT_CATEGORIES - {"finances"}
        assert dict(person.reasons) == {"finances": "no consent of a financial administrator"}
        both = ask([record(SELF, BEWIND.id, activity=DEBT)], (BEWIND,), 45, activity=DEBT)
        assert both.permitted == DEBT_CATEGORIES

    def test_a_mentor_speaks_for_care_not_finances(self) -> None:
        mentor = ask([record(MENTOR.id, activity=DEBT)], (MENTOR,), 80, activity=DEBT)
        assert mentor.permitted == DEBT_CATEGORIES - {"finances"}
        assert "mentor-scope" in mentor.rules
        assert ask([record(MENTOR.id)], (MENTOR,), 80).verdict == "permit"  # health
        assert ask([record(SELF)], (MENTOR,), 80).verdict == "deny"

    def test_mentor_and_bewindvoerder_together_cover_everything(self) -> None:
        records = [record(MENTOR.id, activity=DEBT), record(BEWIND.id, activity=DEBT)]
        assert ask(records, (MENTOR, BEWIND), 80, activity=DEBT).permitted == DEBT_CATEGORIES

    def test_two_mentors_must_both_permit(self) -> None:
        second = Representative("RelatedPerson/mentor-2", "mentor")
        assert ask([record(MENTOR.id)], (MENTOR, second), 80).verdict == "deny"
        assert ask([record(MENTOR.id), record(second.id)], (MENTOR, second), 80).verdict \
            == "permit"

    def test_a_bewindvoerder_of_a_minor_joins_the_holders_for_finances(self) -> None:
        records = [record(MOTHER.id, activity=DEBT)]
        result = ask(records, (MOTHER, BEWIND), 10, activity=DEBT)
        assert result.permitted == DEBT_CATEGORIES - {"finances"}


class TestPeriods:
    def test_a_representation_counts_within_its_period_only(self) -> None:
        curator = replace(CURATOR, start=NOW - timedelta(days=30), end=NOW + timedelta(days=30))
        records = [record(CURATOR.id)]
        assert ask(records, (curator,), 40).verdict == "permit"
        assert ask(records, (curator,), 40, at=NOW + timedelta(days=30)).verdict == "deny"
        before = ask([record(SELF)], (curator,), 40, at=NOW - timedelta(days=31))
        assert before.verdict == "permit" and "curator-scope" not in before.rules

    def test_authority_that_ended_is_not_asked(self) -> None:
        ended = replace(FATHER, end=NOW)
        assert ask([record(MOTHER.id)], (MOTHER, ended), 8).verdict == "permit"


class TestCountsFor:
    """What the gateway checks when a consent is recorded: would this grantor count?"""

    @pytest.mark.parametrize("age,representatives,grantor,expected", [
        (8, (), SELF, set()),
        (8, (), NO_AUTHORITY, DEBT_CATEGORIES),
        (8, (MOTHER,), NO_AUTHORITY, set()),
        (8, (MOTHER,), MOTHER.id, DEBT_CATEGORIES),
        (17, (MOTHER,), MOTHER.id, set()),
        (17, (), UNNAMED_REPRESENTATIVE, set()),
        (45, (BEWIND,), BEWIND.id, {"finances"}),
        (45, (MENTOR,), MENTOR.id, DEBT_CATEGORIES - {"finances"}),
        (45, (CURATOR,), SELF, DEBT_CATEGORIES),  # its objection still counts
    ])
    def test_counts_for(self, age, representatives, grantor, expected) -> None:
        assert counts_for(age, representatives, grantor, DEBT_CATEGORIES) == expected


# -- invariants -------------------------------------------------------------------------------

GRANTORS = (SELF, MOTHER.id, FATHER.id, NO_AUTHORITY, UNNAMED_REPRESENTATIVE, CURATOR.id,
            MENTOR.id, BEWIND.id)
REPRESENTATIVES = (MOTHER, FATHER, VOOGD, CURATOR, MENTOR, BEWIND)


@st.composite
def records(draw: st.DrawFn) -> ConsentRecord:
    return record(*draw(st.sets(st.sampled_from(GRANTORS), min_size=1, max_size=2)),
                  verdict=draw(st.sampled_from(("permit", "deny"))), activity=DEBT,
                  categories=frozenset(draw(st.sets(st.sampled_from(sorted(DEBT_CATEGORIES)),
                                                    max_size=2))))


cases = st.tuples(st.lists(records(), max_size=6),
                  st.sets(st.sampled_from(REPRESENTATIVES)).map(tuple), st.integers(0, 90))


@settings(max_examples=300, deadline=None)
@given(cases, records())
def test_an_added_objection_never_permits_more(case, extra) -> None:
    history, representatives, age = case
    objection = replace(extra, verdict="deny")
    before = ask(history, representatives, age, activity=DEBT)
    after = ask([*history, objection], representatives, age, activity=DEBT)
    assert after.permitted <= before.permitted


@settings(max_examples=300, deadline=None)
@given(cases)
def test_a_parent_without_authority_never_changes_a_decision_once_a_holder_is_known(
        case) -> None:
    history, representatives, age = case
    representatives = (*representatives, MOTHER)
    without = [replace(r, grantors=r.grantors - {NO_AUTHORITY}) for r in history
               if r.grantors != {NO_AUTHORITY}]
    assert ask(history, representatives, age, activity=DEBT) == ask(
        without, representatives, age, activity=DEBT)


@settings(max_examples=300, deadline=None)
@given(cases)
def test_a_bewindvoerder_alone_never_opens_more_than_finances(case) -> None:
    """Records of the bewindvoerder only: whatever else is known, nothing but finances."""
    history, representatives, age = case
    history = [replace(r, grantors=frozenset({BEWIND.id})) for r in history]
    assert ask(history, (*representatives, BEWIND), age, activity=DEBT).permitted \
        <= {"finances"}
