"""HTML to PDF by Chromium's own print-to-PDF (headless ``--print-to-pdf``), for pages a person
takes home (the printable household plan).

One Chromium per document, in a temporary folder of its own (the page, the browser profile,
the PDF), removed afterwards with every process Chromium started. The page is read from that
file, never fetched, and the flags keep Chromium off the network (ARCHITECTURE.md "Browser
tests" says why each is there). Awaited as a subprocess, so the event loop goes on serving while
Chromium prints. No Chromium, a crash or a timeout is a 503 that says what still works, never
a 500.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from contextlib import suppress
from pathlib import Path

from gateway.platform.errors import ServiceUnavailable
from gateway.platform.logging import get_logger

log = get_logger()
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-pdf-header-footer")
NO_CHROMIUM = ("this gateway cannot make PDFs: no Chromium is installed where "
               "WIJKGATEWAY_CHROMIUM_PATH says; ask for text/html (format=html) and print that")
FAILED = "Chromium could not print this page to PDF; try again, or ask for text/html"


def check_available(chromium: Path) -> None:
    """503 before any work is done when there is no Chromium to run."""
    if not (chromium.is_file() and os.access(chromium, os.X_OK)):
        log.warning("pdf_unavailable", error_type="no-chromium")
        raise ServiceUnavailable(NO_CHROMIUM, expression="Accept")


async def to_pdf(html: str, chromium: Path, timeout: float) -> bytes:
    """``html`` printed to PDF (A4 unless the page's ``@page`` says otherwise)."""
    check_available(chromium)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wijkgateway-pdf-") as folder:
        page, out = Path(folder) / "page.html", Path(folder) / "page.pdf"
        page.write_text(html, encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            str(chromium), *CHROMIUM_ARGS, f"--user-data-dir={Path(folder) / 'profile'}",
            f"--print-to-pdf={out}", page.as_uri(), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True)  # its own process group: ended as one below
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            _end_group(process.pid)
            await process.wait()
            _failed("timeout", started)
        finally:
            _end_group(process.pid)  # helpers (crashpad) outlive the browser otherwise
        document = out.read_bytes() if out.is_file() else b""
    if process.returncode != 0 or not document.startswith(b"%PDF"):
        _failed(f"exit {process.returncode}", started)
    return document


def _end_group(pid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _failed(reason: str, started: float) -> None:
    log.warning("pdf_failed", error_type=reason,
                duration_ms=round((time.monotonic() - started) * 1000))
    raise ServiceUnavailable(FAILED, expression="Accept")
