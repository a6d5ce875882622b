"""Two requests naming one new person at once, on PostgreSQL (where they really run in
parallel): the second waits on the unique index, then finds the first one's person instead of
failing with a 409 that asks the client to retry."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from gateway.identity.matching import Identified, identify
from gateway.platform.db.models import Person, PersonIdentifier
from schemas import Identifier, PersonClaim, local_system
from tests.conftest import TEMPLATE_DB
from tests.support.postgres import APP as PG_APP
from tests.support.samples import VALID_BSNS

ZCD = local_system("zcd")
pytestmark = pytest.mark.usefixtures("seeded")


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """PostgreSQL only: SQLite lets one writer in at a time, so there is no race to lose."""
    server = request.getfixturevalue("pg_template")
    return server.url(server.create_database("t_", template=TEMPLATE_DB), user=PG_APP)


def _race(sessions: sessionmaker[Session], claim: PersonClaim) -> tuple[Identified, Identified]:
    """The first request writes and holds its transaction open while the second identifies the
    same person (and blocks on the index); then the first commits."""
    first_session, second_session = sessions(), sessions()
    first = identify(first_session, claim, client_id="demo-huisarts", source_ref="test/1")
    answers: list[Identified | BaseException] = []

    def second() -> None:
        try:
            answers.append(identify(second_session, claim, client_id="demo-wijkteam-noord",
                                    source_ref="test/2"))
            second_session.commit()
        except BaseException as error:  # noqa: BLE001 (the assertion below shows it)
            answers.append(error)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive(), "the second request should wait on the first one's row"
    first_session.commit()
    thread.join(timeout=30)
    first_session.close()
    second_session.close()
    assert len(answers) == 1 and isinstance(answers[0], Identified), answers
    return first, answers[0]


def _count(sessions: sessionmaker[Session], query: Callable[[], sa.Select]) -> int:
    with sessions() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(query().subquery()))


def test_one_bsn_registered_twice_at_once_is_one_person(sessions) -> None:  # noqa: ANN001
    first, second = _race(sessions, PersonClaim(bsn=VALID_BSNS[0], local=None))
    assert (first.created, second.created) == (True, False)
    assert second.person.id == first.person.id
    assert _count(sessions, lambda: sa.select(Person).where(Person.bsn == VALID_BSNS[0])) == 1


def test_one_local_id_registered_twice_at_once_is_one_person(sessions) -> None:  # noqa: ANN001
    local = Identifier(system=ZCD, value="Z-race")
    first, second = _race(sessions, PersonClaim(bsn=None, local=local))
    assert (first.created, second.created) == (True, False)
    assert second.person.id == first.person.id
    assert _count(sessions, lambda: sa.select(PersonIdentifier).where(
        PersonIdentifier.value == "Z-race")) == 1
    assert _count(sessions, lambda: sa.select(Person)) == 1
