"""The BSN as the gp-referral adapter reads it from FHIR identifiers (elfproef checked)."""

from __future__ import annotations

INVALID_BSN = "not a valid BSN (9 digits passing the elfproef)"
