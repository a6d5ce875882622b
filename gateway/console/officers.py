"""Privacy officers' console accounts: scrypt password hashes, checked in constant time.

A hash is stored as ``scrypt$n$r$p$salt$hash`` (salt and hash in base64), so the cost can be
raised later without breaking existing accounts. An unknown or disabled username costs the same
scrypt run as a wrong password, so response times do not reveal which usernames exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.platform.db.models import Officer
from gateway.platform.db.types import utcnow

ROLE_PRIVACY_OFFICER = "privacy_officer"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES, HASH_BYTES = 16, 32
MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH = 12, 1024
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_ROLE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


class OfficerError(ValueError):
    """An account that cannot be created or changed as asked."""


def is_username(value: str) -> bool:
    """Lower-case letters, digits, ``.``, ``_`` and ``-``; 2 to 64 characters."""
    return bool(_USERNAME.match(value))


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(("scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()))


def verify_password(password: str, stored: str) -> bool:
    """Constant-time comparison; a malformed stored hash never matches."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = _scrypt(password, base64.b64decode(salt, validate=True), int(n), int(r),
                         int(p))
        return hmac.compare_digest(digest, base64.b64decode(expected, validate=True))
    except ValueError:  # wrong field count, bad base64 or numbers, or scrypt refusing them
        return False


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024,
                          dklen=HASH_BYTES)


@cache
def _decoy_hash() -> str:
    """Checked against when there is no usable account, to spend the same time."""
    return hash_password(secrets.token_urlsafe(16))


def add_officer(session: Session, username: str, password: str,
                role: str = ROLE_PRIVACY_OFFICER) -> Officer:
    if not is_username(username):
        raise OfficerError("username: 2 to 64 lower-case letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit")
    if not _ROLE.match(role):
        raise OfficerError("role: lower-case letters, digits and '_', e.g. privacy_officer")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise OfficerError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if find_officer(session, username) is not None:
        raise OfficerError(f"officer {username!r} exists")
    officer = Officer(username=username, password_hash=hash_password(password), role=role)
    session.add(officer)
    session.flush()
    return officer


def find_officer(session: Session, username: str) -> Officer | None:
    return session.scalar(select(Officer).where(Officer.username == username))


def password_accepted(officer: Officer | None, password: str) -> bool:
    """The password of an active account; the same scrypt work when there is none."""
    if officer is None or officer.disabled_at is not None or \
            len(password) > MAX_PASSWORD_LENGTH:
        verify_password(password[:MAX_PASSWORD_LENGTH], _decoy_hash())
        return False
    return verify_password(password, officer.password_hash)


def authenticate(session: Session, username: str, password: str) -> Officer | None:
    officer = find_officer(session, username) if is_username(username) else None
    return officer if password_accepted(officer, password) else None


def list_officers(session: Session) -> list[Officer]:
    return list(session.scalars(select(Officer).order_by(Officer.username)))


def disable_officer(session: Session, username: str) -> Officer:
    """Disabled accounts cannot log in, and their open console sessions end at the next page."""
    officer = find_officer(session, username)
    if officer is None:
        raise OfficerError(f"no officer {username!r}")
    if officer.disabled_at is None:
        officer.disabled_at = utcnow()
        session.flush()
    return officer
