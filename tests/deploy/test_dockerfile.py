"""The Dockerfile, checked without docker (there is none here): it builds the package from this
repository, runs as a non-root user, reports ready on /readyz, and every file it copies is in
the build context."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.specifiers import SpecifierSet

from tests.deploy.files import REPO, dockerfile, image_env, resource
from tests.support.server import environment_without_settings

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _instructions(keyword: str) -> list[str]:
    return [i.arguments for i in dockerfile() if i.keyword == keyword]


def _copies() -> list[tuple[list[str], str]]:
    """(sources, destination) of each COPY, flags such as --chown dropped."""
    copies = []
    for arguments in _instructions("COPY"):
        *sources, destination = [word for word in arguments.split() if not word.startswith("--")]
        copies.append((sources, destination))
    return copies


def _ignored(path: str) -> bool:
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    return any(fnmatch.fnmatch(path, pattern) or path.startswith(pattern.rstrip("/") + "/")
               for pattern in patterns)


def test_every_copied_file_exists_in_the_build_context() -> None:
    sources = [source for sources, _ in _copies() for source in sources]
    assert sources == ["pyproject.toml", "README.md", "gateway", "adapters", "schemas", "consent",
                       "deploy/init-keys.sh"]
    assert [s for s in sources if not (REPO / s).exists()] == []
    assert [s for s in sources if _ignored(s)] == []


def test_the_package_is_installed_from_the_copied_sources() -> None:
    copied = {destination.rstrip("/") + ("/" + Path(source).name if destination.endswith("/")
                                         else "")
              for sources, destination in _copies() for source in sources}
    packages = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    needed = {"/src/pyproject.toml", f"/src/{PYPROJECT['project']['readme']}"} | {
        f"/src/{package.rstrip('*')}" for package in packages}
    assert needed - copied == set()
    assert "pip install /src && rm -rf /src" in _instructions("RUN")


def test_the_base_image_runs_a_python_the_package_supports() -> None:
    (base,) = _instructions("FROM")
    version = re.fullmatch(r"python:(3\.\d+)-slim", base).group(1)
    assert SpecifierSet(PYPROJECT["project"]["requires-python"]).contains(f"{version}.0")


def test_it_runs_as_the_non_root_user_the_kubernetes_manifests_expect() -> None:
    users = _instructions("USER")
    assert users[-1] == "10001:10001"
    pod = resource("Deployment", "wijkgateway-api")["spec"]["template"]["spec"]
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) \
        == (10001, 10001)
    assert "useradd --system --uid 10001 --gid 10001" in " ".join(_instructions("RUN"))


def test_its_healthcheck_asks_readyz_on_the_port_it_serves() -> None:
    (healthcheck,) = [i for i in dockerfile() if i.keyword == "HEALTHCHECK"]
    command = healthcheck.exec_form()
    assert command[:2] == ["python", "-c"]
    assert "'http://127.0.0.1:8000/readyz'" in command[2]
    assert _instructions("EXPOSE") == ["8000"]
    (cmd,) = [i.exec_form() for i in dockerfile() if i.keyword == "CMD"]
    assert cmd == ["serve", "--host", "0.0.0.0", "--port", "8000"]  # noqa: S104


def test_its_entrypoint_is_the_packages_command() -> None:
    (entrypoint,) = [i.exec_form() for i in dockerfile() if i.keyword == "ENTRYPOINT"]
    assert entrypoint == ["wijkgateway"]
    assert list(PYPROJECT["project"]["scripts"]) == ["wijkgateway"]


def test_the_key_paths_it_sets_are_the_kubernetes_configmaps() -> None:
    configmap = resource("ConfigMap", "wijkgateway")["data"]
    names = ("WIJKGATEWAY_SIGNING_KEY_PATH", "WIJKGATEWAY_AUDIT_SIGNING_KEY_PATH")
    assert [image_env()[name] for name in names] == [configmap[name] for name in names]
    # it makes the keys' folders, owned by its user, so compose's volumes there are writable
    folders = " ".join(os.path.dirname(configmap[name]) for name in names)
    assert f"chown 10001:10001 {folders}" in " ".join(_instructions("RUN"))


def test_init_keys_makes_both_keys_once_and_keeps_them(tmp_path: Path) -> None:
    """The image's key generation, run here with the venv's wijkgateway: a second run (every
    `docker compose up`) keeps both keys byte for byte."""
    env = {**environment_without_settings(),
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "WIJKGATEWAY_SIGNING_KEY_PATH": str(tmp_path / "signing-key" / "signing-key.json"),
           "WIJKGATEWAY_AUDIT_SIGNING_KEY_PATH": str(tmp_path / "audit-key" / "audit-key"),
           "WIJKGATEWAY_DATA_DIR": str(tmp_path),
           "WIJKGATEWAY_PUBLIC_BASE_URL": "https://gw.example.nl"}
    (tmp_path / "signing-key").mkdir()
    (tmp_path / "audit-key").mkdir()
    script = REPO / "deploy" / "init-keys.sh"
    first = subprocess.run([script], env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    keys = [tmp_path / "signing-key" / "signing-key.json", tmp_path / "audit-key" / "audit-key"]
    made = [path.read_bytes() for path in keys]
    verifier = first.stdout.splitlines()[-1]
    assert verifier.startswith("gw.example.nl/processing-log+")
    again = subprocess.run([script], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert [path.read_bytes() for path in keys] == made
    assert again.stdout.splitlines() == [
        f"token signing key: {keys[0]} exists, kept",
        f"checkpoint key: {keys[1]} exists, kept; its verifier key:",
        verifier]
