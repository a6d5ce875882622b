"""The life domains a plan's goals may name: lists with presets, each code filed under one of
the gateway's canonical life domains (``schemas.LifeDomain``), whose register category decides
who may see the goal (debt is finances, upbringing parenting).

- ``zrm``: the Zelfredzaamheid-Matrix's domains, the Rotterdam adult unit's instrument;
- ``groningen``: the 15 life domains Groningen's teams talk about with a household (the seed
  names the number, not the list: the ZRM's 13 plus upbringing and school, our reading);
- ``youth``: the youth unit's list (growing up, upbringing, school, safety at home, ...);
- ``gateway``: the canonical codes themselves, for systems that map their own.

``WIJKGATEWAY_PLAN_DOMAIN_LISTS`` picks the lists a deployment accepts (all by default)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from schemas.messages import LifeDomain

LIST_SYSTEM = "https://wijkgateway.nl/fhir/CodeSystem/life-domain-"


@dataclass(frozen=True)
class Domain:
    """One code of one list, and the canonical life domain it is filed under."""

    system: str
    code: str
    display: str
    life_domain: LifeDomain


def _list(name: str, entries: dict[str, tuple[str, LifeDomain]]) -> tuple[Domain, ...]:
    return tuple(Domain(LIST_SYSTEM + name, code, display, domain)
                 for code, (display, domain) in entries.items())


_ZRM: dict[str, tuple[str, LifeDomain]] = {
    "financien": ("Financiën", "finances"),
    "werk-en-opleiding": ("Werk en opleiding", "work-and-education"),
    "tijdsbesteding": ("Tijdsbesteding", "daily-activities"),
    "huisvesting": ("Huisvesting", "housing"),
    "huiselijke-relaties": ("Huiselijke relaties", "domestic-relations"),
    "geestelijke-gezondheid": ("Geestelijke gezondheid", "mental-health"),
    "lichamelijke-gezondheid": ("Lichamelijke gezondheid", "physical-health"),
    "middelengebruik": ("Middelengebruik", "addiction"),
    "basale-adl": ("Basale ADL", "daily-living"),
    "instrumentele-adl": ("Instrumentele ADL", "daily-living"),
    "sociaal-netwerk": ("Sociaal netwerk", "social-network"),
    "maatschappelijke-participatie": ("Maatschappelijke participatie", "participation"),
    "justitie": ("Justitie", "justice"),
}
_GRONINGEN = {**_ZRM, "opvoeding": ("Opvoeding", "parenting"),
              "school": ("School en ontwikkeling", "education")}
_YOUTH: dict[str, tuple[str, LifeDomain]] = {
    "opvoeding": ("Opvoeding en ontwikkeling", "parenting"),
    "school": ("School en dagbesteding", "education"),
    "veiligheid": ("Veiligheid thuis", "safety"),
    "gezondheid": ("Gezondheid", "physical-health"),
    "psychisch-welzijn": ("Psychisch welzijn", "mental-health"),
    "gezinsrelaties": ("Gezinsrelaties", "domestic-relations"),
    "vrije-tijd": ("Vrije tijd en vrienden", "social-network"),
    "middelengebruik": ("Middelengebruik", "addiction"),
    "justitie": ("Politie en justitie", "justice"),
}
# The gateway's own codes in plain Dutch, as a printed plan shows them.
_GATEWAY: dict[LifeDomain, str] = {
    "parenting": "Opvoeding", "mental-health": "Geestelijke gezondheid",
    "physical-health": "Lichamelijke gezondheid", "housing": "Huisvesting",
    "intellectual-disability": "Verstandelijke beperking", "finances": "Financiën",
    "justice": "Justitie", "domestic-relations": "Huiselijke relaties",
    "social-network": "Sociaal netwerk", "participation": "Meedoen in de samenleving",
    "education": "School en ontwikkeling", "addiction": "Middelengebruik",
    "safety": "Veiligheid", "work-and-education": "Werk en opleiding",
    "daily-activities": "Dagbesteding", "daily-living": "Dagelijks leven (ADL)",
}
PRESETS: dict[str, tuple[Domain, ...]] = {
    "zrm": _list("zrm", _ZRM),
    "groningen": _list("groningen", _GRONINGEN),
    "youth": _list("youth", _YOUTH),
    "gateway": tuple(Domain("https://wijkgateway.nl/fhir/CodeSystem/life-domain", code,
                            _GATEWAY[code], code) for code in get_args(LifeDomain)),
}


class DomainLists:
    """The codes a deployment accepts, by (system, code)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        if unknown := sorted(set(names) - PRESETS.keys()):
            raise ValueError(f"unknown life-domain lists {', '.join(unknown)}; known: "
                             f"{', '.join(PRESETS)}")
        self.names = names
        self._by_code = {(d.system, d.code): d for name in names for d in PRESETS[name]}

    def find(self, system: str | None, code: str | None) -> Domain | None:
        return self._by_code.get((system or "", code or ""))

    def life_domain(self, system: str, code: str) -> LifeDomain:
        """The canonical domain of a code known to be in these lists (a stored goal's)."""
        return self._by_code[(system, code)].life_domain

    def systems(self) -> list[str]:
        return sorted({system for system, _ in self._by_code})
