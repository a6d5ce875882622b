"""An adapter message is known by its id and what it says (gateway.pipeline.inbound_ids):
sent again, alone or in a bundle, written otherwise, it is a replay; another message under
its id is refused; and the digests older gateways stored still match what they were of."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from adapters import get_adapter
from gateway.pipeline import idempotency
from gateway.platform.db.models import InboundMessage
from tests.adapters.test_zcd import xml
from tests.conftest import row_counts
from tests.gateway.test_issue13_attacks import HULPVRAAG_M1, _bundel
from tests.support.units import Units, client_message

OTHER_M1 = HULPVRAAG_M1.replace("hv-1", "hv-2")
SIGNAAL_M2 = HULPVRAAG_M1.replace("m-1", "m-2").replace("hv-1", "hv-3")


def _zcd(client: TestClient, units: Units, body: str) -> Any:
    return client.post("/adapters/zcd/messages", content=xml(body),
                       headers={**units.youth, "Content-Type": "application/xml"})


def _adults(client: TestClient, units: Units, body: str) -> Any:
    return client.post("/adapters/menscentraal/messages", content=body,
                       headers={**units.adults, "Content-Type": "application/json"})


class TestOneMessageHoweverItComes:
    def test_a_bundles_member_sent_again_alone_is_a_replay(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
        bundled = _zcd(client, units, _bundel([HULPVRAAG_M1]))
        assert bundled.status_code == 201, bundled.text
        before = row_counts(sessions)
        alone = _zcd(client, units, HULPVRAAG_M1)
        assert (alone.status_code, alone.json()) == (200, bundled.json()["messages"][0])
        assert row_counts(sessions) == before

    def test_the_same_xml_written_otherwise_is_a_replay(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
        """Another prefix for the namespace, white space between elements."""
        first = _zcd(client, units, HULPVRAAG_M1)
        before = row_counts(sessions)
        written = HULPVRAAG_M1.replace("<zcd:", "<j:").replace("</zcd:", "</j:") \
            .replace("xmlns:zcd=", "xmlns:j=").replace("><", ">\n  <")
        again = _zcd(client, units, written)
        assert (again.status_code, again.json()) == (200, first.json())
        assert row_counts(sessions) == before

    def test_the_same_json_written_otherwise_is_a_replay(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
        message = client_message("a-1")
        first = _adults(client, units, json.dumps(message))
        before = row_counts(sessions)
        again = _adults(client, units, json.dumps(dict(reversed(message.items())), indent=4))
        assert (again.status_code, again.json()) == (200, first.json())
        assert row_counts(sessions) == before

    def test_another_message_under_a_sent_id_takes_its_bundle_down(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
        assert _zcd(client, units, HULPVRAAG_M1).status_code == 201
        before = row_counts(sessions)
        refused = _zcd(client, units, _bundel([SIGNAAL_M2, OTHER_M1]))
        assert refused.status_code == 422, refused.text
        assert refused.json()["issue"][0]["diagnostics"] == \
            "message m-1: this message id was used for a different message"
        assert row_counts(sessions) == before

    def test_a_bundle_sent_again_with_other_members_is_refused(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
        assert _zcd(client, units, _bundel([HULPVRAAG_M1])).status_code == 201
        before = row_counts(sessions)
        assert _zcd(client, units, _bundel([HULPVRAAG_M1, SIGNAAL_M2])).status_code == 422
        assert row_counts(sessions) == before


def _stored_as_before(sessions: sessionmaker[Session], message_id: str, digest: str) -> None:
    """The digest a gateway up to 0.1.0 stored for the message."""
    with sessions.begin() as session:
        session.execute(update(InboundMessage).where(InboundMessage.message_id == message_id)
                        .values(request_hash=digest))


class TestDigestsStoredBefore:
    """0.1.0 digested a message sent alone by its body and a bundle's member by its repr."""

    def test_a_message_sent_alone_is_answered_as_then(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
        first = _zcd(client, units, HULPVRAAG_M1)
        _stored_as_before(sessions, "m-1", idempotency.body_digest(xml(HULPVRAAG_M1)))
        again = _zcd(client, units, HULPVRAAG_M1)
        assert (again.status_code, again.json()) == (200, first.json())
        assert _zcd(client, units, OTHER_M1).status_code == 422

    def test_a_json_message_is_answered_as_then_whatever_its_key_order(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
        message = client_message("a-1")
        first = _adults(client, units, json.dumps(message))
        _stored_as_before(sessions, "a-1", idempotency.body_digest(json.dumps(message).encode()))
        again = _adults(client, units, json.dumps(dict(reversed(message.items()))))
        assert (again.status_code, again.json()) == (200, first.json())

    def test_a_bundles_member_is_answered_as_then_alone_or_in_a_bundle(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
        bundle = _bundel([HULPVRAAG_M1])
        first = _zcd(client, units, bundle).json()
        adapter = get_adapter("zcd")
        member = adapter.parse(adapter.decode(xml(HULPVRAAG_M1)))
        _stored_as_before(sessions, "m-1", idempotency.body_digest(repr(member).encode()))
        _stored_as_before(sessions, "b-1", idempotency.body_digest(xml(bundle)))
        before = row_counts(sessions)
        assert [(a.status_code, a.json()) for a in (
            _zcd(client, units, bundle), _zcd(client, units, HULPVRAAG_M1),
            _zcd(client, units, _bundel([HULPVRAAG_M1], bundle_id="b-2")))] == [
            (200, first), (200, first["messages"][0]),
            (201, {**first, "message": "b-2"})]
        assert row_counts(sessions) == {**before, "inbound_messages":
                                        before["inbound_messages"] + 1}
