"""A first load's rows, a batch at a time (``wijkgateway import``): each row ends as its
messages would through :func:`gateway.pipeline.messages.receive_message`, at a fraction of
the cost (a first load has a million rows; the long way takes ~30 ms a row).

Nearly every row of a first load names persons, a household and a trajectory the gateway has
never seen. For those, what the long way would look up one by one (message ids, BSNs, local
ids, match keys, household ids) is read with one query per kind for the whole batch, and what
it would write goes in with one Core statement per table: the same rows, the same answers
under the same message ids, the same processing-log entries in the same order. Every other
row takes the long way, in its place: a person or trajectory known already, a look-alike (a
probable match to review), a household held by another system, a message id reused. The rows
before it are written first, and the rows after it are looked up again, so they see what it
did. Never commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import Select, Table, bindparam, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from adapters import Adapter, InvalidMessage
from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.households.render import render_group
from gateway.identity import matching
from gateway.involvements.service import sensitivity_of
from gateway.pipeline import inbound_ids
from gateway.pipeline.messages import APPLIED, KIND_OF, REPLAYED, receive_message
from gateway.platform.db.models import (
    HouseholdIdentifier,
    HouseholdMember,
    HouseholdRow,
    InboundMessage,
    Involvement,
    Person,
    PersonIdentifier,
    ResourceVersion,
    new_id,
)
from gateway.platform.db.types import utcnow
from gateway.platform.errors import GatewayError
from schemas import Identifier, PersonClaim, Subject
from schemas.messages import CloseCase, OpenCase, RegisterHousehold, RegisterPerson
from schemas.messages import InboundMessage as Message

TRANSPORT = "csv"
# in the order their foreign keys need
_TABLES: tuple[Table, ...] = tuple(model.__table__ for model in (  # type: ignore[misc]
    Person, PersonIdentifier, HouseholdRow, HouseholdIdentifier, HouseholdMember, Involvement,
    InboundMessage, ResourceVersion))
_HOUSEHOLDS, _MEMBERS = HouseholdRow.__table__, HouseholdMember.__table__
_IDS = HouseholdIdentifier.__table__
match_key = lru_cache(maxsize=4096)(matching.match_key)  # a claim is looked at several times
_VERSION = update(_HOUSEHOLDS).where(_HOUSEHOLDS.c.id == bindparam("b_id")).values(
    version_id=bindparam("b_version"), updated_at=bindparam("b_updated"))


@dataclass(frozen=True)
class Row:
    """A row's messages: as the system's JSON (for the long way), parsed, and digested."""

    line: int
    documents: tuple[dict[str, Any], ...]
    messages: tuple[Message, ...]
    digests: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """A row's fate: ``APPLIED``, ``REPLAYED`` (every message came before), or refused."""

    line: int
    status: int
    error: GatewayError | InvalidMessage | None = None


def parsed_row(adapter: Adapter, line: int, documents: Sequence[dict[str, Any]]) -> Row:
    """The row's messages, each checked by the adapter (``InvalidMessage`` names what is
    wrong), and each message's digest as the long way takes it (of what it says: the same
    message sent later over HTTP is a replay)."""
    messages = tuple(adapter.parse(d) for d in documents)
    return Row(line, tuple(documents), messages,
               tuple(inbound_ids.Sent(m).digest for m in messages))


def apply_rows(session: Session, caller: Caller, adapter: Adapter, rows: Sequence[Row],
               max_depth: int) -> list[Outcome]:
    """Each row whole or not at all, in order; the outcome of each."""
    outcomes: list[Outcome] = []
    plan: _Plan | None = None
    stale = False  # a row took the long way since the plan looked: what it found may be old
    for i, row in enumerate(rows):
        if plan is None or (stale and plan.route(row) is not None):
            plan, stale = _Plan.read(session, caller, adapter.descriptor.name, rows[i:]), False
        step = plan.route(row)
        if step is not None:
            plan.add(step)
            continue
        outcomes += plan.write(session, caller, adapter, max_depth)
        outcomes.append(_long_way(session, caller, adapter, row, max_depth))
        stale = True
    if plan is not None:
        outcomes += plan.write(session, caller, adapter, max_depth)
    return outcomes


def _long_way(session: Session, caller: Caller, adapter: Adapter, row: Row,
              max_depth: int) -> Outcome:
    """The row's messages through ``receive_message``, in a savepoint: whole or not at all."""
    try:
        with session.begin_nested():
            answers = [receive_message(session, caller, adapter, orjson.dumps(document),
                                       max_depth, transport=TRANSPORT)
                       for document in row.documents]
    except (InvalidMessage, GatewayError) as error:
        if error.status >= 500:
            raise
        return Outcome(row.line, error.status, error)
    return Outcome(row.line, APPLIED if all(a.status_code == APPLIED for a in answers)
                   else REPLAYED)


@dataclass
class _Household:
    """A household as the batch leaves it: rendered before each change it gets (its
    version), updated in place when the database had it, inserted when new."""

    row: _Copy
    members: list[_Copy]
    identifiers: list[_Copy]
    mine: bool  # registered by the caller (or given an id by it): it may join
    stored: bool  # in the database before this batch
    changed: bool = False


@dataclass(frozen=True)
class _Step:
    """A row admitted the short way; ``person`` None: a replay of rows already in."""

    row: Row
    person: PersonClaim | None = None
    household: _Household | None = None


@dataclass
class _Plan:
    """What a stretch of rows finds in the database, and what those admitted will write."""

    system: str
    organization: str
    sensitivity: str
    seen: dict[str, str]  # message id -> digest
    bsns: set[str]
    locals: set[tuple[str, str]]
    keys: set[str]
    households: dict[tuple[str, str], _Household]
    steps: list[_Step] = field(default_factory=list)

    @classmethod
    def read(cls, session: Session, caller: Caller, system: str,
             rows: Sequence[Row]) -> _Plan:
        claims = [claim for row in rows for claim in _claims(row)]
        ids = [m.message_id for row in rows for m in row.messages]
        local_ids = {c.local.value for c in claims if c.local}
        keys = {k for k in map(match_key, claims) if k}
        homes = {m.household.local for row in rows for m in row.messages
                 if isinstance(m, RegisterHousehold) and m.household.local}
        organization = caller.organization or f"client:{caller.client_id}"
        return cls(
            system, organization, sensitivity_of(session, organization),
            dict(session.execute(select(InboundMessage.message_id, InboundMessage.request_hash)
                                 .where(InboundMessage.client_id == caller.client_id,
                                        InboundMessage.message_id.in_(ids))).all()),
            set(session.scalars(select(Person.bsn).where(
                Person.bsn.in_({c.bsn for c in claims if c.bsn})))),
            set(session.execute(select(PersonIdentifier.system, PersonIdentifier.value)
                                .where(PersonIdentifier.value.in_(local_ids))).all()),
            set(session.scalars(select(Person.match_key).where(Person.match_key.in_(keys)))),
            _stored_households(session, caller, homes))

    def route(self, row: Row) -> _Step | None:
        """The row's step the short way, or None: it takes the long way."""
        seen = [self.seen.get(m.message_id) for m in row.messages]
        if any(seen):  # another digest (or one 0.1.0 stored): the long way compares it
            return _Step(row) if seen == list(row.digests) else None
        first, *rest = row.messages
        person = _person_of(first)
        if person is None or not self._new(person) or not all(
                isinstance(m, OpenCase | CloseCase) and _same(m.person, person) and (
                    not isinstance(m, OpenCase) or (m.director, m.sensitivity) == (None, None))
                for m in rest):
            return None
        if not isinstance(first, RegisterHousehold):
            return _Step(row, person)
        local = first.household.local
        if local is None:
            return None
        household = self.households.get((local.system, local.value))
        if household is not None and not household.mine:
            return None
        return _Step(row, person, household)

    def _new(self, claim: PersonClaim) -> bool:
        key = match_key(claim)
        return (claim.bsn is None or claim.bsn not in self.bsns) and (
            claim.local is None or (claim.local.system, claim.local.value) not in self.locals
        ) and (key is None or key not in self.keys)

    def add(self, step: _Step) -> None:
        """Take the row's writes into the plan (and what later rows must see of them)."""
        self.steps.append(step)
        for message, digest in zip(step.row.messages, step.row.digests, strict=True):
            self.seen[message.message_id] = digest
        if step.person is None:
            return
        claim = step.person
        self.bsns.update([claim.bsn] if claim.bsn else [])
        self.locals.update([(claim.local.system, claim.local.value)] if claim.local else [])
        self.keys.update(filter(None, [match_key(claim)]))
        first = step.row.messages[0]
        if isinstance(first, RegisterHousehold) and step.household is None:
            local = first.household.local
            assert local is not None  # routed the short way only with one
            self.households[(local.system, local.value)] = _Household(
                _Copy(id=new_id()), [], [_Copy(system=local.system, value=local.value)],
                mine=True, stored=False)

    def write(self, session: Session, caller: Caller, adapter: Adapter,
              max_depth: int) -> list[Outcome]:
        """The admitted rows' writes, one statement per table; their log entries and
        outcomes. Should the database refuse them (a writer at the same time), each row
        takes the long way instead, so no row is lost with the others."""
        steps, self.steps = self.steps, []
        if not steps:
            return []
        writes = _Writes(session, caller, self)
        for step in steps:
            writes.row(step)
        try:
            with session.begin_nested():  # its release writes the log entries too
                writes.insert()
                writes.log()
        except DBAPIError:  # the caller reads again after: what the households hold is unknown
            return [_long_way(session, caller, adapter, step.row, max_depth) for step in steps]
        return [Outcome(s.row.line, REPLAYED if s.person is None else APPLIED) for s in steps]


class _Writes:
    """The rows a stretch of admitted rows writes, and its log entries in order."""

    def __init__(self, session: Session, caller: Caller, plan: _Plan) -> None:
        self.session, self.caller, self.plan = session, caller, plan
        self.now = utcnow()
        self.tables: dict[Table, list[dict[str, Any]]] = {table: [] for table in _TABLES}
        self.entries: list[dict[str, Any]] = []
        self.subjects: dict[str, Subject] = {}
        self.joined: dict[str, _Household] = {}

    def row(self, step: _Step) -> None:
        if step.person is None:
            return
        person_id = self._person(step.person)
        for message, digest in zip(step.row.messages, step.row.digests, strict=True):
            effect = self._effect(message, person_id, step)
            outcome = {"message": message.message_id, "kind": KIND_OF[type(message)],
                       **effect, "reviews": []}
            self.tables[InboundMessage.__table__].append({  # type: ignore[index]
                "client_id": self.caller.client_id, "message_id": message.message_id,
                "system": self.plan.system, "kind": outcome["kind"], "request_hash": digest,
                "status_code": APPLIED, "outcome": outcome, "received_at": self.now})
            self._entry(action="adapter.message", sender=self.caller.client_id,
                        details={"system": self.plan.system, "kind": outcome["kind"],
                                 "persons": [person_id]})

    def _person(self, claim: PersonClaim) -> str:
        person_id = new_id()
        self._add(Person, id=person_id, bsn=claim.bsn, birth_date=claim.birth_date,
                  match_key=match_key(claim), created_at=self.now)
        if claim.local is not None:
            self._add(PersonIdentifier, id=new_id(), person_id=person_id,
                      system=claim.local.system, value=claim.local.value, created_at=self.now)
        self.subjects[person_id] = Subject(bsn=claim.bsn, local_id=claim.local)
        return person_id

    def _effect(self, message: Message, person_id: str, step: _Step) -> dict[str, Any]:
        if isinstance(message, RegisterPerson):
            return {"person": f"Patient/{person_id}"}
        if isinstance(message, RegisterHousehold):
            return {"household": f"Group/{self._join(message, person_id, step)}"}
        if isinstance(message, CloseCase):  # a new person has nothing open to close
            return {"person": f"Patient/{person_id}", "closed": 0}
        assert isinstance(message, OpenCase)  # routed the short way only so
        involvement_id, sensitivity = new_id(), message.sensitivity or self.plan.sensitivity
        self._add(Involvement, id=involvement_id, organization=self.plan.organization,
                  person_id=person_id, source=self.plan.system, source_ref=message.case_ref,
                  started_at=_at(message.start) or self.now, ended_at=None,
                  registered_by=self.caller.client_id, created_at=self.now,
                  sensitivity=sensitivity, director_worker=None, director_organization=None)
        self._entry(action="involvement.opened", person_id=person_id, details={
            "involvement": involvement_id, "organization": self.plan.organization,
            "source": self.plan.system, "sensitivity": sensitivity})
        return {"person": f"Patient/{person_id}", "involvement": involvement_id}

    def _join(self, message: RegisterHousehold, person_id: str, step: _Step) -> str:
        """The member joins the household (new, or the one its id names): a version kept
        of the household as it was, as ``register_household`` keeps one."""
        local = message.household.local
        assert local is not None
        household = self.plan.households[(local.system, local.value)]
        row, claim = household.row, message.household.members[0]
        if household.members or household.stored:
            self._add(ResourceVersion, resource_type="Group", resource_id=row.id,
                      version_id=row.version_id, superseded_at=self.now,
                      resource=render_group(row, household.members, household.identifiers))
            row.version_id, row.updated_at, household.changed = row.version_id + 1, self.now, True
        else:  # the row that registers it
            row.version_id, row.client_id = 1, self.caller.client_id
            row.created_at = row.updated_at = self.now
            identifier = household.identifiers[0]
            identifier.household_id, identifier.client_id = row.id, self.caller.client_id
            identifier.created_at = self.now
        member = _Copy(id=new_id(), household_id=row.id, person_id=person_id,
                       position=len(household.members), role=claim.role,
                       period_start=claim.start, period_end=claim.end)
        household.members.append(member)  # to render its next version
        self._add(HouseholdMember, **_values(member))
        self.joined[row.id] = household
        self._entry(action="household.member_added", person_id=person_id,
                    details={"household": row.id, "role": claim.role})
        return row.id

    def _add(self, model: type[Any], **values: Any) -> None:
        self.tables[model.__table__].append(values)

    def _entry(self, **entry: Any) -> None:
        self.entries.append({"kind": "write", "actor_id": self.caller.client_id, **entry})

    def insert(self) -> None:
        for household in self.joined.values():
            if not household.stored:  # in its final version
                self._add(HouseholdRow, **_values(household.row))
                self._add(HouseholdIdentifier, **_values(household.identifiers[0]))
        for table, rows in self.tables.items():
            if rows:
                self.session.execute(table.insert(), rows)
        if stored := [{"b_id": h.row.id, "b_version": h.row.version_id,
                       "b_updated": h.row.updated_at}
                      for h in self.joined.values() if h.stored and h.changed]:
            self.session.execute(_VERSION, stored)
        for household in self.joined.values():
            household.stored, household.changed = True, False

    def log(self) -> None:
        for person_id, subject in self.subjects.items():
            audit.remember_subject(self.session, person_id, subject)
        for entry in self.entries:
            audit.record(self.session, **entry)


class _Copy(SimpleNamespace):
    """A row's columns as attributes, outside the session: what ``render_group`` reads of a
    household, its members and ids, changed here as the batch goes, then inserted as is."""


def _values(row: _Copy) -> dict[str, Any]:
    return dict(vars(row))


def _claims(row: Row) -> Iterable[PersonClaim]:
    for message in row.messages:
        if isinstance(message, RegisterHousehold):
            yield from (member.person for member in message.household.members)
        elif hasattr(message, "person"):
            yield message.person


def _person_of(message: Message) -> PersonClaim | None:
    """The one person a row's first message registers (a household of one member, as a
    row gives it), or None: not a row the short way knows."""
    if isinstance(message, RegisterPerson):
        return message.person
    if isinstance(message, RegisterHousehold) and len(message.household.members) == 1 \
            and not message.authority and message.household.members[0].role != "unborn":
        return message.household.members[0].person
    return None


def _same(claim: PersonClaim, person: PersonClaim) -> bool:
    """A trajectory's client is the row's client, and says nothing the client did not."""
    return (claim.bsn, claim.local) == (person.bsn, person.local) and (
        claim.birth_date in (None, person.birth_date)) and match_key(claim) is None


def _stored_households(session: Session, caller: Caller,
                       wanted: set[Identifier]) -> dict[tuple[str, str], _Household]:
    """The households the database holds these ids of, with their members and ids (copies,
    which the batch changes as it goes); one the caller neither registered nor gave an id of
    is not ``mine`` (the long way decides)."""
    held = [h for h in _copies(session, select(_IDS).where(
        _IDS.c.value.in_({i.value for i in wanted})))
            if Identifier(system=h.system, value=h.value) in wanted]
    if not held:
        return {}
    ids = {h.household_id for h in held}
    rows = {r.id: r for r in _copies(session, select(_HOUSEHOLDS).where(
        _HOUSEHOLDS.c.id.in_(ids)))}
    members: dict[str, list[_Copy]] = {i: [] for i in ids}
    for member in _copies(session, select(_MEMBERS).where(
            _MEMBERS.c.household_id.in_(ids)).order_by(_MEMBERS.c.position)):
        members[member.household_id].append(member)
    identifiers: dict[str, list[_Copy]] = {i: [] for i in ids}
    for identifier in _copies(session, select(_IDS).where(
            _IDS.c.household_id.in_(ids)).order_by(_IDS.c.created_at, _IDS.c.system,
                                                   _IDS.c.value)):
        identifiers[identifier.household_id].append(identifier)
    return {(h.system, h.value): _Household(
        rows[h.household_id], members[h.household_id], identifiers[h.household_id],
        mine=caller.client_id in {rows[h.household_id].client_id, *(
            i.client_id for i in identifiers[h.household_id])}, stored=True) for h in held}


def _copies(session: Session, query: Select[Any]) -> list[_Copy]:
    return [_Copy(**row) for row in session.execute(query).mappings()]


def _at(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), UTC) if day else None
