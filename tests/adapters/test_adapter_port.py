"""The adapter port: adapters enabled by name, each one's render and schema check; the
gp-referral adapter renders FHIR R4B, the fake one its own JSON; adapters import no gateway."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from pydantic import ValidationError

from adapters import (
    InvalidMessage,
    OutboundMessage,
    Recipient,
    RenderError,
    UnknownAdapter,
    available,
    enable,
    get_adapter,
)
from gateway.platform.settings import Settings
from tests.support.samples import service_request

GP = get_adapter("gp-referral")
FAKE = get_adapter("fake")
TEAM = Recipient("wijkteam-noord", "wijkteam")
TASK = {"resourceType": "Task", "id": "t-1", "status": "accepted", "intent": "order",
        "focus": {"reference": "ServiceRequest/sr-1"}}


def _outbound(resource: dict[str, Any], event: str = "nl.wijkgateway.referral.accepted"
              ) -> OutboundMessage:
    return OutboundMessage(event, resource["resourceType"], resource["id"], resource)


def test_adapters_are_the_packages_under_adapters() -> None:
    assert {"gp-referral", "fake"} <= set(available())
    assert list(enable(["fake", "gp-referral"])) == ["fake", "gp-referral"]


def test_an_unknown_adapter_is_named_with_those_known() -> None:
    with pytest.raises(UnknownAdapter, match=r"no adapter named 'registry'.*known: .*fake"):
        enable(["gp-referral", "registry"])


def test_configuration_with_an_unknown_adapter_stops_start_up() -> None:
    with pytest.raises(ValidationError, match=r"no adapter package for 'gp_referal'"):
        Settings(adapters="gp_referal")
    assert Settings(adapters=" fake , gp-referral,fake").adapters == ["fake", "gp-referral"]
    assert Settings().adapters == ["gp-referral"]


def test_adapters_import_nothing_of_the_gateway() -> None:
    code = ("import sys, adapters, adapters.fake, adapters.gp_referral; "
            "print([m for m in sys.modules if m == 'gateway' or m.startswith('gateway.')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


class TestGpReferral:
    def test_renders_the_permitted_resource_as_r4b(self) -> None:
        referral = service_request()
        referral["id"] = "sr-1"
        for resource in (referral, TASK):
            document = GP.render(_outbound(resource), TEAM)
            assert document == resource
            GP.check_outbound(document)

    def test_schema_check_names_the_element(self) -> None:
        with pytest.raises(InvalidMessage) as raised:
            GP.check_outbound({**TASK, "status": "half-done"})
        assert [i.expression for i in raised.value.issues] == ["Task.status"]
        with pytest.raises(InvalidMessage):
            GP.check_outbound({k: v for k, v in TASK.items() if k != "intent"})
        with pytest.raises(InvalidMessage):
            GP.check_outbound({"resourceType": "Consent", "id": "c"})

    def test_does_not_render_what_it_does_not_carry(self) -> None:
        with pytest.raises(RenderError):
            GP.render(_outbound({"resourceType": "Consent", "id": "c"}), TEAM)


class TestFake:
    def test_renders_a_referral_status_as_its_notice(self) -> None:
        document = FAKE.render(_outbound(TASK), TEAM)
        assert document == {"kind": "referral-status",
                            "event": "nl.wijkgateway.referral.accepted",
                            "referralId": "sr-1", "status": "accepted",
                            "for": "wijkteam-noord"}
        FAKE.check_outbound(document)

    def test_schema_check(self) -> None:
        document = FAKE.render(_outbound(TASK), TEAM)
        with pytest.raises(InvalidMessage) as raised:
            FAKE.check_outbound({**document, "status": "", "name": "x"})
        assert [i.expression for i in raised.value.issues] == ["status", "name"]
        with pytest.raises(InvalidMessage):
            FAKE.check_outbound({"kind": "letter"})

    def test_does_not_render_what_it_does_not_carry(self) -> None:
        with pytest.raises(RenderError):
            FAKE.render(_outbound({"resourceType": "Consent", "id": "c"}), TEAM)
