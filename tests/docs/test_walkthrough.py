"""docs/walkthrough.md, executed: every ```sh block runs against a fresh gateway, in order, and
prints what the page says it prints (tests/docs/runner.py has the rules)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs import runner

PAGE = runner.ROOT / "docs" / "walkthrough.md"


@pytest.fixture(scope="module")
def gateway() -> Iterator[runner.Gateway]:
    with runner.fresh_gateway() as live:
        yield live


def test_every_output_is_what_the_page_shows(gateway: runner.Gateway) -> None:
    assert runner.mismatches(PAGE, gateway) == []


def test_the_walkthrough_covers_the_whole_loop() -> None:
    code = "\n".join(block.code for block in runner.blocks(PAGE.read_text()))
    steps = {  # what the issue asks the walkthrough to show, and a command that shows it
        "token": "/oauth/token", "referral": "-X POST $BASE/fhir/ServiceRequest",
        "withheld without consent": "outbox list --status withheld",
        "consent": "-X POST $BASE/fhir/Consent", "Task states": "-X PATCH $BASE/fhir/Task/",
        "webhook seen": "/tmp/receiver.log", "audit search": "$BASE/audit/entries?",
        "access report": "$BASE/audit/access-report?", "audit verify": "wijkgateway audit verify",
    }
    assert [step for step, command in steps.items() if command not in code] == []
    checked = [block for block in runner.blocks(PAGE.read_text()) if block.expected is not None]
    assert len(checked) >= 30


def test_a_wrong_output_is_caught() -> None:
    expected = '{"status": "completed", "id": "89374681-3347-42bb-9036-37e052ac68dc"}'
    other_id = "0b1c2d3e-0000-4000-8000-00000000000a"
    assert runner.matches(expected, f'{{"status":"completed","id":"{other_id}"}}')
    assert not runner.matches(expected, f'{{"status":"accepted","id":"{other_id}"}}')
    assert not runner.matches("5 entries ...", "4 entries\n1 ...")
    answer = 'HTTP/1.1 200 OK\ndate: Tue, 01 Dec 2026 07:18:53 GMT\netag: W/"2"\nx: y'
    assert runner.matches('HTTP/1.1 200 OK\netag: W/"2"\n...', answer)
    assert not runner.matches('HTTP/1.1 200 OK\netag: W/"3"\n...', answer)


def test_blocks_pair_each_command_with_the_output_right_after_it() -> None:
    page = ("```sh\necho a\n```\n\n```text\na\n```\n\nprose\n\n"
            "```sh\necho b\n```\n\nsaid\n```text\nb\n```\n")
    found = runner.blocks(page)
    assert [(block.line, block.code, block.expected) for block in found] == [
        (1, "echo a\n", "a\n"), (11, "echo b\n", None)]


def test_the_runner_names_the_line_of_a_drifted_block(tmp_path: Path,
                                                       gateway: runner.Gateway) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Page\n\n```sh\ncurl -s $BASE/healthz\n```\n\n```sh\nBASE=http://127.0.0.1:8000\n"
                    "curl -s $BASE/healthz\n```\n\n```json\n{\"status\": \"down\"}\n```\n")
    assert [message.splitlines()[0] for message in runner.mismatches(page, gateway)] == [
        "page.md:7: expected"]
