"""Run a Markdown page's shell blocks against a fresh gateway and compare their printed outputs.

Why: a walkthrough that is not executed drifts from the code. The rules a page follows:

- a ```sh block is executed; all blocks of a page run in one bash process, in order, so
  variables carry over (```shell blocks are shown, never run);
- the ```text or ```json block right after it (only blank lines between) is its expected
  output, standard output and error together; a ```sh block without one is run unchecked;
- ids, times, tokens, hashes and secrets are masked on both sides, the headers ``date``,
  ``server``, ``content-length`` and ``vary`` dropped, JSON whitespace is ignored,
  and ``...`` in an expected block stands for any text;
- the page's ``http://127.0.0.1:8000``, the receiver's port ``9000`` and ``/tmp/`` are rewritten to
  the test's own port and folder, and back in the outputs.

``python -m tests.docs.runner docs/walkthrough.md`` prints every block's actual output (masked),
to write or update a page; the test then holds the page to it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.server import environment_without_settings, free_port, stop

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / ".venv" / "bin" / "wijkgateway"
DOC_BASE = "http://127.0.0.1:8000"
DOC_RECEIVER = "127.0.0.1:9000"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.M | re.S)
MARK = "@@wijkgateway-docs-block@@"

MASKS = [  # order matters: tokens and hashes before the shorter patterns inside them
    (re.compile(r"eyJ[\w-]+(?:\.[\w-]+){0,2}"), "<token>"),
    (re.compile(r"whsec_[A-Za-z0-9+/=]+"), "whsec_<secret>"),
    (re.compile(r"(?<![0-9a-f])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
     "<id>"),
    (re.compile(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT"), "<time>"),
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"), "<time>"),
    (re.compile(r"\b[0-9a-f]{32,}\b"), "<hash>"),
    (re.compile(r"\b[A-Za-z0-9+/]{40,}={0,2}"), "<hash>"),
    (re.compile(r"\b00-<hash>-[0-9a-f]{16}-0\d\b"), "<traceparent>"),
    (re.compile(r"\bmsg_\d+\b"), "msg_<n>"),  # the demo receiver's messages come in between
]
NOISE_HEADERS = re.compile(r"^(date|server|content-length|vary): .*\n", re.M | re.I)


@dataclass
class Block:
    """One executed shell block, with the line it starts on and its expected output."""

    line: int
    code: str
    expected: str | None


def blocks(markdown: str) -> list[Block]:
    """The page's ```sh blocks, each with the ```text/```json block that follows it."""
    found: list[Block] = []
    fences = list(FENCE.finditer(markdown))
    for index, fence in enumerate(fences):
        if fence.group(1) != "sh":
            continue
        expected = None
        if index + 1 < len(fences):
            following = fences[index + 1]
            between = markdown[fence.end():following.start()]
            if following.group(1) in ("text", "json") and not between.strip():
                expected = following.group(2)
        found.append(Block(markdown.count("\n", 0, fence.start()) + 1, fence.group(2), expected))
    return found


def mask(text: str) -> str:
    """Ids, times, tokens and hashes as placeholders, so two runs print the same."""
    for pattern, placeholder in MASKS:
        text = pattern.sub(placeholder, text)
    return text


def normalise(text: str) -> str:
    """Masked, without transport headers, with whitespace around JSON punctuation dropped and
    other runs made one space."""
    text = NOISE_HEADERS.sub("", mask(text))
    text = re.sub(r"\s*([{}\[\],:])\s*", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def matches(expected: str, actual: str) -> bool:
    """Whether the actual output is the expected one, ``...`` standing for any text."""
    parts = [re.escape(part.strip()) for part in normalise(expected).split("...")]
    return re.fullmatch(r"\s*" + ".*?".join(parts) + r"\s*", normalise(actual), re.S) is not None


@dataclass
class Gateway:
    """A gateway started as `make run` starts it, on a fresh database and port."""

    url: str
    receiver_port: int
    folder: Path
    env: dict[str, str]


@contextmanager
def fresh_gateway(settings: dict[str, str] | None = None) -> Iterator[Gateway]:
    """`wijkgateway demo run` (server, delivery worker and demo receiver; it migrates and loads
    the demo) in a subprocess, on a new port and database, its output in ``demo-run.log``;
    ``settings`` are a page's own, e.g. the adapters it enables."""
    with tempfile.TemporaryDirectory(prefix="wg-docs-") as name:
        folder = Path(name)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**environment_without_settings(), "WIJKGATEWAY_ENVIRONMENT": "development",
               "WIJKGATEWAY_DATABASE_URL": f"sqlite:///{folder}/wijkgateway.db",
               "WIJKGATEWAY_PUBLIC_BASE_URL": url,
               "WIJKGATEWAY_SIGNING_KEY_PATH": str(folder / "signing-key.json"),
               "WIJKGATEWAY_AUDIT_SIGNING_KEY_PATH": str(folder / "audit-key"),
               "WIJKGATEWAY_LOG_JSON": "true", **(settings or {})}
        with (folder / "demo-run.log").open("wb") as log:
            server = subprocess.Popen(
                [str(CLI), "demo", "run", "--host", "127.0.0.1", "--port", str(port)],
                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            try:
                _wait_until_ready(url, server, folder / "demo-run.log")
                yield Gateway(url, free_port(), folder, env)
            finally:
                stop(server)


def _wait_until_ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Until /readyz answers 200; a gateway that exits or stays unready fails with the end of
    its output (a failed migration or a busy port says why there)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gateway did not become ready (exit code {server.poll()}):\n"
                       f"{log.read_text(errors='replace')[-2000:]}")


def run(page: Path, gateway: Gateway) -> list[tuple[Block, str]]:
    """Every ```sh block of the page run in one bash, with what each printed."""
    found = blocks(page.read_text())
    swaps = [(DOC_BASE, gateway.url), (DOC_RECEIVER, f"127.0.0.1:{gateway.receiver_port}"),
             ('("127.0.0.1", 9000)', f'("127.0.0.1", {gateway.receiver_port})'),
             ("/tmp/", f"{gateway.folder}/")]
    script = ["exec 2>&1"]
    for block in found:
        code = block.code
        for doc, real in swaps:
            code = code.replace(doc, real)
        script += [f"echo '{MARK}'", code]
    shell = subprocess.Popen(["bash", "-c", "\n".join(script)], env=gateway.env, cwd=ROOT,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
                             start_new_session=True)  # its own group: the page's receiver too
    try:
        output, _ = shell.communicate(timeout=100)  # below pytest's 120 s, so this message wins
    finally:
        with suppress(ProcessLookupError):
            os.killpg(shell.pid, signal.SIGTERM)
        shell.wait()
    for doc, real in swaps:
        output = output.replace(real, doc)
    printed = output.split(MARK + "\n")[1:]
    if len(printed) != len(found):
        raise AssertionError(f"{len(printed)} of {len(found)} blocks ran:\n{output[-3000:]}")
    return list(zip(found, printed, strict=True))


def mismatches(page: Path, gateway: Gateway) -> list[str]:
    """One message per block whose output differs from the page, naming its line."""
    return [f"{page.name}:{block.line}: expected\n{block.expected}\ngot\n{mask(actual)}"
            for block, actual in run(page, gateway)
            if block.expected is not None and not matches(block.expected, actual)]


if __name__ == "__main__":  # python -m tests.docs.runner PAGE [NAME=VALUE ...]
    with fresh_gateway(dict(arg.split("=", 1) for arg in sys.argv[2:])) as live:
        for found_block, printed_output in run(Path(sys.argv[1]), live):
            status = ("unchecked" if found_block.expected is None else
                      "ok" if matches(found_block.expected, printed_output) else "DIFFERS")
            print(f"--- line {found_block.line}: {status}\n{mask(printed_output)}")
