"""Consent records stored, exchanged as FHIR Consent, and asked for decisions."""
