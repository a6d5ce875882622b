"""Consent and AVG purpose engine: a pure policy core (no I/O)."""

from consent.register import ProcessingActivity, Register, RegisterError, parse_register

__all__ = ["ProcessingActivity", "Register", "RegisterError", "parse_register"]
