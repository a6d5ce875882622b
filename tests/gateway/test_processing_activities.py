"""The register is published, and a broken one stops start-up with a clear message."""

from __future__ import annotations

from importlib.resources import files

import pytest
import yaml
from fastapi.testclient import TestClient

from consent import RegisterError
from gateway.app import create_app
from gateway.platform.settings import Settings


def test_register_is_published(client: TestClient) -> None:
    body = client.get("/processing-activities").json()
    assert body["version"] == "2026.12.1"
    assert "ServiceRequest.reasonCode" in body["categories"]["health"]
    assert body["envelope"] == sorted(body["envelope"])  # stable output, not set order
    referral = next(a for a in body["activities"] if a["id"] == "gp-referral-to-wijkteam")
    assert (referral["legal_basis"], referral["health_ground"]) == ("6.1.e", "9.2.h")
    assert sorted(referral["data_categories"]) == ["contact", "health", "identification",
                                                   "social-situation"]


@pytest.mark.parametrize("content,message", [
    ("activities: [unclosed", "not valid YAML"),
    ("version: '1'\nactivities: []\n", "activities"),
])
def test_broken_register_stops_start_up(content: str, message: str, settings: Settings,
                                        tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "register.yaml"
    path.write_text(content)
    broken = settings.model_copy(update={"processing_activities_path": path})
    with pytest.raises(RegisterError, match=message), TestClient(create_app(broken,
                                                                            configure_logs=False)):
        pass


def test_register_without_the_flows_activities_stops_start_up(settings: Settings,
                                                             tmp_path) -> None:  # noqa: ANN001
    document = yaml.safe_load((files("consent") / "processing_activities.yaml").read_text())
    document["activities"] = [a for a in document["activities"]
                              if a["id"] != "referrer-feedback"]
    path = tmp_path / "register.yaml"
    path.write_text(yaml.safe_dump(document))
    partial = settings.model_copy(update={"processing_activities_path": path})
    with pytest.raises(RegisterError, match="lacks the activities .*: referrer-feedback"), \
            TestClient(create_app(partial, configure_logs=False)):
        pass


def test_register_without_a_life_domain_stops_start_up(settings: Settings,
                                                      tmp_path) -> None:  # noqa: ANN001
    document = yaml.safe_load((files("consent") / "processing_activities.yaml").read_text())
    del document["life_domains"]["parenting"]
    path = tmp_path / "register.yaml"
    path.write_text(yaml.safe_dump(document))
    partial = settings.model_copy(update={"processing_activities_path": path})
    with pytest.raises(RegisterError, match="no data category under the life domains "
                                            "parenting"), \
            TestClient(create_app(partial, configure_logs=False)):
        pass


def test_missing_register_file_stops_start_up(settings: Settings, tmp_path) -> None:  # noqa: ANN001
    missing = settings.model_copy(update={"processing_activities_path": tmp_path / "none.yaml"})
    with pytest.raises(RegisterError, match="cannot read the register"), \
            TestClient(create_app(missing, configure_logs=False)):
        pass
