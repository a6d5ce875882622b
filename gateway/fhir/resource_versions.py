"""The versions an update replaces, kept for vread and ``_history``.

The current version of a resource stays in its own row, so a create costs what it did. The
service that makes a new version hands the one it replaces to ``keep``, in the same
transaction, so no caller of that service can forget it (Consents need no copy: each
consent_records row is a version). Reading them back is ``gateway.fhir.history``'s."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.platform.db.models import ResourceVersion


def keep(session: Session, replaced: dict[str, Any]) -> None:
    """Store the version an update or delete replaces (a rendered resource with meta)."""
    session.add(ResourceVersion(resource_type=replaced["resourceType"], resource_id=replaced["id"],
                                version_id=int(replaced["meta"]["versionId"]), resource=replaced))


def kept(session: Session, resource_type: str, resource_id: str) -> list[dict[str, Any]]:
    """The stored older versions, newest first."""
    return list(session.scalars(select(ResourceVersion.resource).where(
        ResourceVersion.resource_type == resource_type,
        ResourceVersion.resource_id == resource_id).order_by(ResourceVersion.version_id.desc())))
