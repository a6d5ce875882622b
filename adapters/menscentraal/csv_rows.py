"""A row of an adult records export (CSV, as Excel writes it) -> the system's own JSON messages,
which then take the same path as messages over HTTP (``parse``).

One row is one client: the client's numbers and facts, optionally the household they live in
and one trajectory. Excel's habits are undone here: dates as ``31-12-1988`` as well as
``1988-12-31``, a BSN whose leading zero Excel dropped (8 digits), a postcode in lower case or
with a space. Message ids come from the row's content, so importing a row again, from the same
file or a later export, changes nothing."""

from __future__ import annotations

import hashlib
import re
from typing import Any

COLUMNS = ("clientnummer", "bsn", "achternaam", "voornamen", "geboortedatum", "postcode",
           "huishoudnummer", "rol", "sinds", "trajectnummer", "domein", "trajectstart",
           "trajecteinde")
REQUIRED = ("clientnummer",)
# the element of a message -> the column it came from, to name a column in the report
COLUMN_OF = {"/client/clientnummer": "clientnummer", "/client/bsn": "bsn",
             "/client/achternaam": "achternaam", "/client/voornamen": "voornamen",
             "/client/geboortedatum": "geboortedatum", "/client/postcode": "postcode",
             "/client/huishouden/huishoudnummer": "huishoudnummer",
             "/client/huishouden/rol": "rol", "/client/huishouden/sinds": "sinds",
             "/traject/trajectnummer": "trajectnummer", "/traject/domein": "domein",
             "/traject/start": "trajectstart", "/traject/einde": "trajecteinde",
             "/traject/client/clientnummer": "clientnummer", "/traject/client/bsn": "bsn"}
_DUTCH_DATE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")


def missing_columns(header: list[str]) -> list[str]:
    """The required columns a header lacks (names compared trimmed and in lower case)."""
    names = {name.strip().lower() for name in header}
    return [name for name in REQUIRED if name not in names]


def unknown_columns(header: list[str]) -> list[str]:
    return [name for name in header if name.strip().lower() not in COLUMNS]


def messages(row: dict[str, str]) -> list[dict[str, Any]]:
    """The messages one row stands for: the client (in a household, when one is given), then
    its trajectory, if any. Empty cells are absent elements."""
    cells = {key.strip().lower(): value.strip() for key, value in row.items()
             if key and key.strip().lower() in COLUMNS and value and value.strip()}
    digest = hashlib.sha256(repr(sorted(cells.items())).encode()).hexdigest()[:32]
    client: dict[str, Any] = {name: cells[name] for name in
                              ("clientnummer", "achternaam", "voornamen") if name in cells}
    if "bsn" in cells:
        client["bsn"] = cells["bsn"].zfill(9) if len(cells["bsn"]) == 8 else cells["bsn"]
    if "geboortedatum" in cells:
        client["geboortedatum"] = _iso_date(cells["geboortedatum"])
    if "postcode" in cells:
        client["postcode"] = cells["postcode"].replace(" ", "").upper()
    if "huishoudnummer" in cells or "rol" in cells:
        client["huishouden"] = {k: v for k, v in (
            ("huishoudnummer", cells.get("huishoudnummer")), ("rol", cells.get("rol", "").lower()),
            ("sinds", _iso_date(cells["sinds"]) if "sinds" in cells else None)) if v}
    found = [{"berichtId": f"csv-{digest}-c", "soort": "client", "client": client}]
    if "trajectnummer" in cells:
        trajectory: dict[str, Any] = {
            "trajectnummer": cells["trajectnummer"],
            "client": {k: client[k] for k in ("clientnummer", "bsn") if k in client},
            "domein": cells.get("domein", "").lower(),
            "status": "gesloten" if "trajecteinde" in cells else "open",
            "start": _iso_date(cells.get("trajectstart", ""))}
        if "trajecteinde" in cells:
            trajectory["einde"] = _iso_date(cells["trajecteinde"])
        found.append({"berichtId": f"csv-{digest}-t", "soort": "traject",
                      "traject": trajectory})
    return found


def column_of(expression: str) -> str:
    """The column a message's element came from (the element itself when none did)."""
    return COLUMN_OF.get(expression, expression)


def _iso_date(text: str) -> str:
    """``31-12-1988`` (Excel, Dutch locale) as ``1988-12-31``; anything else as it is, for
    the schema to judge."""
    match = _DUTCH_DATE.match(text)
    if match:
        day, month, year = match.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return text
