"""``consent explain``: decide as the gateway would, and say why."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from gateway.cli._common import fail, sessions, settings

app = typer.Typer(help="Consent decisions.", no_args_is_help=True)
PATIENT_PREFIX = "Patient/"


@app.command("explain")
def consent_explain(
    activity: Annotated[str, typer.Option(help="Processing activity id, e.g. casusoverleg.")],
    patient: Annotated[str, typer.Option(help="'Patient/{id}' or the person's BSN.")],
    recipient: Annotated[list[str], typer.Option(
        help="organisation:role, e.g. wijkteam-noord:wijkteam; repeat for more.")],
    category: Annotated[list[str] | None, typer.Option(
        help="Data category; repeat for more (default: all of the activity).")] = None,
    at: Annotated[datetime | None, typer.Option(
        help="Decide as at this time (ISO 8601, UTC if no zone; default now).")] = None,
) -> None:
    """Decide as the gateway would, and say why: one line per recipient, then the JSON."""
    from consent import DecisionError, Recipient
    from gateway.audit.log import CONTEXT
    from gateway.consents.decisions import decide_for, decision_json
    from gateway.identity.repository import known_person
    from gateway.platform.errors import GatewayError
    from schemas import is_valid_bsn

    if not patient.startswith(PATIENT_PREFIX) and not is_valid_bsn(patient):
        fail("--patient: not a valid BSN (9 digits passing the elfproef); give a BSN or "
             "'Patient/{id}'")  # the value itself is not echoed: it may be personal data
    recipients = []
    for value in recipient:
        organization, sep, role = value.partition(":")
        if not sep or not organization or not role:
            fail(f"--recipient takes organisation:role, not {value[:40]!r}")
        recipients.append(Recipient(organization, role))
    with sessions(settings())() as session:
        try:
            person = known_person(session, patient)
            decision = decide_for(
                session, session.info[CONTEXT].register, activity, person.id,
                tuple(recipients),
                at=at.replace(tzinfo=at.tzinfo or UTC) if at else None,
                categories=frozenset(category) if category else None)
        except (GatewayError, DecisionError) as error:
            fail(str(error))
    for line in decision.recipients:
        typer.echo(line.explanation)
    typer.echo(json.dumps(decision_json(decision), indent=2))
