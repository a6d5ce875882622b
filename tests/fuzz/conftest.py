"""The fuzz tests' app: rate limits out of the way, so a 429 never hides what the generated
requests reach."""

from __future__ import annotations

import pytest

from gateway.platform.settings import Settings

UNLIMITED = "1000000/minute"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={
        "rate_limit_api_per_client": UNLIMITED, "rate_limit_api_per_address": UNLIMITED,
        "rate_limit_token_per_client": UNLIMITED, "rate_limit_token_per_address": UNLIMITED})
