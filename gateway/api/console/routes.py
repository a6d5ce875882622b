"""``/console``: the privacy officers' console, kept out of the API's OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.console import login, pages

router = APIRouter(tags=["console"], include_in_schema=False)
router.include_router(login.router)
router.include_router(pages.router)
