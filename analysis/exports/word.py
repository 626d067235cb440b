"""Word exports: the quotes report, a transcript and the codebook (python-docx).

A findings section is written from the quotes report, so it must open in Word and
LibreOffice looking like a document the researcher would have made: every paragraph
carries a real style (Title, Heading 1 to 3, Quote, Caption, Table Grid, and two
character styles of our own, "Attribution" and "Speaker"), never direct formatting,
so restyling one style restyles the whole report.

Each export is built in two steps. First the whole document is laid out as plain blocks
(paragraphs of styled runs, tables, pictures with their texts); then every text in
them, and the file name, goes through the leak check, and only a clean document is
rendered and written, atomically. A refused export therefore writes nothing at all.

Speed: python-docx's `add_paragraph(style=...)` scans the whole style sheet on every
call (to tell whether the style is the default), which costs about a millisecond a
paragraph. Paragraphs are therefore added through python-docx's own oxml layer with
style ids resolved once: 1,000 quotes render in a fraction of a second.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches

from analysis.compare import PATH_SEPARATOR, Comparison, Quote, Row, compare, quotes
from analysis.exports.atomic import atomic_target
from analysis.exports.tables import check_export
from analysis.exports.transcript import _turns, clock
from study.errors import StudyError
from study.model import Code, InterviewStatus, Theme
from study.store import Store

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from matplotlib.figure import Figure

ATTRIBUTION_STYLE = "Attribution"  # character style of "(MHCC-3, 00:12:31)"
SPEAKER_STYLE = "Speaker"  # character style of a transcript line's speaker
PICTURE_WIDTH_INCHES = 6.0
PICTURE_DPI = 200
UNTHEMED = "Codes not in a theme"
# Characters XML 1.0 cannot hold (an imported transcript may carry them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPECIAL = re.compile("[\t\n\r]")


# --- the document as plain blocks -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    """Text in one character style ("" for the paragraph's own); a field run (e.g.
    "SEQ Figure \\* ARABIC") shows `text` as the field's current result."""

    text: str
    style: str = ""
    field: str = ""


@dataclass(frozen=True, slots=True)
class Paragraph:
    style: str
    runs: tuple[Run, ...]
    where: str  # where the researcher would find it, for the leak report

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    where: str
    style: str = "Table Grid"


@dataclass(frozen=True, slots=True)
class Picture:
    """A chart: rendered to PNG only once its texts (labels, legend) passed the check."""

    figure: Figure
    texts: tuple[str, ...]
    alt_text: str
    where: str


Block = Paragraph | Table | Picture


@dataclass(slots=True)
class _Layout:
    """Blocks in reading order, with helpers that keep the call sites short."""

    blocks: list[Block] = field(default_factory=list)

    def add(self, style: str, *runs: Run | str, where: str) -> None:
        """A paragraph; its texts are made XML-safe here, so the leak check sees exactly
        what is written."""
        self.blocks.append(Paragraph(style, tuple(
            Run(_clean(r.text), r.style, r.field) if isinstance(r, Run) else Run(_clean(r))
            for r in runs), where))

    def labelled(self, label: str, text: str, where: str) -> None:
        """"Definition: ..." with the label in the Strong character style."""
        self.add("Normal", Run(f"{label}: ", "Strong"), text, where=where)


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def texts_of(blocks: Iterable[Block]) -> Iterator[tuple[str, str]]:
    """Every text the blocks would write, labelled by where it would be."""
    for b in blocks:
        if isinstance(b, Paragraph):
            yield b.where, b.text
        elif isinstance(b, Table):
            for n, row in enumerate((b.header, *b.rows)):
                for name, cell in zip(b.header, row, strict=True):
                    yield f"{b.where}, row {n + 1}, {name}", cell
        else:
            yield f"{b.where}, description", b.alt_text
            for n, text in enumerate(b.texts):
                yield f"{b.where}, label {n + 1}", text


def attribution(q: Quote) -> str:
    """'(MHCC-3, 00:12:31)' when the study code already names its group, else with the
    group: '(P3, MHCC, 00:12:31)'."""
    who = q.participant_code or q.interview_title
    parts = [who]
    if q.group and not _names_group(who, q.group):
        parts.append(q.group)
    parts.append(clock(q.start_ms))
    return f"({', '.join(parts)})"


def _names_group(code: str, group: str) -> bool:
    head = code[:len(group)]
    rest = code[len(group):len(group) + 1]
    return head.casefold() == group.casefold() and (rest == "" or not rest.isalnum())


# --- the quotes report --------------------------------------------------------------------------


def quotes_report(store: Store, path: Path, *, by: str = "group", include_charts: bool = True,
                  include_interviewer: bool = False,
                  statuses: Collection[InterviewStatus] | None = None,
                  title: str | None = None, theme_ids: Collection[int] | None = None,
                  include_subcodes: bool = True) -> Path:
    """The anonymised quotes by theme, then code, each attributed "(MHCC-3, 00:12:31)";
    with a method line, participants by group and (optionally) a chart of the themes by
    group. theme_ids limits the report to those themes (and leaves out the codes in no
    theme). Raises LeakError, writing nothing, if any text holds an original identifier.
    """
    path = Path(path)
    options: dict[str, Any] = {"by": by, "include_interviewer": include_interviewer,
                               "statuses": statuses, "include_subcodes": include_subcodes}
    by_theme = compare(store, rows="themes", **options)
    by_code = compare(store, rows="codes", **options)
    codes = store.codes()
    tree = _Tree(codes)
    wanted = None if theme_ids is None else set(theme_ids)
    themes = [t for t in store.themes() if wanted is None or t.id in wanted]
    title = _clean(title or f"{store.study_info().name}: quotes by theme and code")

    layout = _Layout()
    layout.add("Title", title, where="title")
    layout.add("Normal", _method(by_theme, by), where="method")
    for n, warning in enumerate(by_theme.warnings):
        layout.add("Normal", Run("Note: ", "Strong"), warning, where=f"note {n + 1}")
    _participants_table(layout, store, by_theme)

    charted = by_theme if wanted is None else replace(
        by_theme, rows=tuple(r for r in by_theme.rows if r.id in wanted))
    figures = 0
    if include_charts and any(r.total.k for r in charted.rows):
        figures += 1
        _chart(layout, charted, figures, by)

    code_rows = {r.id: r for r in by_code.rows}
    theme_rows = {r.id: r for r in by_theme.rows}
    cache: dict[tuple[int, bool], list[Quote]] = {}

    def quotes_of(code_id: int, subcodes: bool) -> list[Quote]:
        key = (code_id, subcodes)
        if key not in cache:
            cache[key] = quotes(store, kind="code", row_id=code_id, group=None, **{
                **options, "include_subcodes": subcodes})
        return cache[key]

    for theme in themes:
        assert theme.id is not None
        _theme(layout, theme, theme_rows.get(theme.id), by_theme)
        members = tree.in_order(theme.code_ids)
        if not members:
            layout.add("Normal", "No codes in this theme yet.", where=f"theme {theme.name}")
        for code_id in members:
            owned = tree.owned_by(code_id, members) if include_subcodes else {code_id}
            found = [q for q in quotes_of(code_id, include_subcodes)
                     if q.coding.code_id in owned]
            _code(layout, tree.codes[code_id], code_rows.get(code_id), by_code, found,
                  f"theme {theme.name}", has_subcodes=bool(tree.children.get(code_id)))

    if wanted is None:
        _unthemed(layout, tree, store.themes(), include_subcodes, code_rows, by_code,
                  lambda cid: quotes_of(cid, False))

    return _write(store, path, layout.blocks, title)


def _method(c: Comparison, by: str) -> str:
    speech = ("Interviewer speech is included." if c.include_interviewer
              else "Interviewer speech is excluded.")
    interviews = ("all interviews" if c.statuses is None else "interviews that are "
                  + ", ".join(sorted(s.value for s in c.statuses)))
    n = sum(g.n for g in c.groups)
    return (f"Quotes are grouped by theme, then code, in participant and time order, each "
            f"attributed to the participant's study code (with their {by} where the code "
            f"does not show it) and the time in the recording. "
            f"Counts are participants who said at least one coded passage, of the {n} "
            f"participants heard in {interviews}, by {by} (k of n). {speech} "
            f"Exported {dt.date.today().isoformat()}.")


def _participants_table(layout: _Layout, store: Store, c: Comparison) -> None:
    code_of = {p.id: p.code for p in store.participants()}
    label = c.attribute.capitalize()
    layout.add("Heading 1", f"Participants by {c.attribute}", where="participants heading")
    layout.blocks.append(Table(
        (label, "n", "Participants"),
        tuple((_clean(g.name), str(g.n),
               _clean(", ".join(code_of.get(i, "") for i in g.participant_ids)))
              for g in c.groups),
        "participants table"))


def _chart(layout: _Layout, c: Comparison, number: int, by: str) -> None:
    from analysis import charts

    figure = charts.grouped_bars(c, charts.ChartStyle.light())
    caption = (f"Participants in each {by} who raised each theme (k of n, as a percentage "
               f"of the {by})")
    layout.add("Heading 1", f"Themes by {by}", where="chart heading")
    layout.blocks.append(Picture(figure, tuple(charts.chart_texts(figure)), _clean(caption),
                                 f"figure {number}"))
    layout.add("Caption", "Figure ", Run(str(number), field="SEQ Figure \\* ARABIC"),
               f": {caption}", where=f"figure {number} caption")


def _reach(row: Row | None, c: Comparison, *, with_subcodes: bool = False) -> str:
    """"Raised by 2 of 3 CFSW (67%) and 5 of 7 MHCC (71%) participants; 14 coded
    references." A code's counts take in its sub-codes (as the comparison does), which
    the line says, since their quotes may be under their own headings."""
    if row is None:
        return ""
    parts = [f"{cell.k} of {cell.n} {g.name} ({cell.percent:.0f}%)"
             for g, cell in zip(c.groups, row.cells, strict=True)]
    if not parts:
        return ""
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    refs = row.total.references
    also = ", sub-codes included" if with_subcodes else ""
    return (f"Raised by {joined} participants; {refs} coded reference"
            f"{'s' if refs != 1 else ''}{also}.")


def _theme(layout: _Layout, theme: Theme, row: Row | None, c: Comparison) -> None:
    where = f"theme {theme.name}"
    layout.add("Heading 1", theme.name, where=f"{where}, heading")
    if theme.definition.strip():
        layout.labelled("Definition", theme.definition.strip(), f"{where}, definition")
    layout.labelled("Status", theme.status.value, f"{where}, status")
    reach = _reach(row, c)
    if reach:
        layout.add("Normal", reach, where=f"{where}, counts")


def _code(layout: _Layout, code: Code, row: Row | None, c: Comparison, found: Sequence[Quote],
          within: str, *, has_subcodes: bool) -> None:
    label = row.label if row is not None else code.name
    where = f"{within}, code {label}"
    layout.add("Heading 2", label, where=f"{where}, heading")
    if code.definition.strip():
        layout.labelled("Definition", code.definition.strip(), f"{where}, definition")
    reach = _reach(row, c, with_subcodes=has_subcodes and c.include_subcodes)
    if reach:
        layout.add("Normal", reach, where=f"{where}, counts")
    if not found:
        layout.add("Normal", "No quotes.", where=where)
    for n, q in enumerate(found):
        credit = attribution(q)
        layout.add("Quote", q.text, " ", Run(credit, ATTRIBUTION_STYLE),
                   where=f"{where}, quote {n + 1} {credit}")


def _unthemed(layout: _Layout, tree: _Tree, themes: Sequence[Theme], include_subcodes: bool,
              code_rows: dict[int, Row], c: Comparison, own_quotes: Any) -> None:
    """Codes whose codings no theme takes in, each with its own codings only (its
    sub-codes are listed separately, or belong to a theme)."""
    covered: set[int] = set()
    for t in themes:
        for cid in t.code_ids:
            covered |= set(tree.subtree(cid)) if include_subcodes else {cid}
    left = [(cid, own_quotes(cid)) for cid in tree.order if cid not in covered]
    left = [(cid, found) for cid, found in left if found]
    if not left:
        return
    layout.add("Heading 1", UNTHEMED, where="codes not in a theme, heading")
    for cid, found in left:
        _code(layout, tree.codes[cid], code_rows.get(cid), c, found, UNTHEMED,
              has_subcodes=bool(tree.children.get(cid)))


@dataclass(slots=True)
class _Tree:
    """The codebook as a tree: depth-first order, subtrees and depths."""

    codes: dict[int, Code]
    order: list[int]
    children: dict[int | None, list[int]]

    def __init__(self, codes: Sequence[Code]) -> None:
        self.codes = {c.id: c for c in codes if c.id is not None}
        self.children = {}
        for c in codes:  # store order: position, then name
            if c.id is not None:
                parent = c.parent_id if c.parent_id in self.codes else None
                self.children.setdefault(parent, []).append(c.id)
        self.order = []
        stack = list(reversed(self.children.get(None, [])))
        while stack:
            cid = stack.pop()
            self.order.append(cid)
            stack += reversed(self.children.get(cid, []))

    def subtree(self, code_id: int) -> list[int]:
        found, stack = [], [code_id]
        while stack:
            cid = stack.pop()
            found.append(cid)
            stack += self.children.get(cid, [])
        return found

    def depth(self, code_id: int) -> int:
        depth, parent = 0, self.codes[code_id].parent_id
        while parent in self.codes:
            depth, parent = depth + 1, self.codes[parent].parent_id  # type: ignore[index]
        return depth

    def in_order(self, code_ids: Iterable[int]) -> list[int]:
        wanted = set(code_ids)
        return [cid for cid in self.order if cid in wanted]

    def owned_by(self, code_id: int, members: Collection[int]) -> set[int]:
        """The codes whose quotes go under `code_id` in a theme: its subtree, less the
        subtrees of other members below it (those have their own heading)."""
        owned: set[int] = set()
        stack = [code_id]
        while stack:
            cid = stack.pop()
            if cid != code_id and cid in members:
                continue
            owned.add(cid)
            stack += self.children.get(cid, [])
        return owned

    def path(self, code_id: int, separator: str) -> str:
        names, cid = [], code_id
        while cid in self.codes:
            names.append(self.codes[cid].name)
            cid = self.codes[cid].parent_id  # type: ignore[assignment]
        return separator.join(reversed(names))


# --- the transcript -----------------------------------------------------------------------------


def transcript_docx(store: Store, interview_id: int, path: Path) -> Path:
    """One interview as "[hh:mm:ss] Speaker: text" paragraphs (the lines of the txt
    export, analysis.exports.transcript), the speaker in the Speaker character style;
    headed by its title, participant and date."""
    path = Path(path)
    interview = store.interview(interview_id)
    participant = (store.participant(interview.participant_id)
                   if interview.participant_id is not None else None)
    layout = _Layout()
    title = _clean(interview.title)
    layout.add("Title", title, where="title")
    if participant is not None:
        who = participant.code + (f" ({participant.group})" if participant.group else "")
        layout.labelled("Participant", who, "participant")
    if interview.date is not None:
        layout.labelled("Date", interview.date.isoformat(), "date")
    if interview.duration_ms:
        layout.labelled("Duration", clock(interview.duration_ms), "duration")
    for n, (seg, speaker, text) in enumerate(_turns(store, interview_id), 1):
        stamp = f"[{clock(seg.start_ms)}] "
        where = f"line {n} ({clock(seg.start_ms)})"
        if speaker:
            layout.add("Normal", stamp, Run(speaker, SPEAKER_STYLE), f": {text}",
                       where=where)
        else:
            layout.add("Normal", stamp, text, where=where)
    return _write(store, path, layout.blocks, title)


# --- the codebook -------------------------------------------------------------------------------


def codebook_docx(store: Store, path: Path) -> Path:
    """Codes as a hierarchy (headings one level down per level) with definitions and
    coding counts, then the themes with their status, definition and member codes."""
    path = Path(path)
    tree = _Tree(store.codes())
    counts = store.coding_counts()
    themes = store.themes()
    title = _clean(f"{store.study_info().name}: codebook")
    layout = _Layout()
    layout.add("Title", title, where="title")
    layout.add("Normal", f"{len(tree.codes)} codes and {len(themes)} themes. Exported "
               f"{dt.date.today().isoformat()}.", where="summary")
    layout.add("Heading 1", "Codes", where="codes heading")
    if not tree.order:
        layout.add("Normal", "No codes yet.", where="codes")
    for cid in tree.order:
        code = tree.codes[cid]
        where = f"code {tree.path(cid, PATH_SEPARATOR)}"
        layout.add(f"Heading {min(2 + tree.depth(cid), 9)}", code.name,
                   where=f"{where}, heading")
        if code.definition.strip():
            layout.labelled("Definition", code.definition.strip(),
                            f"{where}, definition")
        own = counts.get(cid, 0)
        below = sum(counts.get(i, 0) for i in tree.subtree(cid))
        text = f"{own}" + (f" ({below} with its sub-codes)" if below != own or
                           tree.children.get(cid) else "")
        layout.labelled("Codings", text, f"{where}, codings")
    layout.add("Heading 1", "Themes", where="themes heading")
    if not themes:
        layout.add("Normal", "No themes yet.", where="themes")
    for theme in themes:
        where = f"theme {theme.name}"
        layout.add("Heading 2", theme.name, where=f"{where}, heading")
        layout.labelled("Status", theme.status.value, f"{where}, status")
        if theme.definition.strip():
            layout.labelled("Definition", theme.definition.strip(),
                            f"{where}, definition")
        members = tree.in_order(theme.code_ids)
        layout.add("Normal", Run("Codes:", "Strong") if members else "No codes yet.",
                   where=f"{where}, codes")
        for cid in members:
            layout.add("List Bullet", tree.path(cid, PATH_SEPARATOR),
                       where=f"{where}, code")
    return _write(store, path, layout.blocks, title)


# --- checking and writing -----------------------------------------------------------------------


def _write(store: Store, path: Path, blocks: Sequence[Block], title: str) -> Path:
    """Leak-check everything, then render and write atomically."""
    check_export(store, [("file name", path.name), ("document title (properties)", title),
                         *texts_of(blocks)])
    doc = render(blocks, title)
    try:
        with atomic_target(path) as temporary:
            doc.save(str(temporary))
    except OSError as e:
        raise StudyError(f"Could not write {path.name}: {e.strerror or e}.") from e
    return path


def render(blocks: Sequence[Block], title: str) -> DocxDocument:
    """The python-docx document of these blocks (nothing is checked here)."""
    doc = Document()
    _add_styles(doc)
    props = doc.core_properties
    now = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    props.title, props.author, props.last_modified_by = title, "", ""
    props.comments, props.subject, props.keywords, props.category = "", "", "", ""
    props.created, props.modified, props.revision = now, now, 1
    ids = _StyleIds(doc)
    end = doc.element.body.sectPr  # body content goes before the section properties
    for b in blocks:
        if isinstance(b, Paragraph):
            p = _element("w:p", _element("w:pPr", _element(
                "w:pStyle", val=ids.paragraph(b.style))))
            for run in b.runs:
                p.append(_run(run, ids))
            end.addprevious(p)
        elif isinstance(b, Table):
            _add_table(doc, b, ids)
        else:
            _add_picture(doc, b)
    return doc


class _StyleIds:
    """Style names to ids, looked up once each (the lookup is the slow part)."""

    def __init__(self, doc: DocxDocument) -> None:
        self.doc = doc
        self.ids: dict[tuple[str, WD_STYLE_TYPE], str] = {}

    def get(self, name: str, kind: WD_STYLE_TYPE) -> str:
        key = (name, kind)
        if key not in self.ids:
            style = self.doc.styles[name]
            if style.type != kind:
                raise ValueError(f"{name!r} is not a {kind.name.lower()} style")
            self.ids[key] = style.style_id
        return self.ids[key]

    def paragraph(self, name: str) -> str:
        return self.get(name, WD_STYLE_TYPE.PARAGRAPH)

    def character(self, name: str) -> str:
        return self.get(name, WD_STYLE_TYPE.CHARACTER)


def _add_styles(doc: DocxDocument) -> None:
    """Our two character styles, defined as styles so the researcher can restyle them."""
    styles = doc.styles
    attribution_style = styles.add_style(ATTRIBUTION_STYLE, WD_STYLE_TYPE.CHARACTER)
    attribution_style.base_style = styles["Default Paragraph Font"]
    attribution_style.font.italic = False  # the Quote style is italic; the credit is not
    attribution_style.quick_style = True
    speaker = styles.add_style(SPEAKER_STYLE, WD_STYLE_TYPE.CHARACTER)
    speaker.base_style = styles["Strong"]
    speaker.quick_style = True


def _element(tag: str, *children: Any, val: str | None = None) -> Any:
    element = OxmlElement(tag)
    if val is not None:
        element.set(qn("w:val"), val)
    for child in children:
        element.append(child)
    return element


def _run(run: Run, ids: _StyleIds) -> Any:
    """A w:r (inside a w:fldSimple for a field), built directly: python-docx's own
    run.text setter walks the text a character at a time."""
    r = _element("w:r")
    if run.style:
        r.append(_element("w:rPr", _element("w:rStyle", val=ids.character(run.style))))
    if _SPECIAL.search(run.text):
        r.text = run.text  # tabs and line breaks become w:tab and w:br
    else:
        t = _element("w:t")
        t.text = run.text
        if run.text != run.text.strip() or "  " in run.text:
            t.set(qn("xml:space"), "preserve")
        r.append(t)
    if not run.field:
        return r
    field = _element("w:fldSimple", r)
    field.set(qn("w:instr"), f" {run.field} ")
    return field


def _add_table(doc: DocxDocument, t: Table, ids: _StyleIds) -> None:
    table = doc.add_table(rows=1 + len(t.rows), cols=len(t.header))
    table.style = doc.styles[t.style]
    header = table.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # repeat on each page
    strong = ids.character("Strong")
    for cell, text in zip(header.cells, t.header, strict=True):
        r = cell.paragraphs[0]._p.add_r()
        r.style = strong
        r.text = text
    for row, values in zip(table.rows[1:], t.rows, strict=True):
        for cell, text in zip(row.cells, values, strict=True):
            cell.text = text


def _add_picture(doc: DocxDocument, picture: Picture) -> None:
    buffer = io.BytesIO()
    picture.figure.savefig(buffer, format="png", dpi=PICTURE_DPI)
    buffer.seek(0)
    shape = doc.add_picture(buffer, width=Inches(PICTURE_WIDTH_INCHES))
    shape._inline.docPr.set("descr", picture.alt_text)  # alt text, for screen readers


__all__ = ["ATTRIBUTION_STYLE", "SPEAKER_STYLE", "Paragraph", "Picture", "Run", "Table",
           "attribution", "codebook_docx", "quotes_report", "render", "texts_of",
           "transcript_docx"]
