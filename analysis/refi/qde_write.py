"""Writing REFI-QDA XML: stable GUIDs, schema-shaped elements, the .qdpx zip.

GUIDs are derived from the study's salt and each object's kind and id (UUID 5), so
exporting the same study twice gives the same GUIDs and another program can tell an
updated export from a new project, while two studies never share one. The salt is
hashed first, so no GUID reveals it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
import zipfile
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path

from lxml import etree

from analysis.exports.atomic import atomic_target
from study.model import Code

ORIGIN = "Verbatim 0.1"
# Characters XML 1.0 cannot carry, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def guid_maker(salt: str) -> Callable[[str], str]:
    """A function from an object key (e.g. "code:12") to its GUID, stable per study."""
    namespace = uuid.UUID(bytes=hashlib.sha256(
        b"verbatim refi-qda guid namespace\x00" + salt.encode("utf-8")).digest()[:16])
    return lambda key: str(uuid.uuid5(namespace, key))


def xml_safe(text: str) -> str:
    """Text with the few characters XML cannot hold replaced, so the export never fails
    on a stray control character pasted into a memo."""
    return _NOT_XML.sub("\ufffd", text)


def xml_datetime(value: dt.datetime | None) -> str | None:
    """xsd:dateTime in UTC with a Z, which every REFI-QDA reader accepts."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def xml_decimal(value: float) -> str:
    """xsd:decimal has no exponent: 1e-07 must be written 0.0000001."""
    text = format(Decimal(repr(float(value))), "f")
    return text[:-2] if text.endswith(".0") else text


class Builder:
    """Makes elements in one namespace, dropping attributes whose value is None."""

    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def root(self, tag: str, **attrs: str | None) -> etree._Element:
        el = etree.Element(f"{{{self.ns}}}{tag}", nsmap={None: self.ns})
        self._set(el, attrs)
        return el

    def add(self, parent: etree._Element, tag: str, text: str | None = None,
            **attrs: str | None) -> etree._Element:
        el = etree.SubElement(parent, f"{{{self.ns}}}{tag}")
        self._set(el, attrs)
        if text is not None:
            el.text = xml_safe(text)
        return el

    def holder(self, parent: etree._Element, tag: str) -> Callable[[], etree._Element]:
        """A container made only when its first child needs it: the schema wants lists
        such as Cases to hold at least one element or be left out."""
        made: list[etree._Element] = []

        def get() -> etree._Element:
            if not made:
                made.append(self.add(parent, tag))
            return made[0]
        return get

    @staticmethod
    def _set(el: etree._Element, attrs: dict[str, str | None]) -> None:
        for key, value in attrs.items():
            if value is not None:
                el.set(key, xml_safe(value))


def code_tree(codes: Iterable[Code]) -> dict[int | None, list[Code]]:
    """Codes by parent id, each level in codebook order."""
    tree: dict[int | None, list[Code]] = {}
    for c in sorted(codes, key=lambda c: (c.position, c.name.casefold(), c.id or 0)):
        tree.setdefault(c.parent_id, []).append(c)
    return tree


def write_code_elements(b: Builder, parent: etree._Element, tree: dict[int | None, list[Code]],
                guid: Callable[[str], str], *, note_refs: dict[int, list[str]] | None = None,
                under: int | None = None) -> int:
    """Write the codes under `under` (all of them from the top), nested as in the
    codebook; returns how many were written."""
    count = 0
    for c in tree.get(under, []):
        assert c.id is not None
        el = b.add(parent, "Code", guid=guid(f"code:{c.id}"), name=c.name, isCodable="true",
                   color=c.colour.lower())
        if c.definition:
            b.add(el, "Description", c.definition)
        for ref in (note_refs or {}).get(c.id, []):
            b.add(el, "NoteRef", targetGUID=ref)
        count += 1 + write_code_elements(b, el, tree, guid, note_refs=note_refs, under=c.id)
    return count


def xml_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", standalone=True,
                          pretty_print=True)


def write_archive(path: Path, members: Iterable[tuple[str, bytes | Path]]) -> None:
    """Write the .qdpx atomically: the file appears complete or not at all. Text and XML
    are deflated; media, already compressed, is stored as it is."""
    with atomic_target(path) as temporary, zipfile.ZipFile(temporary, "w") as zf:
        for name, payload in members:
            if isinstance(payload, Path):
                zf.write(payload, name, compress_type=zipfile.ZIP_STORED)
            else:
                zf.writestr(name, payload, compress_type=zipfile.ZIP_DEFLATED)


__all__ = ["ORIGIN", "Builder", "code_tree", "guid_maker", "write_archive", "write_code_elements",
           "xml_bytes", "xml_datetime", "xml_decimal", "xml_safe"]
