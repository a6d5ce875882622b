"""Households (FHIR Group) with their members' roles and periods, and who speaks for whom:
the legal representations the consent engine asks (docs/households.md)."""
