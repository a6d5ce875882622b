"""The named stages every inbound message passes, whichever system sent it and however it came
(HTTP now, a Kafka topic later), and the record of one message's path through them.

    receive -> decode -> parse -> identify -> decide -> persist -> enqueue

Each stage runs inside :func:`MessagePath.stage`: the stage is bound to the log context while it
runs, a failure names it (a log line, the ``X-Wijkgateway-Stage`` header of the error answer,
and the ``stage`` label of ``wijkgateway_inbound_messages``), and the path lists the stages a
message went through. A path may skip stages (a replayed message stops after ``decide``) and a
system may order them as its messages need (a referral persists the consent it carries before
the decision reads it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import structlog

from adapters import InvalidMessage
from gateway.platform.errors import GatewayError
from gateway.platform.logging import get_logger
from gateway.platform.metrics import Metrics

RECEIVE, DECODE, PARSE, IDENTIFY, DECIDE, PERSIST, ENQUEUE = (
    "receive", "decode", "parse", "identify", "decide", "persist", "enqueue")
STAGES = (RECEIVE, DECODE, PARSE, IDENTIFY, DECIDE, PERSIST, ENQUEUE)
STAGE_HEADER = "X-Wijkgateway-Stage"
log = get_logger()


@dataclass
class MessagePath:
    """One inbound message's way through the stages: which system sent it, by which transport,
    and the stages it passed (the last one is where it stopped, if it failed)."""

    system: str
    transport: str
    metrics: Metrics | None = None
    stages: list[str] = field(default_factory=list)
    failed: bool = False

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Run one stage; a failure in it is logged, counted and named in the error."""
        assert name in STAGES, name
        self.stages.append(name)
        structlog.contextvars.bind_contextvars(pipeline_stage=name)
        try:
            yield
        except (GatewayError, InvalidMessage) as error:
            self._stopped(name, type(error).__name__)
            error.headers.setdefault(STAGE_HEADER, name)
            raise
        except Exception as error:
            self._stopped(name, type(error).__name__)
            raise

    def _stopped(self, name: str, error_type: str) -> None:
        self.failed = True
        log.info("inbound_stopped", adapter=self.system, transport=self.transport, stage=name,
                 error_type=error_type)
        self._count(name, "rejected")

    def done(self, outcome: str) -> None:
        """The message went through: ``outcome`` says how (created, replayed, ...)."""
        structlog.contextvars.unbind_contextvars("pipeline_stage")
        log.info("inbound_done", adapter=self.system, transport=self.transport,
                 stages=",".join(self.stages), outcome=outcome)
        self._count(self.stages[-1] if self.stages else RECEIVE, outcome)

    def _count(self, stage: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.inbound.labels(self.system, self.transport, stage, outcome).inc()
