"""REFI-QDA codebooks (.qdc): the codes alone, to share a coding frame between studies
and programs.

A .qdc is one XML file in the codebook namespace: the nested Codes with colours and
definitions, and Sets of codes (Verbatim's themes). Codes keep the GUIDs they have in
the study's .qdpx export, so a program can match the two. Import adds everything as new
codes and candidate themes, names de-duplicated with " (imported)", in one transaction.
"""

from __future__ import annotations

from pathlib import Path

from analysis.exports.atomic import write_atomic
from analysis.refi.export import ExportReport, code_parts, ensure_clean, theme_parts
from analysis.refi.import_ import ImportReport, Skips, write_codes, write_sets
from analysis.refi.qde_read import CODEBOOK_NS, read_codebook
from analysis.refi.qde_write import (
    ORIGIN,
    Builder,
    code_tree,
    guid_maker,
    write_code_elements,
    xml_bytes,
)
from analysis.refi.safe_archive import ExchangeError, parse_untrusted_xml
from study.errors import StudyError
from study.store import Store

MAX_CODEBOOK_BYTES = 64 * 1024**2  # a codebook of many thousand codes is a few MB


def export_qdc(store: Store, path: Path) -> ExportReport:
    """Write the codebook and themes to `path` as a .qdc; refused (no file written) when
    there are no codes or a text would carry an original identifier."""
    path = Path(path)
    codes = store.codes()
    if not codes:
        raise ExchangeError("The codebook is empty: add codes before exporting it.")
    guid = guid_maker(store.salt())
    b = Builder(CODEBOOK_NS)
    root = b.root("CodeBook", origin=ORIGIN)
    parts = code_parts(codes)
    count = write_code_elements(b, b.add(root, "Codes"), code_tree(codes), guid)
    themes = store.themes()
    parts += theme_parts(themes)
    if themes:
        sets = b.add(root, "Sets")
        for t in themes:
            el = b.add(sets, "Set", guid=guid(f"theme:{t.id}"), name=t.name)
            if t.definition:
                b.add(el, "Description", t.definition)
            for code_id in t.code_ids:
                b.add(el, "MemberCode", guid=guid(f"code:{code_id}"))
    ensure_clean(store, path, parts)
    try:
        write_atomic(path, xml_bytes(root))
    except OSError as e:
        raise ExchangeError(f"Could not write {path}: {e.strerror or e}.") from e
    store.audit("REFI-QDA codebook exported", path=str(path), codes=count, themes=len(themes))
    return ExportReport({"codes": count, "themes": len(themes)}, path)


def import_qdc(store: Store, path: Path) -> ImportReport:
    """Add a .qdc's codes and sets (as candidate themes) to the study, in one transaction.
    Raises ExchangeError, with the study untouched, for a file that is not a codebook."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_CODEBOOK_BYTES:
            raise ExchangeError(f"{path.name} is {size // 1024**2} MB, far larger than any "
                                "codebook; it was refused. Nothing was imported.")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExchangeError(f"There is no file at {path}. Nothing was imported.") from None
    except OSError as e:
        raise ExchangeError(f"{path.name} could not be read ({e.strerror or e}). "
                            "Nothing was imported.") from None
    root = parse_untrusted_xml(data, path.name)
    try:
        codes, sets = read_codebook(root)
    except ValueError as e:
        raise ExchangeError(f"{path.name} is not a REFI-QDA codebook: {e}. "
                            "Nothing was imported.") from None
    if not codes:
        raise ExchangeError(f"{path.name} holds no codes. Nothing was imported.")
    skips = Skips()
    try:
        with store.write():
            before = len(store.codes())
            code_ids = write_codes(store, codes, skips)
            added = len(store.codes()) - before
            theme_ids = write_sets(store, sets, code_ids, skips)
            store.audit("REFI-QDA codebook imported", name=path.name, codes=added,
                        themes=len(theme_ids))
    except ExchangeError:
        raise
    except StudyError as e:
        raise ExchangeError(f"The import of {path.name} stopped: {e} Nothing was "
                            "imported.") from e
    return ImportReport({"codes": added, "themes": len(theme_ids)}, list(skips.lines))


__all__ = ["export_qdc", "import_qdc"]
