"""Code systems a FHIR Consent uses at the gateway: which activity (purpose), which data
categories, which recipient role, and which relationships may consent for a minor."""

from __future__ import annotations

BASE = "https://wijkgateway.nl/fhir"
ACTIVITY_SYSTEM = f"{BASE}/CodeSystem/processing-activity"  # codes: the register's activity ids
CATEGORY_SYSTEM = f"{BASE}/CodeSystem/data-category"  # codes: the register's data categories
ROLE_SYSTEM = f"{BASE}/NamingSystem/recipient-role"  # every organisation in a role
RECORDED_BY_EXTENSION = f"{BASE}/StructureDefinition/recorded-by"  # valueIdentifier: a worker
ROLE_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
# Parents (PRN, MTH, FTH) and guardians (GUARD) hold authority (gezag) over a minor.
REPRESENTATIVE_CODES = frozenset({"PRN", "MTH", "FTH", "GUARD"})
CONSENT_SCOPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                             "code": "patient-privacy"}]}
CONSENT_CATEGORY = [{"coding": [{"system": "http://loinc.org", "code": "59284-0",
                                 "display": "Patient Consent"}]}]
RECIPIENT_ACTOR_ROLE = {"coding": [{
    "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP",
    "display": "information recipient"}]}
