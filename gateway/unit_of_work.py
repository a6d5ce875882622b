"""Commit each request's transaction in the same worker thread as the handler's work.

FastAPI runs a sync handler in one worker thread and a yield-dependency's exit in another, with
an event-loop round trip between them. Committing in the exit would hold the transaction (on
SQLite: the database write lock) across that round trip, so every other request waits for the
loop. This route class commits right after the handler returns, in the handler's thread; the
session dependency then only rolls back on error. Still one transaction per request.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy.orm import Session


def commit_after(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    if asyncio.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    def handler(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        for value in kwargs.values():
            if isinstance(value, Session):
                value.commit()
        return result

    return handler


class UnitOfWorkRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, commit_after(endpoint), **kwargs)
