"""One identity: a BSN decides; without one, each source system's own identifier; a new person
who only looks like a known one is queued for review, never merged; names and postcodes are
read for the match key and never stored."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from gateway.identity.matching import (
    Identified,
    identify,
    identify_all,
    match_key,
    name_key,
    normalised_postcode,
)
from gateway.identity.merges import canonical_id, person_ids
from gateway.platform.db.models import Base, IdentityReview, Person, PersonIdentifier
from schemas import Identifier, PersonClaim, local_system
from tests.support.samples import VALID_BSNS

ZCD, MENS = local_system("zcd"), local_system("menscentraal")
BORN = date(2015, 3, 4)


def claim(*, bsn: str | None = None, system: str | None = ZCD, value: str = "Z-1",
          family: str | None = "El Amrani", given: str | None = "Fatima",
          born: date | None = BORN, postcode: str | None = "1234 AB") -> PersonClaim:
    return PersonClaim(bsn=bsn, local=Identifier(system=system, value=value) if system else None,
                       family_name=family, given_name=given, birth_date=born,
                       postcode=postcode)


def run(sessions: sessionmaker[Session], *claims: PersonClaim,
        client_id: str = "demo-wijkteam-noord") -> list[Identified]:
    """Each claim identified in one committed transaction (the ids are read back as ids)."""
    with sessions.begin() as session:
        return [identify(session, c, client_id=client_id, source_ref=f"test/{i}")
                for i, c in enumerate(claims)]


def identifiers(sessions: sessionmaker[Session], person_id: str) -> set[tuple[str, str]]:
    with sessions() as session:
        return {(i.system, i.value) for i in session.scalars(sa.select(PersonIdentifier).where(
            PersonIdentifier.person_id == person_id))}


def reviews(sessions: sessionmaker[Session]) -> list[tuple[str, str, str | None]]:
    with sessions() as session:
        return [(r.kind, r.person_id, r.candidate_id) for r in session.scalars(
            sa.select(IdentityReview).order_by(IdentityReview.created_at))]


@pytest.mark.usefixtures("seeded")
class TestMatching:
    def test_a_bsn_decides_whatever_the_local_ids(self, sessions) -> None:  # noqa: ANN001
        first, second = run(sessions, claim(bsn=VALID_BSNS[0]),
                            claim(bsn=VALID_BSNS[0], system=MENS, value="M-77"))
        assert (first.created, second.created) == (True, False)
        assert first.person.id == second.person.id and second.review_id is None
        assert identifiers(sessions, first.person.id) == {(ZCD, "Z-1"), (MENS, "M-77")}

    def test_without_bsn_each_systems_local_id_identifies(self, sessions) -> None:  # noqa: ANN001
        zcd, again, mens = run(sessions, claim(postcode=None), claim(postcode=None),
                               claim(system=MENS, postcode=None))
        assert zcd.person.id == again.person.id and not again.created
        assert mens.created and mens.person.id != zcd.person.id  # same value, other system
        assert reviews(sessions) == []  # no postcode: nothing to call a probable match

    def test_a_person_known_by_local_id_learns_the_bsn(self, sessions) -> None:  # noqa: ANN001
        local, with_bsn = run(sessions, claim(), claim(bsn=VALID_BSNS[1]))
        assert with_bsn.person.id == local.person.id and not with_bsn.created
        with sessions() as session:
            assert session.get(Person, local.person.id).bsn == VALID_BSNS[1]

    def test_a_birth_date_fills_an_unknown_one_never_a_known_one(self, sessions) -> None:  # noqa: ANN001
        run(sessions, claim(born=None), claim(born=BORN), claim(born=date(2016, 1, 1)))
        with sessions() as session:
            assert session.scalars(sa.select(Person.birth_date)).all() == [BORN]

    def test_a_probable_match_is_queued_not_merged(self, sessions) -> None:  # noqa: ANN001
        known, new = run(sessions, claim(family="van der Berg", given="Änne"),
                         claim(system=MENS, value="M-1", family="Berg, van der", given="anne",
                               postcode="1234ab"))
        assert new.created and new.person.id != known.person.id
        assert reviews(sessions) == [("probable-match", new.person.id, known.person.id)]
        assert new.review_id is not None
        with sessions() as session:
            assert person_ids(session, new.person.id) == (new.person.id,)
            assert canonical_id(session, known.person.id) == known.person.id

    @pytest.mark.parametrize("other", [
        {"born": date(2015, 3, 5)}, {"postcode": "1234 AC"}, {"given": "Yasmina"},
        {"family": "El Amrani-Bakker"}])
    def test_one_fact_apart_is_no_probable_match(self, sessions, other: dict) -> None:  # noqa: ANN001
        run(sessions, claim(), claim(system=MENS, **other))
        assert reviews(sessions) == []

    def test_two_bsns_tell_look_alikes_apart(self, sessions) -> None:  # noqa: ANN001
        run(sessions, claim(bsn=VALID_BSNS[0]), claim(bsn=VALID_BSNS[1], system=MENS))
        assert reviews(sessions) == []

    def test_one_bsn_does_not_tell_them_apart(self, sessions) -> None:  # noqa: ANN001
        known, new = run(sessions, claim(bsn=VALID_BSNS[0]), claim(system=MENS))
        assert reviews(sessions) == [("probable-match", new.person.id, known.person.id)]

    def test_the_claims_of_one_message_are_matched_in_order(self, sessions) -> None:  # noqa: ANN001
        """As if they came one by one: the later look-alike is queued against the earlier
        one, never the earlier against one that did not exist yet."""
        with sessions.begin() as session:
            first, second = identify_all(session, [claim(bsn=VALID_BSNS[0]), claim(system=MENS)],
                                         client_id="demo-wijkteam-noord",
                                         source_ref="test/0").values()
        assert (first.created, second.created) == (True, True)
        assert reviews(sessions) == [("probable-match", second.person.id, first.person.id)]

    def test_a_bsn_and_a_local_id_of_two_persons_are_queued(self, sessions) -> None:  # noqa: ANN001
        by_bsn, by_local = run(sessions, claim(bsn=VALID_BSNS[0], system=None),
                               claim(bsn=VALID_BSNS[1], system=MENS, value="M-5"))
        both, again = run(sessions, *[claim(bsn=VALID_BSNS[0], system=MENS, value="M-5")] * 2)
        assert both.person.id == again.person.id == by_bsn.person.id and not both.created
        assert reviews(sessions) == [("probable-match", by_bsn.person.id, by_local.person.id)]
        assert identifiers(sessions, by_bsn.person.id) == set()  # the local id stays put

    def test_names_and_postcodes_are_not_stored(self, sessions) -> None:  # noqa: ANN001
        run(sessions, claim(family="Jansen-de Vries", given="Pieternella",
                            postcode="9876 ZY"),
            claim(system=MENS, family="Jansen-de Vries", given="Pieternella",
                  postcode="9876ZY"))
        with sessions() as session:
            stored = " ".join(str(value) for table in Base.metadata.sorted_tables
                              for row in session.execute(sa.select(table))
                              for value in row).lower()
        assert reviews(sessions)  # the match was found ...
        # ... from no stored name or postcode (a bare "9876" could sit in any hex id or hash)
        for fragment in ("jansen", "vries", "pieternella", "9876zy", "9876 zy"):
            assert fragment not in stored


class TestKeys:
    @pytest.mark.parametrize(("family", "given", "key"), [
        ("Van der Berg", "Anne", "berg|a"), ("Berg, van der", "anne", "berg|a"),
        ("van den Berg", "Ánne-Marie", "berg|a"), ("Jansen-de Vries", "Piet", "jansenvries|p"),
        ("Çelik", "Öykü", "celik|o"), ("d'Hondt", "Els", "hondt|e"),
        ("van der", "Anne", None), ("Berg", "", None), (None, "Anne", None)])
    def test_name_key(self, family: str | None, given: str | None, key: str | None) -> None:
        assert name_key(family, given) == key

    @pytest.mark.parametrize(("given", "expected"), [
        ("1234 ab", "1234AB"), (" 1234AB ", "1234AB"), ("0123AB", None), ("1234", None),
        ("B-1000", None), (None, None)])
    def test_postcode(self, given: str | None, expected: str | None) -> None:
        assert normalised_postcode(given) == expected

    def test_the_key_needs_every_part_and_is_a_digest(self) -> None:
        assert match_key(claim(postcode=None)) is None
        assert match_key(claim(born=None)) is None
        key = match_key(claim())
        assert key is not None and len(key) == 64 and "amrani" not in key
        assert key == match_key(claim(family="el  AMRANI", given="F.", postcode="1234ab"))
