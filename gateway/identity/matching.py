"""Who a message is about: by BSN, else by the sending system's own identifier, else a new
person. Never guesses: a new person who looks like a known one (the same name key, birth
date and postcode, and no two BSNs to tell them apart) stays a separate person, and the pair
waits in the identity review queue (``probable-match``) for an administrator to merge or keep
apart. Names and postcodes are read to make the match key and are not stored. Never commits."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.identity import repository
from gateway.identity.merges import canonical_id
from gateway.identity.service import queue_probable_match
from gateway.platform.db.inserts import insert_loaded
from gateway.platform.db.models import Person, PersonIdentifier, new_id
from schemas import Identifier, PersonClaim

# Dutch surname prefixes (tussenvoegsels): "Van der Berg", "Berg, van der", "van den Berg"
# and "Berg" are one name key, as are the two halves of a double name with or without them.
TUSSENVOEGSELS = frozenset({
    "van", "von", "der", "den", "de", "het", "t", "ter", "ten", "te", "in", "op", "aan",
    "bij", "uit", "onder", "over", "voor", "la", "le", "du", "des", "d", "l", "vd"})
_POSTCODE = re.compile(r"^[1-9][0-9]{3}[A-Z]{2}$")
MAX_CANDIDATES = 5  # more look-alikes than this say the key is too coarse, not who it is


@dataclass(frozen=True)
class Identified:
    """The person a claim names; ``created`` when new; ``review_id`` when a probable match
    with another person waits for review; ``known_birth_date`` when the claim gives another
    birth date than the known one (kept): a conflict for the caller to queue."""

    person: Person
    created: bool
    review_id: str | None = None
    known_birth_date: date | None = None


def identify(session: Session, claim: PersonClaim, *, client_id: str,
             source_ref: str) -> Identified:
    """The person ``claim`` names, created when unknown (``identify_all`` of one claim)."""
    return identify_all(session, [claim], client_id=client_id, source_ref=source_ref)[claim]


def identify_all(session: Session, claims: Sequence[PersonClaim], *, client_id: str,
                 source_ref: str, retried: bool = False) -> dict[PersonClaim, Identified]:
    """The person each claim names, created when unknown; the claims of one message in
    order, so a later claim finds what an earlier one stored.

    A BSN decides; without a match on it, the sender's local identifier (a person found that
    way learns the BSN if they had none). A local identifier not yet known is added to the
    person, so they are found by it next time. A birth date fills an unknown one and never
    replaces a known one: the caller compares and queues a conflict if they differ. A claim
    whose BSN and local identifier name two different known persons links the BSN's one and
    queues the pair for review.

    The persons the claims' BSNs and local identifiers name are read once, for all claims.
    Two requests naming one new person at once (PostgreSQL): the writes go in one savepoint,
    and the one that loses the race on the BSN or the local identifier rolls back to it and
    reads again, finding the winner's person (committed by then), instead of failing. SQLite
    lets one writer in at a time (``BEGIN IMMEDIATE``), so there is no race to lose there and
    no savepoint to pay for."""
    wanted = list(dict.fromkeys(claims))
    by_bsn = repository.persons_by_bsn(session, [c.bsn for c in wanted if c.bsn])
    by_local = repository.persons_by_local(session, [c.local for c in wanted if c.local])
    try:
        with _race_savepoint(session):
            matches = [_matched(claim, by_bsn, by_local) for claim in wanted]
            insert_loaded(session, *(m.person for m in matches if m.created))
            insert_loaded(session, *(m.local for m in matches if m.local))
    except IntegrityError:
        if retried:
            raise
        return identify_all(session, claims, client_id=client_id, source_ref=source_ref,
                            retried=True)
    later = {m.person.id for m in matches if m.created}  # new to claims before theirs
    identified = {}
    for claim, match in zip(wanted, matches, strict=True):
        later.discard(match.person.id)
        identified[claim] = _reviewed(session, claim, match, later, client_id, source_ref)
    return identified


def _race_savepoint(session: Session) -> AbstractContextManager[object]:
    """A savepoint to roll back to when another writer wins the race; none on SQLite."""
    return nullcontext() if session.connection().dialect.name == "sqlite" \
        else session.begin_nested()


@dataclass(frozen=True)
class _Match:
    """A claim's person (new: ``created``), the person its local identifier named (if
    another), its match key, and its local identifier when new to the gateway."""

    person: Person
    created: bool
    owner: Person | None
    key: str | None
    local: PersonIdentifier | None


def _matched(claim: PersonClaim, by_bsn: dict[str, Person],
             by_local: dict[Identifier, Person]) -> _Match:
    """One claim's person, found (with what the claim adds: the BSN for one found by the
    local identifier, a birth date, the match key) or new; ``by_bsn`` and ``by_local`` learn
    it for the claims after. New rows are for the caller to write, changes are flushed."""
    person = by_bsn.get(claim.bsn) if claim.bsn else None
    owner = by_local.get(claim.local) if claim.local else None
    key = match_key(claim)
    created = person is None and (owner is None or (claim.bsn is not None
                                                   and owner.bsn is not None))
    if person is None and owner is not None and not created:
        person = owner
        person.bsn = person.bsn or claim.bsn
    if person is None:
        person = Person(id=new_id(), bsn=claim.bsn, birth_date=claim.birth_date, match_key=key)
    if claim.birth_date and not person.birth_date:
        person.birth_date = claim.birth_date
    if key and not person.match_key:
        person.match_key = key
    local = PersonIdentifier(person_id=person.id, system=claim.local.system,
                             value=claim.local.value) if claim.local and owner is None else None
    if claim.bsn:
        by_bsn[claim.bsn] = person
    if claim.local:
        by_local.setdefault(claim.local, person)
    return _Match(person, created, owner, key, local)


def _reviewed(session: Session, claim: PersonClaim, match: _Match, later: set[str],
              client_id: str, source_ref: str) -> Identified:
    """The match, queued for review with the persons it may be (the local identifier's other
    person, else look-alikes, none of them ``later``: new to a claim after this one), the
    birth dates compared."""
    person, owner = match.person, match.owner
    if owner is not None and owner.id != person.id:  # the BSN's person and the local id's
        candidates = [] if repository.pair_in_review(session, person.id, owner.id) \
            else [owner.id]
    elif match.created and match.key:
        candidates = _look_alikes(session, person, match.key, later)
    else:
        candidates = []
    reviews = [queue_probable_match(session, person_id=person.id, candidate_id=candidate,
                                    source_ref=source_ref, client_id=client_id)
               for candidate in candidates]
    differs = person.birth_date if claim.birth_date not in (None, person.birth_date) else None
    return Identified(person, match.created, reviews[0].id if reviews else None, differs)


def name_key(family_name: str | None, given_name: str | None) -> str | None:
    """``"Van der Berg", "Änne"`` -> ``"berg|a"``: the surname without accents, case,
    punctuation and tussenvoegsels, and the given name's initial. None without both."""
    words = [w for w in _plain(family_name).split() if w not in TUSSENVOEGSELS]
    initial = _plain(given_name).replace(" ", "")[:1]
    return f"{''.join(words)}|{initial}" if words and initial else None


def normalised_postcode(postcode: str | None) -> str | None:
    """``"1234 ab"`` -> ``"1234AB"``; None for anything that is not a Dutch postcode."""
    value = re.sub(r"\s+", "", postcode or "").upper()
    return value if _POSTCODE.match(value) else None


def match_key(claim: PersonClaim) -> str | None:
    """SHA-256 of name key, birth date and postcode: equal for look-alikes, and no name or
    address in the database. None when any part is missing (no probable match then)."""
    return _digest(name_key(claim.family_name, claim.given_name), claim.birth_date,
                   normalised_postcode(claim.postcode))


def _digest(name: str | None, born: date | None, postcode: str | None) -> str | None:
    if name is None or born is None or postcode is None:
        return None
    return hashlib.sha256(f"{name}|{born.isoformat()}|{postcode}".encode()).hexdigest()


def _plain(text: str | None) -> str:
    """Lowercase letters and spaces, accents stripped; hyphens and apostrophes split words."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    letters = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z]+", " ", letters).strip()


def _look_alikes(session: Session, person: Person, key: str, later: set[str]) -> list[str]:
    """Known persons with this match key that a BSN does not tell apart from ``person``
    (none of ``later``), each merge set once (by its canonical person)."""
    found = repository.look_alikes(session, key, person, MAX_CANDIDATES, later)
    return list(dict.fromkeys(canonical_id(session, pid) for pid in found))
