"""Configuration from the environment (prefix ``WIJKGATEWAY_``).

Every field carries a description: the README's configuration table is generated from them
(``wijkgateway config table``), so the docs cannot drift from the code.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from limits import parse as parse_limit
from platformdirs import user_data_path
from pydantic import AfterValidator, BeforeValidator, Field, IPvAnyNetwork, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

import adapters
from schemas.plan_domains import PRESETS

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me"
DEVELOPMENT_PSEUDONYM_KEY = "development-only-pseudonym-key-change-me"


def _rate_limit(value: str) -> str:
    """A limit in the `limits` package's notation (``100/minute``, ``5/15 minutes``)."""
    try:
        parse_limit(value)
    except ValueError:
        raise ValueError(f"not a rate limit: {value!r} (e.g. 100/minute)") from None
    return value


RateLimit = Annotated[str, AfterValidator(_rate_limit)]


def _base_urls(value: object) -> object:
    """A comma-separated list from the environment; a list as it is."""
    if isinstance(value, str):
        return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
    return value


def _check_base_urls(urls: list[str]) -> list[str]:
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
                or parts.fragment or parts.username:
            raise ValueError(f"not a public base URL: {url!r} (e.g. https://gw.example.nl)")
    return urls


PublicBaseUrls = Annotated[list[str], NoDecode, BeforeValidator(_base_urls),
                           AfterValidator(_check_base_urls)]


def _names(value: object) -> object:
    """A comma-separated list of names from the environment; a list as it is."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _known_adapters(names: list[str]) -> list[str]:
    """Each name must be a package under ``adapters/``: a typo stops start-up."""
    known = adapters.available()
    if unknown := [name for name in names if name not in known]:
        raise ValueError(f"no adapter package for {', '.join(map(repr, unknown))} under "
                         f"adapters/ (known: {', '.join(known)})")
    return list(dict.fromkeys(names))


AdapterNames = Annotated[list[str], NoDecode, BeforeValidator(_names),
                         AfterValidator(_known_adapters)]


def _known_domain_lists(names: list[str]) -> list[str]:
    if unknown := [n for n in names if n not in PRESETS]:
        raise ValueError(f"unknown life-domain lists: {', '.join(unknown)}; known: "
                         f"{', '.join(PRESETS)}")
    return names


DomainListNames = Annotated[list[str], NoDecode, BeforeValidator(_names),
                            AfterValidator(_known_domain_lists)]


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WIJKGATEWAY_", extra="ignore")

    environment: Environment = Field(
        Environment.DEVELOPMENT,
        description="`development`, `test` or `production`. In production, placeholder "
        "secrets are refused, the signing key must exist and webhooks must use https.",
    )
    data_dir: Path = Field(
        default_factory=lambda: user_data_path("wijkgateway"),
        description="Folder of the default SQLite database and keys, the same whatever the "
        "current folder: the platform's user data folder (`~/.local/share/wijkgateway` on "
        "Linux). `wijkgateway config paths` prints what is in use. See docs/configuration.md.",
    )
    database_url: str = Field(
        default_factory=lambda data: f"sqlite:///{data['data_dir'] / 'wijkgateway.db'}",
        description="SQLAlchemy URL. Default: SQLite `wijkgateway.db` in `DATA_DIR`; "
        "`postgresql+psycopg://user:pass@host/db` in production.",
    )
    database_app_role: str | None = Field(
        None, description="PostgreSQL: the role the gateway runs as, which `wijkgateway db "
        "upgrade` (run as the schema owner) grants what it needs, but no UPDATE, DELETE or "
        "TRUNCATE on the processing log. See docs/threat-model.md.",
    )
    forwarded_allow_ips: str = Field(
        "", description="Reverse proxies whose `X-Forwarded-For` names the client (comma-"
        "separated addresses, e.g. `10.0.0.5`). Empty: none is trusted and the peer's own "
        "address counts (for rate limits and console lockouts), so a local process cannot pick "
        "its address.")
    public_base_url: str = Field(
        "http://127.0.0.1:8000",
        description="External base URL: token issuer, audience, and `Location` headers.",
    )
    public_base_urls: PublicBaseUrls = Field(
        [], description="Further public base URLs (comma-separated, e.g. `https://gw.intern."
        "example.nl`): a FHIR request whose scheme, host and port match one gets it in "
        "`Location`, `fullUrl` and Bundle links; any other gets `PUBLIC_BASE_URL`, never an "
        "address taken from the `Host` header. See docs/public-base-urls.md.")
    secret_key: str = Field(
        DEVELOPMENT_SECRET_KEY,
        description="Server secret from which per-client webhook signing secrets are derived. "
        "Must be set (32+ characters) outside development.",
    )
    signing_key_path: Path = Field(
        default_factory=lambda data: data["data_dir"] / "wijkgateway-signing-key.json",
        description="Private JWK (EC P-256) that signs access tokens. Default: "
        "`wijkgateway-signing-key.json` in `DATA_DIR`. Generated on first start in "
        "development; must exist in production.",
    )
    access_token_ttl_seconds: int = Field(
        900, ge=60, le=86400, description="Lifetime of issued access tokens."
    )
    client_cache_seconds: float = Field(
        5.0, ge=0, description="How long a client's status is cached; a revoked client's "
        "tokens stop working within this time."
    )
    adapters: AdapterNames = Field(
        ["gp-referral"], description="The connected systems (comma-separated adapter names, "
        "e.g. `gp-referral,fake`): each is a package under `adapters/`; an unknown name stops "
        "start-up. See docs/adapters.md.")
    plan_domain_lists: DomainListNames = Field(
        ["zrm", "groningen", "youth", "gateway"], description="The life-domain lists a household "
        "plan's goals may name (comma-separated): `zrm` (the Zelfredzaamheid-Matrix), "
        "`groningen` (15 life domains), `youth`, `gateway` (the gateway's own codes). See "
        "docs/household-plan.md.")
    chromium_path: Path = Field(
        Path("/usr/bin/chromium"), description="Chromium, which prints the household plan to "
        "PDF (`GET /plans/{id}/print` asking for `application/pdf`). Without it a PDF is "
        "answered 503 and the HTML is still served. Debian: `apt-get install chromium`. See "
        "docs/household-plan.md.")
    pdf_timeout_seconds: float = Field(
        30.0, gt=0, le=300, description="Longest Chromium may take to print one PDF; beyond "
        "it Chromium is stopped and the answer is 503.")
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest accepted request body (bytes); larger is 413."
    )
    max_json_depth: int = Field(
        48, ge=8, le=512, description="Deepest accepted JSON nesting; deeper is 400."
    )
    require_if_match: bool = Field(
        False, description="Strict updates: a Task PUT/PATCH, Consent PUT or Subscription PUT "
        "without If-Match is 428. Off (the default, as on HAPI FHIR): If-Match is checked "
        "when sent (412 on a stale version) and an update without it applies."
    )
    outbox_max_attempts: int = Field(
        15, ge=1, le=100, description="Delivery attempts before an outbox message is dead "
        "(the default rides out about 4 hours of receiver downtime)."
    )
    outbox_backoff_base_seconds: float = Field(
        2.0, gt=0, description="First retry delay; doubles per attempt (with jitter)."
    )
    outbox_backoff_max_seconds: float = Field(
        3600.0, gt=0, description="Upper bound on one retry delay."
    )
    delivery_timeout_seconds: float = Field(
        10.0, gt=0, description="HTTP timeout for one webhook delivery."
    )
    worker_poll_seconds: float = Field(
        1.0, gt=0, description="How often an idle worker looks for due messages."
    )
    allow_http_webhooks: bool | None = Field(
        None,
        description="Accept `http://` webhook endpoints. Default: yes, except in production.",
    )
    webhook_allowed_networks: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Internal networks webhooks may reach outside development (JSON list of "
        "CIDRs, e.g. `[\"10.20.0.0/16\"]`) for on-premise receivers; otherwise endpoints must "
        "resolve to public addresses. See docs/webhooks.md.",
    )
    processing_activities_path: Path | None = Field(
        None, description="YAML register of processing activities; the packaged Dutch default "
        "set when unset. Checked at start-up."
    )
    pseudonym_key: str = Field(
        DEVELOPMENT_PSEUDONYM_KEY,
        description="Key of the HMAC that pseudonymises data subjects in the processing log. "
        "Must be set (32+ characters) outside development; see the README on rotation.",
    )
    pseudonym_previous_keys: list[str] = Field(
        default_factory=list,
        description="Earlier pseudonym keys (JSON list), so searches still find entries made "
        "before a rotation.",
    )
    audit_checkpoint_every: int = Field(
        1000, ge=1, description="Entries between periodic processing-log checkpoints.")
    audit_signing_key_path: Path | None = Field(
        None, description="Ed25519 signer key (signed-note format) that signs the processing "
        "log's checkpoints; keep it outside the database. Default: `wijkgateway-audit-key` next "
        "to the token signing key. Generated on first use in development; must exist in "
        "production. See docs/threat-model.md.")
    audit_origin: str | None = Field(
        None, description="The processing log's checkpoint origin line (a schema-less URL). "
        "Default: the host and path of the public base URL followed by `/processing-log`.")
    audit_previous_verifier_keys: list[str] = Field(
        default_factory=list, description="Verifier keys (JSON list) of earlier checkpoint "
        "keys, so checkpoints signed before a rotation still verify.")
    console_session_idle_minutes: int = Field(
        480, ge=5, le=1440, description="A console session ends after this long without a "
        "page view (OWASP ASVS V7.3.1).")
    console_session_lifetime_hours: float = Field(
        12, gt=0, le=24, description="A console session ends this long after login, however "
        "active (OWASP ASVS V7.3.2).")
    console_login_attempts: RateLimit = Field(
        "5/15 minutes", description="Password checks per console account and client address "
        "(`limits` notation); beyond it, logins from that address are refused unchecked (429 "
        "with Retry-After) until the window ends. A successful login resets the count.")
    rate_limit_token_per_client: RateLimit = Field(
        "600/minute", description="Tokens one authenticated client may obtain at "
        "`/oauth/token` (`limits` notation, e.g. `600/minute`); beyond it, 429.")
    rate_limit_token_per_address: RateLimit = Field(
        "1200/minute", description="Requests to `/oauth/token` from one client address, "
        "failed ones included; beyond it, 429.")
    rate_limit_api_per_client: RateLimit = Field(
        "60000/minute", description="API requests per client (by its valid bearer token); "
        "beyond it, 429 with Retry-After and an OperationOutcome.")
    rate_limit_api_per_address: RateLimit = Field(
        "60000/minute", description="API requests per client address (health checks, "
        "metrics and the console excepted); beyond it, 429.")
    log_level: str = Field("INFO", description="Minimum log level.")
    log_json: bool = Field(True, description="JSON log lines (set false for console output).")

    @model_validator(mode="after")
    def _refuse_placeholders_outside_development(self) -> Settings:
        """The built-in keys are public (they are in this file): anywhere but development they
        would let anyone recompute webhook secrets and pseudonyms."""
        if self.environment is not Environment.DEVELOPMENT:
            for name, value, placeholder in (
                    ("SECRET_KEY", self.secret_key, DEVELOPMENT_SECRET_KEY),
                    ("PSEUDONYM_KEY", self.pseudonym_key, DEVELOPMENT_PSEUDONYM_KEY)):
                if value == placeholder or len(value) < 32:
                    raise ValueError(f"WIJKGATEWAY_{name} must be set to a random value of 32+ "
                                     f"characters outside development "
                                     f"(environment: {self.environment.value})")
        return self

    @property
    def webhooks_may_use_http(self) -> bool:
        if self.allow_http_webhooks is not None:
            return self.allow_http_webhooks
        return self.environment is not Environment.PRODUCTION

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` and pass them in."""
    return Settings()
