"""Hypothesis-made FHIR reads and merge patches for issue 10's new surface: search parameters
(``_lastUpdated``, ``_sort``, ``_summary``, ``_count``, ``_elements``, ``_include`` and
``_revinclude``, references, tokens), vread ids, ``_history`` parameters, ``Accept``, ``_format``,
``Prefer``, and JSON Merge Patch bodies: never a 5xx, every 4xx an OperationOutcome, and nothing
a client typed (a BSN in a parameter's name or value) repeated in an error. Deterministic: a
fixed number of derandomized examples."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from gateway.fhir.merge_patch import MERGE_PATCH_TYPES
from tests.fuzz.test_fhir_writes import Known, check_contract, known, mutate  # noqa: F401
from tests.support.markers import SQLITE_ONLY

EXAMPLES = 60
BSN = "123456782"  # a valid BSN: it must never come back in an error
SEARCHES = {
    "/fhir/Task": ("team", ["focus", "status"]),
    "/fhir/ServiceRequest": ("gp", ["identifier"]),
    "/fhir/Consent": ("team", ["patient", "status", "actor", "actor:identifier", "purpose"]),
    "/fhir/Organization": ("gp", ["identifier"]),
    "/fhir/Subscription": ("team", []),
}
COMMON = ["_count", "_offset", "_summary", "_elements", "_total", "_totalMethod",
          "_lastUpdated", "_sort", "_include", "_revinclude", "_format"]
ODD = ["", " ", ",", "|", "||", "eq", "ge2026", "le2026-12-01T06:00:00+01:00", "gt0001",
       "lt9999-12-31T23:59:59.999999999-14:00", "eq2026-02-29", "ge\u0662026",
       "-_lastUpdated", "_lastUpdated", "count", "false", "0", "200", "201", "-1", "1e3",
       "Task:focus", "Task:focus:ServiceRequest", "*", "status,note,meta", "Task.status",
       "resourceType", "ServiceRequest/abc", "http://127.0.0.1:8000/fhir/ServiceRequest/x",
       "http://127.0.0.1:8000/fhir/../x", "http://evil.example/fhir/Patient/1",
       "http://hl7.org/fhir/task-status|requested", "|requested", "requested,accepted",
       "Patient/" + "x" * 70, "xml", "json", "application/fhir+xml", "text/html",
       "application/fhir+json;fhirVersion=3.0", BSN, f"Patient/{BSN}", "\u0000", "%00",
       "\U0001f600", "é" * 50]
VALUES = st.sampled_from(ODD) | st.text(max_size=30)


def _contract(status: int, body: bytes, content_type: str) -> None:
    """The write fuzz's contract (for JSON answers), and no BSN repeated in an error."""
    if content_type.startswith("application/fhir+json"):
        check_contract(status, body)
    else:
        assert status < 500, body[:500]
    if status >= 400:
        assert BSN.encode() not in body, body[:500]


@SQLITE_ONLY
@pytest.mark.parametrize("path", sorted(SEARCHES))
def test_search_never_answers_5xx(path: str, client: TestClient, gp: dict, team: dict,
                                  known: Known) -> None:  # noqa: F811 - the fixture
    caller, own = SEARCHES[path]
    headers = gp if caller == "gp" else team
    names = st.sampled_from([*own, *COMMON, BSN, f"{own[0]}:not" if own else "_id"])

    @examples(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(params=st.lists(st.tuples(names, VALUES), max_size=5),
           lenient=st.booleans())
    def run(params: list[tuple[str, str]], lenient: bool) -> None:
        extra = {"Prefer": "handling=lenient"} if lenient else {}
        response = client.get(f"{path}?{urlencode(params)}", headers={**headers, **extra})
        _contract(response.status_code, response.content, response.headers["content-type"])

    run()


@SQLITE_ONLY
def test_versions_never_answer_5xx(client: TestClient, team: dict,
                                   known: Known) -> None:  # noqa: F811 - the fixture
    urls = [f"/fhir/Task/{known.task['id']}", f"/fhir/Consent/{known.consent['id']}",
            f"/{known.patient_ref.replace('Patient/', 'fhir/Patient/')}"]

    @examples(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(url=st.sampled_from(urls), vid=st.sampled_from(["1", "0", "01", "999999999",
                                                           "1234567890", "\u0661", BSN])
           | st.text(st.characters(min_codepoint=0x21, exclude_characters="/?#%\x7f"),
                     min_size=1, max_size=12).filter(lambda v: v not in ".."),
           params=st.lists(st.tuples(st.sampled_from(["_count", "_since", BSN]), VALUES),
                           max_size=2),
           accept=st.sampled_from(["", "application/fhir+xml", "application/xml;q=0.5, */*",
                                   "application/fhir+json;fhirVersion=4.0", "text/html"]))
    def run(url: str, vid: str, params: list[tuple[str, str]], accept: str) -> None:
        headers = {**team, **({"Accept": accept} if accept else {})}
        for path in (f"{url}/_history/{vid}", f"{url}/_history?{urlencode(params)}"):
            response = client.get(path, headers=headers)
            _contract(response.status_code, response.content, response.headers["content-type"])

    run()


@SQLITE_ONLY
def test_merge_patch_never_answers_5xx(client: TestClient, team: dict,
                                       known: Known) -> None:  # noqa: F811 - the fixture
    """JSON Merge Patch is issue 10's new write: the write fuzz's mutations of a partial
    Task, sent as each media type the PATCH route reads as a merge patch."""
    url = f"/fhir/Task/{known.task['id']}"
    base = {"status": "accepted", "statusReason": {"text": "ja"}, "note": [{"text": "x"}]}

    @examples(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data(), media_type=st.sampled_from(sorted(MERGE_PATCH_TYPES)))
    def run(data: st.DataObject, media_type: str) -> None:
        body = json.dumps(mutate(data, base)).encode()
        response = client.patch(url, content=body,
                                headers={**team, "Content-Type": media_type})
        _contract(response.status_code, response.content, response.headers["content-type"])

    run()
