"""The worker's sign of life. It serves no HTTP, so a liveness probe cannot ask it anything;
instead the worker touches a file before each message and each poll, and the probe
reads the file's age (deploy/kubernetes/worker.yaml). A worker that is merely busy keeps
touching it; one stuck in a call that never returns stops, and is restarted, its leased
messages going out again when their leases run out.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gateway.platform.logging import get_logger

log = get_logger()


def heartbeat(path: Path) -> Callable[[], None]:
    """A beat that touches ``path``. A failed touch is logged, never raised: delivery goes on,
    and the probe, seeing an old file, restarts the worker."""
    def beat() -> None:
        try:
            path.touch()
        except OSError as error:
            log.error("heartbeat_failed", error_type=type(error).__name__)
    return beat
