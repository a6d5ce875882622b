"""The decision function: every rule, then the invariants as properties."""

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
    ConsentRecord,
    DecisionError,
    DecisionRequest,
    Override,
    Recipient,
    decide,
    minimise,
    parse_register,
)

REGISTER = parse_register(yaml.safe_load(
    (files("consent") / "processing_activities.yaml").read_text()))
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
ADULT = date(1980, 5, 1)
NOORD = Recipient("wijkteam-noord", "wijkteam")
ZUID = Recipient("wijkteam-zuid", "wijkteam")
GP_ACTIVITY = "gp-referral-to-wijkteam"
_ids = itertools.count(1)


def record(verdict: str = "permit", *, grantors: frozenset = frozenset({"self"}),
           activity: str = GP_ACTIVITY, **kw) -> ConsentRecord:
    return ConsentRecord(id=kw.pop("id", f"c{next(_ids)}"), version=kw.pop("version", 1),
                         person_id="p1", activity_id=activity, verdict=verdict,
                         grantors=grantors, **kw)


def ask(records: list[ConsentRecord], *, birth: date | None = ADULT,
        recipients: tuple[Recipient, ...] = (NOORD,), activity: str = GP_ACTIVITY,
        categories: frozenset[str] | None = None, at: datetime = NOW,
        override: Override | None = None):
    request = DecisionRequest(activity, "p1", birth, recipients, at, categories, override)
    return decide(REGISTER, request, records)


def test_no_record_denies_an_activity_that_requires_consent() -> None:
    result = ask([]).for_recipient(NOORD)
    assert result.verdict == "deny" and result.fields == frozenset()
    assert "no-consent-means-deny" in result.rules
    assert result.explanation.startswith("deny: gp-referral-to-wijkteam to wijkteam-noord")


def test_person_wide_consent_permits_every_category_with_its_fields() -> None:
    consent = record()
    result = ask([consent]).for_recipient(NOORD)
    assert result.verdict == "permit"
    assert result.permitted == REGISTER.activity(GP_ACTIVITY).data_categories
    assert result.records == (consent.id,)
    assert {"ServiceRequest.reasonCode", "Patient.telecom", "ServiceRequest.status"} \
        <= result.fields


def test_activity_without_consent_permits_on_its_legal_basis() -> None:
    gp = Recipient("gp-1", "huisarts")
    result = ask([], activity="referrer-feedback", recipients=(gp,)).for_recipient(gp)
    assert result.verdict == "permit" and "legal-basis-6.1.e" in result.rules
    assert "Task.status" in result.fields and "Task.note" not in result.fields


def test_recipient_outside_the_activity_roles_gets_nothing_even_with_consent() -> None:
    school = Recipient("school-1", "school")
    result = ask([record()], recipients=(school,)).for_recipient(school)
    assert result.verdict == "deny" and "recipient-role-not-in-activity" in result.rules


def test_categories_outside_the_purpose_are_never_permitted() -> None:
    result = ask([record()], categories=frozenset({"health", "safety-signals"}))
    decision = result.for_recipient(NOORD)
    assert decision.permitted == {"health"} and decision.denied == {"safety-signals"}
    assert "purpose-limitation" in decision.rules
    assert "Communication.payload" not in decision.fields


@pytest.mark.parametrize("activity,categories,field", [
    ("no-such-activity", None, "activity"),
    (GP_ACTIVITY, frozenset({"shoe-size"}), "categories"),
])
def test_unknown_activity_or_category_is_refused(activity, categories, field) -> None:
    with pytest.raises(DecisionError) as raised:
        ask([], activity=activity, categories=categories)
    assert raised.value.field_name == field


def test_no_recipients_is_refused() -> None:
    with pytest.raises(DecisionError, match="at least one recipient"):
        ask([], recipients=())


def test_more_specific_record_wins_over_a_wider_one() -> None:
    wide_deny = record("deny")
    role_permit = record(recipient_role="wijkteam")
    org_health_deny = record("deny", recipient_organization="wijkteam-noord",
                             categories=frozenset({"health"}))
    result = ask([wide_deny, role_permit, org_health_deny]).for_recipient(NOORD)
    assert result.denied == {"health"}
    assert result.permitted == {"identification", "contact", "social-situation"}
    assert "more-specific-wins" in result.rules
    assert "ServiceRequest.reasonCode" not in result.fields


def test_at_equal_specificity_an_objection_wins() -> None:
    permit, objection = record(recipient_role="wijkteam"), record("deny", recipient_role="wijkteam")
    result = ask([permit, objection]).for_recipient(NOORD)
    assert result.verdict == "deny" and result.records == (objection.id,)
    assert "objection-wins-at-equal-specificity" in result.rules
    assert "the person objected" in result.explanation


def test_consent_for_one_organisation_does_not_reach_another() -> None:
    result = ask([record(recipient_organization="wijkteam-noord")], recipients=(NOORD, ZUID))
    assert result.for_recipient(NOORD).verdict == "permit"
    assert result.for_recipient(ZUID).verdict == "deny"


def test_validity_period_and_revocation() -> None:
    later = record(start=NOW + timedelta(days=1))
    expired = record(end=NOW)
    assert ask([later]).for_recipient(NOORD).verdict == "deny"
    assert ask([expired]).for_recipient(NOORD).verdict == "deny"
    given_ = record()
    revoked = replace(given_, version=2, active=False)
    assert ask([given_, revoked]).for_recipient(NOORD).verdict == "deny"
    assert ask([revoked, given_]).for_recipient(NOORD).verdict == "deny"


def test_records_of_other_people_and_activities_do_not_count() -> None:
    other_person = replace(record(), person_id="p2")
    other_activity = record(activity="casusoverleg")
    assert ask([other_person, other_activity]).for_recipient(NOORD).verdict == "deny"


def _born(years_before: int) -> date:
    return date(NOW.year - years_before, NOW.month, NOW.day)


@pytest.mark.parametrize("age,grantors,verdict", [
    (11, {"representative"}, "permit"),
    (11, {"self"}, "deny"),  # a child under 12 does not decide
    (12, {"self"}, "deny"),  # 12 to 15: the child alone is not enough ...
    (12, {"representative"}, "deny"),  # ... nor a parent alone
    (12, {"self", "representative"}, "permit"),
    (15, {"self", "representative"}, "permit"),
    (16, {"self"}, "permit"),
    (16, {"representative"}, "deny"),  # from 16 parents no longer decide
])
def test_minors_need_the_right_grantors(age, grantors, verdict) -> None:
    result = ask([record(grantors=frozenset(grantors))], birth=_born(age)).for_recipient(NOORD)
    assert result.verdict == verdict


def test_twelve_to_fifteen_accepts_separate_records_of_child_and_parent() -> None:
    child, parent = record(), record(grantors=frozenset({"representative"}))
    assert ask([child, parent], birth=_born(13)).for_recipient(NOORD).verdict == "permit"
    parent_objects = record("deny", grantors=frozenset({"representative"}))
    result = ask([child, parent_objects], birth=_born(13)).for_recipient(NOORD)
    assert result.verdict == "deny" and "a parent or guardian objected" in result.explanation


def test_age_is_taken_at_decision_time() -> None:
    """Parents consented while the child was 11; at 12 the child must consent too."""
    birth, parents = _born(12), [record(grantors=frozenset({"representative"}))]
    assert ask(parents, birth=birth, at=NOW - timedelta(days=1)).for_recipient(NOORD).verdict \
        == "permit"
    result = ask(parents, birth=birth).for_recipient(NOORD)
    assert result.verdict == "deny" and "age-12-to-15" in result.rules


def test_unknown_birth_date_denies_when_consent_is_needed() -> None:
    result = ask([record()], birth=None).for_recipient(NOORD)
    assert result.verdict == "deny" and "age-unknown" in result.rules


def test_meldrecht_override_only_where_the_activity_allows_it() -> None:
    override = Override("Acute zorg om veiligheid van het kind", meldcode_step=5)
    vt = Recipient("veilig-thuis-groningen", "veilig-thuis")
    objection = record("deny", activity="report-to-veilig-thuis")
    result = ask([objection], activity="report-to-veilig-thuis", recipients=(vt,),
                 override=override)
    assert result.needs_review
    assert result.for_recipient(vt).verdict == "permit"
    assert "meldrecht-override" in result.for_recipient(vt).rules
    with pytest.raises(DecisionError) as raised:
        ask([], override=override)
    assert raised.value.field_name == "override"


# -- invariants -------------------------------------------------------------------------------

GP_CATEGORIES = sorted(REGISTER.activity(GP_ACTIVITY).data_categories)
RECIPIENTS = (NOORD, ZUID, Recipient("wijkteam-west", "wijkteam"))


CONSENT_IDS = st.sampled_from("abcdefgh")


@st.composite
def records(draw: st.DrawFn, ids: st.SearchStrategy[str] = CONSENT_IDS) -> ConsentRecord:
    target = draw(st.sampled_from(("org", "role", "none")))
    organization = draw(st.sampled_from(RECIPIENTS)).organization if target == "org" else None
    start = draw(st.none() | st.integers(-30, 30).map(lambda d: NOW + timedelta(days=d)))
    return ConsentRecord(
        id=draw(ids), version=draw(st.integers(1, 3)), person_id="p1", activity_id=GP_ACTIVITY,
        verdict=draw(st.sampled_from(("permit", "deny"))),
        grantors=draw(st.sampled_from((frozenset({"self"}), frozenset({"representative"}),
                                       frozenset({"self", "representative"})))),
        active=draw(st.booleans()), recipient_organization=organization,
        recipient_role="wijkteam" if target == "role" else None,
        categories=frozenset(draw(st.lists(st.sampled_from(GP_CATEGORIES), max_size=2))),
        start=start,
        end=draw(st.none() | st.integers(1, 60).map(lambda d: (start or NOW) + timedelta(days=d))))


births = st.none() | st.integers(0, 90).map(_born)


@settings(max_examples=200, deadline=None)
@given(st.lists(records(), max_size=8), births)
def test_a_later_revocation_always_wins(history: list[ConsentRecord], birth) -> None:
    """Revoking every consent leaves the same answer as having no consent at all."""
    revoked = [replace(r, version=max(x.version for x in history if x.id == r.id) + 1,
                       active=False) for r in history]
    assert ask(history + revoked, birth=birth, recipients=RECIPIENTS) \
        == ask([], birth=birth, recipients=RECIPIENTS)


@settings(max_examples=200, deadline=None)
@given(st.lists(records(), max_size=8), records(st.just("new")), births)
def test_a_record_for_one_organisation_never_changes_another(
        history: list[ConsentRecord], extra: ConsentRecord, birth) -> None:
    extra = replace(extra, recipient_organization=NOORD.organization, recipient_role=None)
    before = ask(history, birth=birth, recipients=(ZUID,))
    after = ask([*history, extra], birth=birth, recipients=(ZUID,))
    assert before == after


@settings(max_examples=200, deadline=None)
@given(st.lists(records(), max_size=8), births)
def test_fields_come_only_from_permitted_categories(history: list[ConsentRecord], birth) -> None:
    for result in ask(history, birth=birth, recipients=RECIPIENTS).recipients:
        denied_fields = set().union(*(REGISTER.categories[c] for c in result.denied))
        permitted_fields = set().union(*(REGISTER.categories[c] for c in result.permitted))
        assert not (result.fields & (denied_fields - permitted_fields))
        assert (result.verdict == "permit") == bool(result.permitted)


FULL_REFERRAL = {
    "resourceType": "ServiceRequest", "id": "sr", "status": "active", "intent": "order",
    "subject": {"reference": "#p"}, "code": {"text": "c"}, "reasonCode": [{"text": "r"}],
    "note": [{"text": "n"}], "supportingInfo": [{"reference": "#c"}],
    "extension": [{"url": "x"}], "performer": [{"reference": "Organization/wijkteam-noord"}],
    "contained": [{"resourceType": "Patient", "id": "p", "name": [{"family": "f"}],
                   "telecom": [{"value": "t"}], "address": [{"city": "a"}],
                   "contact": [{"name": {"text": "c"}}]},
                  {"resourceType": "Consent", "id": "c", "status": "active"}],
}


@settings(max_examples=200, deadline=None)
@given(st.lists(records(), max_size=8), births)
def test_a_denied_field_never_appears_in_a_payload(history: list[ConsentRecord], birth) -> None:
    """Decision then minimisation, as every delivery does: nothing of a category that was not
    permitted, and nothing unclassified, survives."""
    for result in ask(history, birth=birth, recipients=RECIPIENTS).recipients:
        payload = minimise(FULL_REFERRAL, result.fields)
        present = {f"{payload['resourceType']}.{k}" for k in payload} | {
            f"{c['resourceType']}.{k}" for c in payload.get("contained", ()) for k in c}
        for category in result.denied - result.permitted:
            assert not (present & (REGISTER.categories[category]
                                   - set().union(*(REGISTER.categories[c]
                                                   for c in result.permitted))))
        assert present <= result.fields | {"ServiceRequest.resourceType", "ServiceRequest.id",
                                           "Patient.resourceType", "Patient.id",
                                           "ServiceRequest.contained"}
