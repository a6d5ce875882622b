"""What the adult records receive beyond referrals (``schema/uitgaand.schema.json``): another
unit's trajectory (an ``EpisodeOfCare``) as ``traject``, and the household's plan (a
``CarePlan``) as ``plan``; life domains in the system's own codes, and the youth unit's
domains the system has no code of its own for in the youth dossier's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.base import organization_name
from adapters.menscentraal.parse import DOMAINS
from adapters.plan_notice import PlanNotice

DOMEIN = {domain: code for code, domain in DOMAINS.items()} | {
    "parenting": "opvoeding", "education": "onderwijs",
    "intellectual-disability": "verstandelijke-beperking", "safety": "veiligheid"}


def render_trajectory(trajectory_id: str, content: Mapping[str, Any]) -> dict[str, Any]:
    patient = content.get("patient") or {}
    period = content.get("period") or {}
    bsn = (patient.get("identifier") or {}).get("value")
    client = {"persoonId": str(patient.get("reference", "")).removeprefix("Patient/"),
              **({"bsn": str(bsn)} if bsn else {})}
    domains = [coding.get("code") for concept in content.get("type") or ()
               for coding in concept.get("coding") or ()]
    return {"trajectId": trajectory_id,
            "status": "open" if content.get("status") == "active" else "gesloten",
            "client": client,
            "organisatie": organization_name(content.get("managingOrganization") or {}),
            "domeinen": [DOMEIN.get(str(domain), "") for domain in domains],
            "start": str(period.get("start", "")),
            **({"einde": str(period["end"])} if "end" in period else {})}


PLAN_STATUS = {"draft": "concept", "active": "actief", "completed": "afgerond",
               "revoked": "ingetrokken"}


def render_plan(plan: PlanNotice) -> dict[str, Any]:
    """The household's plan as the adult records' ``plan``: life domains in the system's own
    codes, persons by the gateway's id."""
    return {
        "planId": plan.id, "versie": int(plan.version), "status": PLAN_STATUS[plan.status],
        "huishoudenId": plan.household, "onvolledig": plan.incomplete,
        "doelen": [{"doelId": g.id, "domein": DOMEIN[g.life_domain],
                    "omschrijving": g.description,
                    **({"persoonId": g.member} if g.member else {}), "status": g.status,
                    **({"start": g.start} if g.start else {}),
                    **({"verplichtVan": g.mandatory} if g.mandatory else {}),
                    **({"herbeoordelen": True} if g.review_due else {})} for g in plan.goals],
        "acties": [{"actieId": a.id, "doelId": a.goal, "persoonId": a.member,
                    "uitvoerder": a.organization, "omschrijving": a.description,
                    "status": a.status, **({"uiterlijk": a.due} if a.due else {})}
                   for a in plan.actions],
        "scores": [{"scoreId": s.id, "doelId": s.goal,
                    "soort": "start" if s.kind == "start" else "nu", "waarde": s.value,
                    "datum": s.at} for s in plan.scores],
        "rollen": [{"rol": r.role, **({"persoonId": r.member} if r.member
                                      else {"partij": r.party or ""})} for r in plan.roles],
    }
