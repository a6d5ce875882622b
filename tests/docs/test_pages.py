"""Pages beside the walkthrough whose ```sh blocks are executed too, each against a fresh gateway
started with the settings the page tells its reader to use (tests/docs/runner.py has the rules)."""

from __future__ import annotations

import pytest

from tests.docs import runner

PAGES = {  # page -> the settings its reader starts `make run` with
    "adapters.md": {"WIJKGATEWAY_ADAPTERS": "gp-referral,fake"},
    "adult-records.md": {"WIJKGATEWAY_ADAPTERS": "gp-referral,menscentraal"},
    "household-plan.md": {"WIJKGATEWAY_ADAPTERS": "gp-referral,zcd,menscentraal"},
    "households.md": {},
    "trajectories.md": {"WIJKGATEWAY_ADAPTERS": "gp-referral,zcd,menscentraal"},
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_output_is_what_the_page_shows(page: str) -> None:
    path = runner.ROOT / "docs" / page
    checked = [block for block in runner.blocks(path.read_text()) if block.expected is not None]
    assert len(checked) >= 5, "an executed page shows what its commands print"
    with runner.fresh_gateway(PAGES[page]) as gateway:
        assert runner.mismatches(path, gateway) == []


def test_each_page_tells_its_reader_the_settings_it_runs_with() -> None:
    for page, settings in PAGES.items():
        text = (runner.ROOT / "docs" / page).read_text()
        assert all(f"{name}={value}" in text for name, value in settings.items()), page
