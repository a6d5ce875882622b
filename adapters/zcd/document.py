"""The youth dossier's XML, read safely and checked against its XSD (``xsd/``).

Reading: lxml with entities unresolved, no network, no DTD loaded, no huge trees; a document
with a DOCTYPE at all (a DTD, entity declarations, an external entity) is refused, as is
anything libxml2 stops (an entity amplification, XML that is not well-formed). All of it is a
400 that names where, never what: no value and no parser message is repeated (they may quote
a BSN or a name).

Checking: against the shipped schemas, loaded from the package, with no access outside the
package directory; the instance's location hints are ignored. libxml2 passes the documents
that fit; xmlschema explains those that do not (``schema_issues``). Each problem is an
:class:`~adapters.base.Issue` whose expression is the XPath of the element, with the prefix
``zcd`` for the message namespace (``/zcd:bericht/zcd:gezin/zcd:lid[2]/zcd:bsn``).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cache
from importlib.resources import as_file, files
from typing import Any

import xmlschema
from lxml import etree
from xmlschema.validators import XsdAttributeGroup, XsdGroup

from adapters.base import InvalidMessage, Issue
from schemas import is_valid_bsn, safe_name

NAMESPACE = "urn:wijkgateway:zcd:1.0"
BASE_NAMESPACE = "urn:wijkgateway:zcd:basisschema:1.0"
VERSION = "1.0"
PREFIX = "zcd"
INBOUND_ROOTS = ("bericht", "bundel")
OUTBOUND_ROOT = "notificatie"
BAD_REQUEST = 400
MAX_BYTES = 5_000_000  # the gateway limits bodies before; a bound here too
_ATTRIBUTE = re.compile(r"^attribute ([A-Za-z_][\w.-]{0,40})=")

# What a value of each base type must be, as an issue says it (never the value itself)
TYPE_MESSAGES = {
    "BSN": "not a BSN: 9 digits",
    "Datum": "not a date: YYYY-MM-DD, without a time zone",
    "Id": "not an id: 1 to 64 visible ASCII characters",
    "Naam": "not a name: 1 to 200 characters",
    "Postcode": "not a postcode: 4 digits and 2 capital letters, no space",
    "Volgnummer": "not a member number: 1 to 50",
    "Organisatie": "not an organisation: a team id, or agb:/ura:/client: and its id",
    "Gebeurtenis": "not an event: nl.wijkgateway.<subject>.<event>",
    "Status": "not a status code",
    "Versie": f"not a version this gateway reads: {VERSION}",
}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_pis=True,
                           remove_comments=True, collect_ids=False)


@dataclass(frozen=True)
class ZcdDocument:
    """A document that was read safely and fits the XSD: what ``parse`` takes."""

    root: Any  # lxml.etree._Element


def read(body: bytes) -> Any:
    """Bytes -> the lxml root element, or InvalidMessage (400) naming where, never what."""
    if not body or not body.strip():
        raise _bad("/", "the body is empty: send one zcd:bericht or zcd:bundel", "required")
    if len(body) > MAX_BYTES:
        raise _bad("/", f"the document is larger than {MAX_BYTES} bytes", "too-costly")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as error:
        line, column = error.position if error.position else (0, 0)
        text = str(error.msg or "")
        if "amplification" in text or "entity" in text.lower():
            raise _bad("/", "entities are not accepted (no DTD, no entity declarations or "
                            "references)", "security") from None
        raise _bad("/", f"not well-formed XML (line {line}, column {column})",
                   "structure") from None
    except ValueError:  # e.g. a str with an encoding declaration; bytes never are
        raise _bad("/", "not well-formed XML", "structure") from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise _bad("/", "a DOCTYPE is not accepted (no DTD, no entity declarations)",
                   "security")
    return root


def decode(body: bytes) -> ZcdDocument:
    """Read and check an inbound document (a bericht or a bundel) against the XSD, and every
    BSN's elfproef: every problem at once, each with its XPath; 400."""
    root = read(body)
    check_root(root, INBOUND_ROOTS)
    issues = schema_issues(root)
    if issues:
        raise InvalidMessage(issues, status=BAD_REQUEST)
    return ZcdDocument(root)


def check_root(root: Any, names: tuple[str, ...]) -> None:
    if etree.QName(root).namespace != NAMESPACE or etree.QName(root).localname not in names:
        roots = " or ".join(f"{PREFIX}:{name}" for name in names)
        raise _bad("/", f"the root element must be {roots} in namespace {NAMESPACE}",
                   "structure")


def schema_issues(root: Any) -> list[Issue]:
    """Every way the tree does not fit the XSD, and every BSN that fails the elfproef.

    libxml2 (through lxml) validates first against the same files, in tens of microseconds;
    only a document it refuses goes through xmlschema, whose errors point at the element and
    can be told without their values (libxml2's messages quote them). xmlschema takes a few
    milliseconds a message, most of the inbound path's cost if it ran on every one. A test
    holds that the two agree on every document of the tests."""
    issues = []
    if not fast_schema().validate(root):
        resource = xmlschema.XMLResource(root, allow="none")
        issues = [_issue(error) for error in
                  schema().iter_errors(resource, use_location_hints=False)] or [
            Issue("/", "the document does not fit the schema", "structure")]
    for bsn in root.iter(f"{{{NAMESPACE}}}bsn"):
        text = bsn.text or ""
        if len(text) == 9 and text.isdigit() and not is_valid_bsn(text):
            issues.append(Issue(xpath(bsn), "not a valid BSN: it fails the elfproef", "value"))
    return _unique(issues)


@cache
def schema() -> xmlschema.XMLSchema:
    """The message schema (and the base schema it imports), from the package's files, with no
    access outside their directory."""
    with as_file(files("adapters.zcd") / "xsd") as directory:
        return xmlschema.XMLSchema(str(directory / "zcd-bericht.xsd"), allow="sandbox",
                                   base_url=str(directory))


_local = threading.local()


def fast_schema() -> etree.XMLSchema:
    """The same schema for libxml2, one per thread (a validator keeps its last error log)."""
    validator = getattr(_local, "schema", None)
    if validator is None:
        with as_file(files("adapters.zcd") / "xsd") as directory:
            validator = etree.XMLSchema(etree.parse(str(directory / "zcd-bericht.xsd"),
                                                    _parser()))
        _local.schema = validator
    return validator


def xpath(element: Any) -> str:
    """``/zcd:bericht/zcd:gezin/zcd:lid[2]/zcd:bsn``: each step's position among its
    siblings of the same name, when there are several; a name outside the vocabulary is ``?``."""
    steps = []
    node = element
    while node is not None:
        parent = node.getparent()
        step = _name(node)
        if parent is not None:
            same = [sibling for sibling in parent if sibling.tag == node.tag]
            if len(same) > 1:
                step += f"[{same.index(node) + 1}]"
        steps.append(step)
        node = parent
    return "/" + "/".join(reversed(steps))


def _name(node: Any) -> str:
    if not isinstance(node.tag, str):
        return "node()"
    qname = etree.QName(node)
    local = safe_name(qname.localname)
    if qname.namespace == NAMESPACE:
        return f"{PREFIX}:{local}"
    return local if qname.namespace is None else f"*:{local}"


def _issue(error: xmlschema.XMLSchemaValidationError) -> Issue:
    element = error.elem
    where = xpath(element) if element is not None and hasattr(element, "getparent") else "/"
    validator = error.validator
    if isinstance(error, xmlschema.XMLSchemaChildrenValidationError):
        return _children_issue(error, where)
    if isinstance(validator, XsdAttributeGroup):
        return _attribute_issue(validator, element, where)
    if isinstance(validator, XsdGroup):  # text in an element that holds elements only
        return Issue(where, "no text here, only elements", "structure")
    if element is not None and len(element) and getattr(validator, "type", None) is not None \
            and validator.type.has_simple_content():
        return Issue(where, "a value here, not elements", "structure")
    attribute = _ATTRIBUTE.match(error.reason or "")
    if attribute and element is not None and attribute.group(1) in element.attrib:
        where = f"{where}/@{attribute.group(1)}"
    return Issue(where, _value_message(validator), "value")


def _children_issue(error: xmlschema.XMLSchemaChildrenValidationError, where: str) -> Issue:
    element = error.elem
    expected = [f"{PREFIX}:{etree.QName(e.name).localname}" for e in error.expected or ()
                if getattr(e, "name", None)]
    hint = f"; expected {' or '.join(expected)}" if expected else ""
    index = error.index
    if element is not None and index < len(element):
        child = element[index]
        if not isinstance(child.tag, str):
            return Issue(where, "no text or other nodes here, only elements", "structure")
        known = {e.name for e in error.validator.iter_elements()} \
            if isinstance(error.validator, XsdGroup) else set()
        if not expected or child.tag not in known:
            return Issue(xpath(child), f"element not allowed here{hint}", "structure")
        if any(e.name in {c.tag for c in element} for e in error.expected or ()):
            return Issue(xpath(child), f"element out of its order{hint}", "structure")
    if expected:
        return Issue(f"{where}/{expected[0]}", f"required element is missing{hint}",
                     "required")
    return Issue(where, "the element's content is not complete", "required")


def _attribute_issue(group: XsdAttributeGroup, element: Any, where: str) -> Issue:
    allowed = {etree.QName(name).localname: attribute for name, attribute in group.items()
               if name is not None}
    for name in element.attrib if element is not None else ():
        local = etree.QName(name).localname
        if local not in allowed or etree.QName(name).namespace is not None:
            return Issue(f"{where}/@{safe_name(local)}", "attribute not allowed here",
                         "structure")
    for local, attribute in allowed.items():
        if attribute.use == "required" and element is not None and local not in element.attrib:
            return Issue(f"{where}/@{local}", "required attribute is missing", "required")
    return Issue(where, "the element's attributes do not fit the schema", "structure")


def _value_message(validator: Any) -> str:
    simple = getattr(validator, "parent", None) if validator is not None else None
    for candidate in (validator, simple):
        name = getattr(candidate, "name", None)
        if not name:
            continue
        qname = etree.QName(name)
        if qname.namespace == BASE_NAMESPACE:
            enumeration = getattr(candidate, "enumeration", None)
            if enumeration:
                return f"not one of the codes of bs:{qname.localname}: " + \
                    ", ".join(str(code) for code in enumeration)
            return TYPE_MESSAGES.get(qname.localname, f"not a valid bs:{qname.localname}")
        if qname.namespace == "http://www.w3.org/2001/XMLSchema":
            return f"not a valid xs:{qname.localname}"
    return "the value does not fit the schema"


def _unique(issues: list[Issue]) -> list[Issue]:
    """One issue per place: a value may fail its base type and its pattern both."""
    first: dict[str, Issue] = {}
    for issue in issues:
        first.setdefault(issue.expression, issue)
    return list(first.values())


def _bad(expression: str, message: str, code: str) -> InvalidMessage:
    return InvalidMessage([Issue(expression, message, code)], status=BAD_REQUEST)
