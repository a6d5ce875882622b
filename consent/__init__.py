"""Consent and AVG purpose engine (pure policy core). Built in its own issue; empty until then."""

__all__: list[str] = []
