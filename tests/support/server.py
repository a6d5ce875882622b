"""The gateway served by uvicorn on a loopback port, in a thread, for real-client tests."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time

import httpx
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    """A loopback port free right now, so settings can name it before the app is built."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment_without_settings() -> dict[str, str]:
    """This process's environment without any ``WIJKGATEWAY_*`` variable, for a gateway
    subprocess: a setting in the shell that runs the tests must not change what it does."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith("WIJKGATEWAY_")}


def stop(process: subprocess.Popen, seconds: float = 30) -> None:
    """SIGTERM a server subprocess and wait; one that has not ended within ``seconds`` is
    killed, so a hung shutdown fails its test without leaving a process behind."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


class LiveServer:
    def __init__(self, app: FastAPI, port: int | None = None, **options: object) -> None:
        """``options`` go to ``uvicorn.Config`` (e.g. ``cli.proxy_options(settings)``)."""
        self.port = port or free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None,
                                access_log=False, lifespan="on", **options)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("gateway did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
