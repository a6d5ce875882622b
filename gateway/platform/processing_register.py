"""Read the register of processing activities (no web imports: the CLI loads it too, and
``wijkgateway --help`` must stay fast)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from consent import Register, RegisterError, parse_register
from schemas import REFERRAL_FLOW_ACTIVITIES
from schemas.messages import LIFE_DOMAINS


def load_register(path: Path | None = None) -> Register:
    """The register at ``path`` (``WIJKGATEWAY_PROCESSING_ACTIVITIES_PATH``), or the packaged
    Dutch default set."""
    source = path or files("consent") / "processing_activities.yaml"
    try:
        document: Any = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as error:
        raise RegisterError(f"cannot read the register at {source}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise RegisterError(f"the register at {source} is not valid YAML: {error}") from None
    register = parse_register(document)
    if missing := [a for a in REFERRAL_FLOW_ACTIVITIES if register.activity(a) is None]:
        raise RegisterError(f"the register at {source} lacks the activities the gateway's "
                            f"flows run under: {', '.join(missing)}")
    if unmapped := [d for d in LIFE_DOMAINS if d not in register.life_domains]:
        raise RegisterError(f"the register at {source} files no data category under the life "
                            f"domains {', '.join(unmapped)} (life_domains)")
    return register
