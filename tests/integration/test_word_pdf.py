"""The Word exports as another program sees them: LibreOffice (headless) converts the
quotes report, a transcript and the codebook to PDF, and the PDF text holds the
expected quotes, attributions and headings in order; the headings are real Heading
styles, so they become the PDF's bookmarks.

LibreOffice (Debian libreoffice-writer-nogui) and pdftotext (poppler-utils) are
installed by .ci/run: a missing soffice fails the test rather than skipping it. The
PDF text is read with pdftotext when it is there, and always with the small reader
below too, so both agree on the order.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from analysis.exports import word
from study.folder import create_study
from tests.unit.test_word_export import EXPECTED, TRANSCRIPTS, build_small_study

pytestmark = pytest.mark.slow
CONVERT_TIMEOUT = 180


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        pytest.fail("LibreOffice is missing: install the Debian package "
                    "libreoffice-writer-nogui (.ci/run installs it in CI); the Word export "
                    "tests convert the documents to PDF with `soffice --headless`.")
    return found


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three exports of the small study, converted to PDF in one LibreOffice run
    with a private profile (never the user's)."""
    exe = soffice()
    base = tmp_path_factory.mktemp("word-pdf")
    with create_study(base / "Small", name="Small study") as study:
        small = build_small_study(study.store)
        docs = [word.quotes_report(study.store, base / "report.docx"),
                word.transcript_docx(study.store, small.interviews["MHCC-1"],
                                     base / "transcript.docx"),
                word.codebook_docx(study.store, base / "codebook.docx")]
    out = base / "pdf"
    result = subprocess.run(
        [exe, f"-env:UserInstallation={(base / 'profile').as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(out), *map(str, docs)],
        capture_output=True, text=True, timeout=CONVERT_TIMEOUT, check=False, cwd=base)
    found = {p.stem: p for p in out.glob("*.pdf")} if out.exists() else {}
    assert result.returncode == 0 and len(found) == 3, (
        f"soffice failed ({result.returncode}): {result.stdout[-1500:]} {result.stderr[-1500:]}")
    return found


def texts(pdf: Path) -> Iterator[tuple[str, str]]:
    """(reader, text) by each reader available: pdftotext, and always our own."""
    if shutil.which("pdftotext"):
        result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"],
                                capture_output=True, timeout=60, check=True)
        yield "pdftotext", result.stdout.decode("utf-8")
    yield "built-in reader", pdf_text(pdf.read_bytes())


def squeeze(text: str) -> str:
    """Text without any white space: line breaks and spacing differ between readers."""
    return "".join(text.split())


def assert_in_order(text: str, expected: list[str], reader: str) -> None:
    flat, at = squeeze(text), 0
    for item in expected:
        found = flat.find(squeeze(item), at)
        assert found >= 0, f"{reader}: {item!r} missing, or out of order, after {at}"
        at = found + len(squeeze(item))


def test_quotes_report_pdf_has_the_quotes_in_order(pdfs: dict[str, Path]) -> None:
    expected = ["Participants by group", "CFSW", "CFSW-1, P5", "MHCC", "Figure 1:"]
    for theme, code, quotes in EXPECTED:
        if theme not in expected:
            expected.append(theme)
        expected.append(code)
        for quote, credit in quotes:
            expected += [quote, credit]
    for reader, text in texts(pdfs["report"]):
        assert_in_order(text, expected, reader)
        assert "Who did you trust most" not in text  # the interviewer is not quoted


def test_quotes_report_headings_become_pdf_bookmarks(pdfs: dict[str, Path]) -> None:
    assert pdf_outline(pdfs["report"].read_bytes()) == [
        (0, "Participants by group"),
        (0, "Themes by group"),
        (0, "Doors that open and close"),
        (1, "Access to services"),
        (1, "Access to services › Waiting lists"),
        (0, "Being heard"),
        (1, "Trust"),
        (0, word.UNTHEMED),
        (1, "Humour"),
    ]


def test_transcript_and_codebook_pdfs(pdfs: dict[str, Path]) -> None:
    _, _, turns = TRANSCRIPTS[0]
    label = {"I": "Interviewer", "P": "MHCC-1"}
    lines = [f"[{word.clock(ms)}] {label[who]}: {text}" for who, ms, text in turns]
    for reader, text in texts(pdfs["transcript"]):
        assert_in_order(text, ["Interview 1", "Participant: MHCC-1 (MHCC)", *lines], reader)
    for reader, text in texts(pdfs["codebook"]):
        assert_in_order(text, ["Small study: codebook", "Codes", "Access to services",
                               "Waiting lists", "Trust", "Humour", "Themes",
                               "Doors that open and close", "Being heard"], reader)


# --- a small PDF text reader -------------------------------------------------------------------
# Enough for LibreOffice's own output: Flate streams, simple fonts with ToUnicode CMaps,
# text shown with Tj/TJ. Not a general PDF parser.

_OBJ = re.compile(rb"(\d+)\s+0\s+obj\b")
_REF = rb"\s+(\d+)\s+0\s+R"
_TEXT_OP = re.compile(
    rb"/([^\s/\[\]<>()]+)\s+[-\d.]+\s+Tf"  # font
    rb"|\[((?:<[0-9A-Fa-f\s]*>|\((?:\\.|[^\\)])*\)|[^\]])*)\]\s*TJ"  # array of strings
    rb"|(<[0-9A-Fa-f\s]*>|\((?:\\.|[^\\)])*\))\s*(?:Tj|'|\")"  # one string
    rb"|\b(ET)\b")
_STRING = re.compile(rb"<([0-9A-Fa-f\s]*)>|\(((?:\\.|[^\\)])*)\)")


def _objects(data: bytes) -> dict[int, tuple[bytes, bytes]]:
    """Object number -> (dictionary text, decoded stream or b"")."""
    objects: dict[int, tuple[bytes, bytes]] = {}
    at = 0
    while (m := _OBJ.search(data, at)) is not None:
        end = data.find(b"endobj", m.end())
        stream_at = data.find(b"stream", m.end(), end if end >= 0 else None)
        if stream_at < 0:
            objects[int(m.group(1))] = (data[m.end():end], b"")
            at = end
            continue
        head = data[m.end():stream_at]
        start = stream_at + len(b"stream")
        start += 2 if data[start:start + 2] == b"\r\n" else 1
        stop = data.find(b"endstream", start)
        raw = data[start:stop]
        if b"/FlateDecode" in head:
            raw = zlib.decompressobj().decompress(raw)
        objects[int(m.group(1))] = (head, raw)
        at = data.find(b"endobj", stop)
    return objects


def _ref(head: bytes, key: bytes) -> int | None:
    m = re.search(rb"/" + key + _REF, head)
    return int(m.group(1)) if m else None


def _cmap(text: bytes) -> tuple[int, dict[bytes, str]]:
    """A ToUnicode CMap: code length in bytes, and code -> text."""
    space = re.search(rb"begincodespacerange\s*<([0-9A-Fa-f]+)>", text)
    width = len(space.group(1)) // 2 if space else 1
    table: dict[bytes, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            table[bytes.fromhex(src.decode())] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(
                rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]+>|\[[^\]]*\])", block):
            first, last = int(lo, 16), int(hi, 16)
            targets = re.findall(rb"<([0-9A-Fa-f]+)>", dst)
            for n, code in enumerate(range(first, last + 1)):
                key = code.to_bytes(width, "big")
                if dst.startswith(b"["):
                    if n < len(targets):
                        table[key] = bytes.fromhex(targets[n].decode()).decode("utf-16-be")
                else:
                    base = int(targets[0], 16) + n
                    table[key] = chr(base)
    return width, table


def _fonts(objects: dict[int, tuple[bytes, bytes]], resources: bytes
           ) -> dict[bytes, tuple[int, dict[bytes, str]]]:
    ref = _ref(resources, b"Font")
    fonts_dict = objects[ref][0] if ref is not None else (
        re.search(rb"/Font\s*<<(.*?)>>", resources, re.S) or re.search(rb"()", b"")).group(1)
    fonts = {}
    for name, number in re.findall(rb"/([^\s/<>\[\]]+)" + _REF, fonts_dict):
        unicode_ref = _ref(objects[int(number)][0], b"ToUnicode")
        fonts[name] = _cmap(objects[unicode_ref][1]) if unicode_ref else (1, {})
    return fonts


def _decode(string: bytes, font: tuple[int, dict[bytes, str]]) -> str:
    m = _STRING.fullmatch(string.strip())
    if m is None:
        return ""
    width, table = font
    if m.group(1) is not None:
        raw = bytes.fromhex(m.group(1).decode().replace(" ", "").replace("\n", ""))
    else:
        raw = re.sub(rb"\\(.)", rb"\1", m.group(2))
    if not table:
        return raw.decode("latin-1")
    return "".join(table.get(raw[i:i + width], "") for i in range(0, len(raw), width))


def _pages(objects: dict[int, tuple[bytes, bytes]], number: int) -> Iterator[int]:
    head = objects[number][0]
    if re.search(rb"/Type\s*/Pages\b", head):
        kids = re.search(rb"/Kids\s*\[([^\]]*)\]", head)
        for kid in re.findall(rb"(\d+)\s+0\s+R", kids.group(1) if kids else b""):
            yield from _pages(objects, int(kid))
    else:
        yield number


def _catalog(objects: dict[int, tuple[bytes, bytes]]) -> bytes:
    return next(h for h, _ in objects.values() if re.search(rb"/Type\s*/Catalog\b", h))


def pdf_text(data: bytes) -> str:
    """The text of every page in content-stream order, a line per text object."""
    objects = _objects(data)
    root = _ref(_catalog(objects), b"Pages")
    assert root is not None
    out: list[str] = []
    for page in _pages(objects, root):
        head = objects[page][0]
        resources_ref = _ref(head, b"Resources")
        fonts = _fonts(objects, objects[resources_ref][0] if resources_ref else head)
        contents = re.search(rb"/Contents\s*(\[[^\]]*\]|\d+\s+0\s+R)", head)
        font: tuple[int, dict[bytes, str]] = (1, {})
        for number in re.findall(rb"(\d+)\s+0\s+R", contents.group(1) if contents else b""):
            for m in _TEXT_OP.finditer(objects[int(number)][1]):
                if m.group(1) is not None:
                    font = fonts.get(m.group(1), (1, {}))
                elif m.group(2) is not None:
                    out += [_decode(s.group(0), font) for s in _STRING.finditer(m.group(2))]
                elif m.group(3) is not None:
                    out.append(_decode(m.group(3), font))
                else:
                    out.append("\n")
    return "".join(out)


def pdf_outline(data: bytes) -> list[tuple[int, str]]:
    """The bookmarks, depth first, as (level, title)."""
    objects = _objects(data)
    top = _ref(_catalog(objects), b"Outlines")
    found: list[tuple[int, str]] = []

    def walk(number: int | None, level: int) -> None:
        while number is not None:
            head = objects[number][0]
            title = re.search(rb"/Title\s*<([0-9A-Fa-f]+)>", head)
            if title:
                raw = bytes.fromhex(title.group(1).decode())
                found.append((level, raw[2:].decode("utf-16-be") if raw[:2] == b"\xfe\xff"
                              else raw.decode("latin-1")))
            walk(_ref(head, b"First"), level + 1)
            number = _ref(head, b"Next")

    if top is not None:
        walk(_ref(objects[top][0], b"First"), 0)
    return found
