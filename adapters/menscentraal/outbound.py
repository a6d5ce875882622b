"""A trajectory of another unit (an ``EpisodeOfCare``) as the adult records' ``traject``
notice (``schema/uitgaand.schema.json``): its life domains in the system's own codes, and
the youth unit's domains the system has no code of its own for in the youth dossier's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.base import organization_name
from adapters.menscentraal.parse import DOMAINS

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
