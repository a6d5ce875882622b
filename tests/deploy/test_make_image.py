"""`make image`: builds with docker when there is a daemon, and otherwise stops with one line
saying what is missing (this machine has no Docker daemon; a stand-in `docker` plays each case)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.deploy.files import REPO


def _make_image(tmp_path: Path, docker: str | None, *args: str) -> subprocess.CompletedProcess:
    """`make -s image` with PATH holding only the system's tools and, if given, a `docker`
    script that logs its arguments and runs ``docker`` (shell) for them."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if docker is not None:
        script = bin_dir / "docker"
        script.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/calls\n{docker}\n')
        script.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    return subprocess.run(["make", "-s", "-C", str(REPO), "image", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def _calls(tmp_path: Path) -> list[str]:
    calls = tmp_path / "calls"
    return calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.parametrize(("docker", "message"), [
    (None, "make image: docker not found; install Docker to build wijkgateway:local from the "
           "Dockerfile (docs/deployment.md)"),
    ('[ "$1" = info ] && exit 1', "make image: docker is installed but its daemon is not "
                                  "reachable; start it, then run make image again"),
], ids=["no docker", "no daemon"])
def test_without_docker_it_says_what_is_missing(tmp_path: Path, docker: str | None,
                                                message: str) -> None:
    result = _make_image(tmp_path, docker)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == message
    assert [call for call in _calls(tmp_path) if call.startswith("build")] == []


def test_with_docker_it_builds_the_dockerfile_from_the_repository(tmp_path: Path) -> None:
    result = _make_image(tmp_path, "exit 0", "IMAGE=registry.example.nl/wijkgateway:0.2.0")
    assert result.returncode == 0, result.stderr
    assert _calls(tmp_path) == ["info", "build --tag registry.example.nl/wijkgateway:0.2.0 ."]
