"""Rate limits on the API and the token endpoint, counted in the gateway's own database: per
client, per address, Retry-After, the answers' shapes, two app instances sharing one count,
and the storage's atomic increments. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.api.ratelimit.limiter import RateLimits
from gateway.api.ratelimit.storage import SqlStorage, stored_key
from gateway.app import create_app
from gateway.cli.demo_data import demo_secret
from gateway.platform.db.engine import DatabaseBusy, make_engine
from gateway.platform.settings import Settings
from tests.conftest import bearer

GP, TEAM = "demo-huisarts", "demo-wijkteam-noord"
NOW = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
TOKEN_FORM = {"grant_type": "client_credentials"}
THROTTLED = {"resourceType": "OperationOutcome", "issue": [{
    "severity": "error", "code": "throttled",
    "diagnostics": "too many requests; retry after the number of seconds in Retry-After"}]}
TOKEN_THROTTLED = {"error": "temporarily_unavailable", "error_description":
                   "too many token requests; retry after the number of seconds in Retry-After"}


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _app(settings: Settings, **limits: str) -> FastAPI:
    return create_app(settings.model_copy(update=limits), configure_logs=False)


def _token(client: TestClient, client_id: str) -> None:
    """A client-credentials token: as many as the token limits allow."""
    response = client.post("/oauth/token", data=TOKEN_FORM,
                           auth=(client_id, demo_secret(client_id)))
    assert response.status_code == 200, response.text


def _statuses(client: TestClient, headers: dict[str, str], times: int) -> list[int]:
    return [client.get("/fhir/Task", headers=headers).status_code for _ in range(times)]


def _assert_throttled(client: TestClient, headers: dict[str, str], retry_after: str) -> None:
    response = client.get("/fhir/Task", headers=headers)
    assert (response.status_code, response.headers["retry-after"]) == (429, retry_after)
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.json() == THROTTLED


@pytest.mark.usefixtures("seeded", "frozen")
class TestApi:
    def test_each_client_has_its_own_count(self, settings: Settings) -> None:
        with TestClient(_app(settings, rate_limit_api_per_client="3/minute")) as client:
            gp, team = bearer(client, GP), bearer(client, TEAM)
            assert _statuses(client, gp, 3) == [200, 200, 200]
            _assert_throttled(client, gp, "60")
            assert _statuses(client, team, 3) == [200, 200, 200]
            with time_machine.travel(NOW.replace(second=45), tick=False):
                _assert_throttled(client, gp, "15")
            with time_machine.travel(NOW.replace(minute=1), tick=False):
                assert _statuses(client, gp, 1) == [200]  # a new window

    def test_each_address_has_its_own_count_whatever_the_client(self,
                                                                settings: Settings) -> None:
        app = _app(settings, rate_limit_api_per_address="4/minute")
        with TestClient(app) as client, \
                TestClient(app, client=("192.0.2.7", 50000)) as elsewhere:
            gp, team = bearer(client, GP), bearer(client, TEAM)
            assert _statuses(client, gp, 2) + _statuses(client, team, 2) == [200] * 4
            _assert_throttled(client, team, "60")
            assert client.get("/healthz").status_code == 200  # probes are not counted
            assert _statuses(elsewhere, gp, 4) == [200] * 4

    def test_counters_out_of_reach_answer_503_not_500(self, settings: Settings,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
        with TestClient(_app(settings)) as client:
            gp = bearer(client, GP)

            def busy(*_hits: object) -> None:
                raise DatabaseBusy("locked")

            monkeypatch.setattr(RateLimits, "hit_all", busy)
            response = client.get("/fhir/Task", headers=gp)
        assert (response.status_code, response.headers["retry-after"]) == (503, "1")
        assert response.json()["issue"][0]["code"] == "transient"

    def test_a_forged_token_counts_against_its_address_only(self, settings: Settings) -> None:
        app = _app(settings, rate_limit_api_per_client="2/minute",
                   rate_limit_api_per_address="1000/minute")
        with TestClient(app) as client:
            gp = bearer(client, GP)
            forged = {"Authorization": "Bearer eyJhbGciOiJFUzI1NiJ9.e30.AAAA"}
            assert _statuses(client, forged, 3) == [401, 401, 401]
            assert _statuses(client, gp, 2) == [200, 200]

    def test_two_app_instances_on_one_database_share_the_count(self,
                                                               settings: Settings) -> None:
        limited = {"rate_limit_api_per_client": "3/minute"}
        with TestClient(_app(settings, **limited)) as first, \
                TestClient(_app(settings, **limited)) as second:
            gp = bearer(first, GP)
            assert _statuses(first, gp, 2) + _statuses(second, gp, 1) == [200] * 3
            _assert_throttled(second, gp, "60")
            _assert_throttled(first, gp, "60")


@pytest.mark.usefixtures("seeded", "frozen")
class TestTokenEndpoint:
    def test_each_address_has_its_own_count_failures_included(self,
                                                               settings: Settings) -> None:
        app = _app(settings, rate_limit_token_per_address="2/minute")
        with TestClient(app) as client, \
                TestClient(app, client=("192.0.2.7", 50000)) as elsewhere:
            wrong = client.post("/oauth/token", data=TOKEN_FORM, auth=(GP, "wrong"))
            assert wrong.status_code == 401
            _token(client, TEAM)
            refused = client.post("/oauth/token", data=TOKEN_FORM,
                                  auth=(GP, demo_secret(GP)))
            assert (refused.status_code, refused.json()) == (429, TOKEN_THROTTLED)
            assert (refused.headers["retry-after"], refused.headers["cache-control"]) == (
                "60", "no-store")
            _token(elsewhere, GP)

    def test_each_client_has_its_own_count_and_strangers_cannot_use_it_up(
            self, settings: Settings) -> None:
        app = _app(settings, rate_limit_token_per_client="2/minute")
        with TestClient(app) as client, \
                TestClient(app, client=("192.0.2.7", 50000)) as stranger:
            for _ in range(5):  # failed attempts naming the client do not count for it
                assert stranger.post("/oauth/token", data=TOKEN_FORM,
                                     auth=(GP, "guess")).status_code == 401
            _token(client, GP)
            _token(client, GP)
            refused = client.post("/oauth/token", data=TOKEN_FORM, auth=(GP, demo_secret(GP)))
            assert (refused.status_code, refused.headers["retry-after"], refused.json()) == (
                429, "60", TOKEN_THROTTLED)
            _token(client, TEAM)

    def test_two_app_instances_on_one_database_share_the_count(self,
                                                               settings: Settings) -> None:
        limited = {"rate_limit_token_per_address": "2/minute"}
        with TestClient(_app(settings, **limited)) as first, \
                TestClient(_app(settings, **limited)) as second:
            _token(first, GP)
            _token(second, GP)
            assert second.post("/oauth/token", data=TOKEN_FORM,
                               auth=(GP, demo_secret(GP))).status_code == 429
            assert first.post("/oauth/token", data=TOKEN_FORM,
                              auth=(GP, demo_secret(GP))).status_code == 429


@pytest.mark.parametrize("text", ["lots", "5 per fortnight", ""])
def test_a_limit_that_cannot_be_parsed_is_refused_at_start(text: str) -> None:
    with pytest.raises(ValueError, match="not a rate limit"):
        Settings(rate_limit_api_per_client=text)


class TestStorage:
    @pytest.fixture
    def storage(self, settings: Settings) -> Iterator[SqlStorage]:
        engine = make_engine(settings.database_url)
        yield SqlStorage(engine)
        engine.dispose()

    def test_parallel_increments_are_each_counted_once(self, storage: SqlStorage) -> None:
        with ThreadPoolExecutor(8) as pool:
            counts = list(pool.map(lambda _: storage.incr("k", 60), range(200)))
        assert sorted(counts) == list(range(1, 201))
        assert storage.get("k") == 200

    def test_a_counter_restarts_when_its_window_has_passed(self, storage: SqlStorage) -> None:
        with time_machine.travel(NOW, tick=False):
            assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
            assert storage.get_expiry("k") == NOW.timestamp() + 60
        with time_machine.travel(NOW.replace(minute=1), tick=False):
            assert storage.get("k") == 0
            assert storage.incr("k", 60, amount=2) == 2
            assert storage.get_expiry("k") == NOW.timestamp() + 120
        storage.clear("k")
        assert (storage.get("k"), storage.check()) == (0, True)

    def test_overlong_keys_are_stored_as_digests(self, storage: SqlStorage) -> None:
        key = "x" * 300
        assert stored_key(key).startswith("sha256:") and len(stored_key(key)) == 71
        assert [storage.incr(key, 60), storage.incr(key, 60)] == [1, 2]
