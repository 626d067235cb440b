"""Word exports read back with python-docx: the quotes report (headings, real styles,
quotes in order with their attributions, the participants table, the chart and its
caption), the transcript and the codebook; and refusal of an export with a leak."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn

from analysis.exports import word
from analysis.leak_check import LeakError
from study.folder import Study
from study.model import (
    AttributeDef,
    AttributeType,
    Code,
    Coding,
    Interview,
    InterviewStatus,
    Participant,
    Segment,
    Speaker,
    SpeakerRole,
    Theme,
    ThemeStatus,
)
from study.store import Store

# Who said what: (participant, group, [(speaker, start ms, text)]); speaker "I" is the
# interviewer, "P" the participant.
TRANSCRIPTS = [
    ("MHCC-1", "MHCC", [
        ("I", 0, "How long did families wait for a referral?"),
        ("P", 5_000, "Honestly the waiting list was eighteen months for most families."),
        ("I", 745_000, "And how did that feel?"),
        ("P", 751_000, "It felt like we were holding the risk on our own."),
    ]),
    ("MHCC-2", "MHCC", [
        ("I", 3_720_000, "Who did you trust most?"),
        ("P", 3_723_000, "The health visitor always called back within a day."),
    ]),
    ("MHCC-10", "MHCC", [
        ("I", 0, "What kept you going?"),
        ("P", 61_000, "We laughed about the paperwork, it kept us going."),
        ("P", 95_000, "The waiting list never seemed to move at all."),
    ]),
    ("CFSW-1", "CFSW", [
        ("I", 0, "Tell me about thresholds."),
        ("P", 9_000, "Thresholds kept changing so families bounced between services."),
    ]),
    ("P5", "CFSW", [
        ("I", 0, "Who listened?"),
        ("P", 30_000, "I trusted the duty team because they listened."),
    ]),
]
# (participant, segment index, code, first words, last words): codings by their text.
CODINGS = [
    ("MHCC-1", 1, "Waiting lists", "the waiting list", "eighteen months"),
    ("MHCC-1", 2, "Access to services", "And how", None),  # question into the answer
    ("MHCC-2", 0, "Trust", "Who did", "most?"),  # interviewer speech only: left out
    ("MHCC-2", 1, "Trust", "The health", "a day."),
    ("MHCC-10", 1, "Humour", "We laughed", "paperwork"),
    ("MHCC-10", 2, "Waiting lists", "The waiting", "to move"),
    ("CFSW-1", 1, "Access to services", "Thresholds", "services."),
    ("P5", 1, "Trust", "I trusted", "listened."),
]
# The quotes the report shows, in order, under each (theme, code) heading.
EXPECTED = [
    ("Doors that open and close", "Access to services", [
        ("Thresholds kept changing so families bounced between services.",
         "(CFSW-1, 00:00:09)"),
        ("It felt like we were holding the risk on our own.", "(MHCC-1, 00:12:31)"),
    ]),
    ("Doors that open and close", "Access to services › Waiting lists", [
        ("the waiting list was eighteen months", "(MHCC-1, 00:00:05)"),
        ("The waiting list never seemed to move", "(MHCC-10, 00:01:35)"),
    ]),
    ("Being heard", "Trust", [
        ("The health visitor always called back within a day.", "(MHCC-2, 01:02:03)"),
        ("I trusted the duty team because they listened.", "(P5, CFSW, 00:00:30)"),
    ]),
    (word.UNTHEMED, "Humour", [
        ("We laughed about the paperwork", "(MHCC-10, 00:01:01)"),
    ]),
]


@dataclass(frozen=True, slots=True)
class SmallStudy:
    participants: dict[str, int]
    interviews: dict[str, int]
    codes: dict[str, int]
    themes: dict[str, int]


def build_small_study(store: Store) -> SmallStudy:
    """Five participants in two groups, one interview each, four codes (one a sub-code)
    and two themes; codings as CODINGS says."""
    participants: dict[str, int] = {}
    interviews: dict[str, int] = {}
    segments: dict[str, list[Segment]] = {}
    with store.write():
        codes = {"Access to services": store.add_code(Code(
            "Access to services", definition="How families get to a service, or not.",
            position=0)).new_id("code")}
        codes["Waiting lists"] = store.add_code(Code(
            "Waiting lists", codes["Access to services"], "Time spent waiting.")).new_id("code")
        codes["Trust"] = store.add_code(Code("Trust", position=1)).new_id("code")
        codes["Humour"] = store.add_code(Code("Humour", position=2)).new_id("code")
        for n, (who, group, turns) in enumerate(TRANSCRIPTS):
            pid = store.add_participant(Participant(who, group)).new_id("participant")
            iid = store.add_interview(Interview(
                f"Interview {n + 1}", pid, dt.date(2025, 3, 3 + n), duration_ms=4_000_000,
                status=InterviewStatus.CODED)).new_id("interview")
            voices = {"I": store.add_speaker(Speaker(iid, "Interviewer", SpeakerRole.INTERVIEWER)
                                             ).new_id("speaker"),
                      "P": store.add_speaker(Speaker(iid, who, SpeakerRole.PARTICIPANT, pid)
                                             ).new_id("speaker")}
            store.add_segments(Segment(iid, k, start, start + 4_000, text, voices[voice])
                               for k, (voice, start, text) in enumerate(turns))
            participants[who], interviews[who] = pid, iid
            segments[who] = store.segments(iid)
        for who, k, code, first, last in CODINGS:
            segs = segments[who]
            start = segs[k].text.index(first)
            if last is None:  # to the end of the next segment
                end_seg, end = segs[k + 1], len(segs[k + 1].text)
            else:
                end_seg, end = segs[k], segs[k].text.index(last) + len(last)
            store.add_coding(Coding(codes[code], interviews[who], segs[k].id, start,
                                    end_seg.id, end))
        themes = {
            "Doors that open and close": store.add_theme(Theme(
                "Doors that open and close", "How services let families in, or keep them out.",
                ThemeStatus.FINAL, (codes["Waiting lists"], codes["Access to services"]), 0,
            )).new_id("theme"),
            "Being heard": store.add_theme(Theme(
                "Being heard", "Being listened to by professionals.", ThemeStatus.REVIEWED,
                (codes["Trust"],), 1)).new_id("theme"),
        }
    return SmallStudy(participants, interviews, codes, themes)


def paragraphs(doc: DocxDocument) -> list[tuple[str, str]]:
    """(style name, text) of every body paragraph, in order."""
    return [(p.style.name if p.style is not None else "", p.text) for p in doc.paragraphs]


def report_quotes(doc: DocxDocument) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(theme, code, [(quote, attribution)]) read back from a quotes report."""
    found: list[tuple[str, str, list[tuple[str, str]]]] = []
    theme = ""
    for p in doc.paragraphs:
        style = p.style.name if p.style is not None else ""
        if style == "Heading 1":
            theme = p.text
        elif style == "Heading 2":
            found.append((theme, p.text, []))
        elif style == "Quote":
            credit = [r.text for r in p.runs if r.style is not None
                      and r.style.name == word.ATTRIBUTION_STYLE]
            assert len(credit) == 1, p.text
            found[-1][2].append((p.text[:-len(credit[0])].rstrip(), credit[0]))
    return found


@pytest.fixture
def small(study: Study) -> SmallStudy:
    return build_small_study(study.store)


def test_quotes_report_has_quotes_by_theme_and_code_in_order(
        study: Study, small: SmallStudy, tmp_path: Path) -> None:
    path = word.quotes_report(study.store, tmp_path / "report.docx", include_charts=False,
                              title="Findings")
    assert path == tmp_path / "report.docx"
    doc = Document(str(path))
    assert report_quotes(doc) == EXPECTED
    styled = paragraphs(doc)
    assert styled[0] == ("Title", "Findings")
    assert doc.core_properties.title == "Findings"
    assert doc.core_properties.author == ""
    headings = [(s, t) for s, t in styled if s.startswith("Heading")]
    assert headings == [
        ("Heading 1", "Participants by group"),
        ("Heading 1", "Doors that open and close"),
        ("Heading 2", "Access to services"),
        ("Heading 2", "Access to services › Waiting lists"),
        ("Heading 1", "Being heard"),
        ("Heading 2", "Trust"),
        ("Heading 1", word.UNTHEMED),
        ("Heading 2", "Humour"),
    ]
    texts = [t for _, t in styled]
    assert "Definition: How services let families in, or keep them out." in texts
    assert "Status: final" in texts
    assert "Definition: Time spent waiting." in texts
    # Interviewer speech is neither quoted nor counted.
    assert not any("Who did you trust" in t or "And how did" in t for t in texts)
    # Counts of the theme, and of a code with its sub-codes (groups in natural order).
    assert texts[texts.index("Status: final") + 1] == (
        "Raised by 1 of 2 CFSW (50%) and 2 of 3 MHCC (67%) participants; "
        "4 coded references.")
    assert texts[texts.index("Definition: How families get to a service, or not.") + 1] == (
        "Raised by 1 of 2 CFSW (50%) and 2 of 3 MHCC (67%) participants; "
        "4 coded references, sub-codes included.")
    assert ("Raised by 1 of 2 CFSW (50%) and 1 of 3 MHCC (33%) participants; "
            "2 coded references.") in texts
    assert "Note: CFSW has 2 participants: read its percentages with care" in texts
    method = styled[1]
    assert method[0] == "Normal" and "Interviewer speech is excluded" in method[1]
    assert dt.date.today().isoformat() in method[1]


def test_quotes_report_uses_real_styles_not_direct_formatting(
        study: Study, small: SmallStudy, tmp_path: Path) -> None:
    doc = Document(str(word.quotes_report(study.store, tmp_path / "r.docx",
                                          include_charts=False)))
    used = {s for s, _ in paragraphs(doc)}
    assert {"Title", "Heading 1", "Heading 2", "Quote", "Normal"} <= used
    for p in doc.paragraphs:
        assert p.paragraph_format.alignment is None
        for r in p.runs:  # no bold, italic, size or font set on a run itself
            assert (r.bold, r.italic, r.font.size, r.font.name) == (None, None, None, None)
    attribution = doc.styles[word.ATTRIBUTION_STYLE]
    assert attribution.type == 2 and attribution.font.italic is False  # character style
    (table,) = doc.tables
    assert table.style.name == "Table Grid"


def test_participants_table_lists_each_group(study: Study, small: SmallStudy,
                                             tmp_path: Path) -> None:
    doc = Document(str(word.quotes_report(study.store, tmp_path / "r.docx",
                                          include_charts=False)))
    (table,) = doc.tables
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows == [["Group", "n", "Participants"],
                    ["CFSW", "2", "CFSW-1, P5"],
                    ["MHCC", "3", "MHCC-1, MHCC-2, MHCC-10"]]
    header = table.rows[0]._tr
    assert header.trPr is not None and header.trPr.find(qn("w:tblHeader")) is not None


def test_chart_is_a_picture_with_a_numbered_caption(study: Study, small: SmallStudy,
                                                    tmp_path: Path) -> None:
    doc = Document(str(word.quotes_report(study.store, tmp_path / "r.docx")))
    assert len(doc.inline_shapes) == 1
    shape = doc.inline_shapes[0]
    assert 5.9 < shape.width.inches < 6.1
    descr = shape._inline.docPr.get("descr")
    captions = [p for p in doc.paragraphs if p.style.name == "Caption"]
    assert len(captions) == 1
    # The number is a SEQ field (so Word can renumber and cross-reference figures).
    caption_xml = captions[0]._p.xml
    assert "SEQ Figure" in caption_xml
    shown = "".join(t.text for t in captions[0]._p.iter(qn("w:t")))
    assert shown == f"Figure 1: {descr}"
    # The picture comes right before its caption, after the participants table.
    body = list(doc.element.body.iterchildren())
    picture_at = next(i for i, el in enumerate(body) if "graphicData" in el.xml)
    assert body[picture_at + 1] is captions[0]._p


def test_include_interviewer_quotes_the_interviewer_too(study: Study, small: SmallStudy,
                                                       tmp_path: Path) -> None:
    doc = Document(str(word.quotes_report(study.store, tmp_path / "r.docx",
                                          include_charts=False, include_interviewer=True)))
    found = dict(((t, c), q) for t, c, q in report_quotes(doc))
    assert ("Who did you trust most?", "(MHCC-2, 01:02:00)") in found[("Being heard", "Trust")]
    assert any("Interviewer speech is included" in p.text for p in doc.paragraphs)


def test_theme_ids_limit_the_report(study: Study, small: SmallStudy, tmp_path: Path) -> None:
    doc = Document(str(word.quotes_report(
        study.store, tmp_path / "r.docx", include_charts=False,
        theme_ids=[small.themes["Being heard"]])))
    assert [(t, c) for t, c, _ in report_quotes(doc)] == [("Being heard", "Trust")]


def test_by_an_attribute_groups_and_attributes_by_it(study: Study, small: SmallStudy,
                                                    tmp_path: Path) -> None:
    store = study.store
    store.add_attribute_def(AttributeDef("role", AttributeType.CHOICE, ("Nurse", "Manager")))
    for code, role in (("MHCC-2", "Manager"), ("P5", "Nurse")):
        p = store.participant(small.participants[code])
        store.update_participant(Participant(p.code, p.group, (("role", role),), p.notes, p.id))
    doc = Document(str(word.quotes_report(store, tmp_path / "r.docx", by="role")))
    rows = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert rows == [["Role", "n", "Participants"], ["Nurse", "1", "P5"],
                    ["Manager", "1", "MHCC-2"],
                    ["(not set)", "3", "CFSW-1, MHCC-1, MHCC-10"]]
    found = dict(((t, c), q) for t, c, q in report_quotes(doc))
    assert [a for _, a in found[("Being heard", "Trust")]] == [
        "(MHCC-2, Manager, 01:02:03)", "(P5, Nurse, 00:00:30)"]
    assert any(p.style.name == "Heading 1" and p.text == "Themes by role"
               for p in doc.paragraphs)


def test_statuses_filter_interviews(study: Study, small: SmallStudy, tmp_path: Path) -> None:
    store = study.store
    store.set_interview_status(small.interviews["P5"], InterviewStatus.CHECKED)
    doc = Document(str(word.quotes_report(store, tmp_path / "r.docx", include_charts=False,
                                          statuses={InterviewStatus.CODED})))
    found = dict(((t, c), q) for t, c, q in report_quotes(doc))
    assert [a for _, a in found[("Being heard", "Trust")]] == ["(MHCC-2, 01:02:03)"]
    assert any("interviews that are coded" in p.text for p in doc.paragraphs)


def test_characters_word_cannot_hold_are_dropped(study: Study, small: SmallStudy,
                                                 tmp_path: Path) -> None:
    """A transcript imported from elsewhere may carry control characters, which XML
    (and so Word) cannot hold: they are left out rather than failing the export."""
    seg = study.store.segments(small.interviews["P5"])[1]
    study.store.edit_segment_text(seg.id, "I trusted the duty\x0c team\x0b because they "
                                          "listened.")
    doc = Document(str(word.quotes_report(study.store, tmp_path / "r.docx",
                                          include_charts=False, title="Bell\x07 report")))
    found = dict(((t, c), q) for t, c, q in report_quotes(doc))
    assert found[("Being heard", "Trust")][1] == (
        "I trusted the duty team because they listened.", "(P5, CFSW, 00:00:30)")
    assert doc.paragraphs[0].text == doc.core_properties.title == "Bell report"
    doc = Document(str(word.transcript_docx(study.store, small.interviews["P5"],
                                            tmp_path / "t.docx")))
    assert "[00:00:30] P5: I trusted the duty team because they listened." in [
        p.text for p in doc.paragraphs]


def test_attribution_names_the_group_unless_the_code_does() -> None:
    from analysis.compare import Quote

    def quote(code: str, group: str, ms: int) -> Quote:
        return Quote(Coding(1, 1, 1, 0, 1, 1), 1, code, group, 1, "Interview", ms, code, "x")

    assert word.attribution(quote("MHCC-3", "MHCC", 751_000)) == "(MHCC-3, 00:12:31)"
    assert word.attribution(quote("P3", "MHCC", 3_723_000)) == "(P3, MHCC, 01:02:03)"
    assert word.attribution(quote("MHCCX", "MHCC", 0)) == "(MHCCX, MHCC, 00:00:00)"
    assert word.attribution(quote("P3", "", 0)) == "(P3, 00:00:00)"


def test_transcript_docx_lines_with_speaker_style(study: Study, small: SmallStudy,
                                                  tmp_path: Path) -> None:
    path = word.transcript_docx(study.store, small.interviews["MHCC-1"],
                                tmp_path / "MHCC-1.docx")
    doc = Document(str(path))
    styled = paragraphs(doc)
    assert styled[0] == ("Title", "Interview 1")
    texts = [t for _, t in styled]
    assert "Participant: MHCC-1 (MHCC)" in texts
    assert "Date: 2025-03-03" in texts
    lines = [t for t in texts if t.startswith("[")]
    assert lines == [
        "[00:00:00] Interviewer: How long did families wait for a referral?",
        "[00:00:05] MHCC-1: Honestly the waiting list was eighteen months for most families.",
        "[00:12:25] Interviewer: And how did that feel?",
        "[00:12:31] MHCC-1: It felt like we were holding the risk on our own.",
    ]
    for p in doc.paragraphs:
        if p.text.startswith("["):
            speaker = [r for r in p.runs if r.style is not None and r.style.name == "Speaker"]
            assert [r.text for r in speaker] == [p.text.split("] ")[1].split(":")[0]]
            assert speaker[0].bold is None  # bold comes from the style, not the run
    assert doc.styles["Speaker"].base_style.name == "Strong"


def test_codebook_docx_hierarchy_counts_and_themes(study: Study, small: SmallStudy,
                                                   tmp_path: Path) -> None:
    doc = Document(str(word.codebook_docx(study.store, tmp_path / "codebook.docx")))
    styled = paragraphs(doc)
    assert styled[0] == ("Title", "Test study: codebook")
    headings = [(s, t) for s, t in styled if s.startswith("Heading")]
    assert headings == [
        ("Heading 1", "Codes"),
        ("Heading 2", "Access to services"),
        ("Heading 3", "Waiting lists"),
        ("Heading 2", "Trust"),
        ("Heading 2", "Humour"),
        ("Heading 1", "Themes"),
        ("Heading 2", "Doors that open and close"),
        ("Heading 2", "Being heard"),
    ]
    texts = [t for _, t in styled]
    assert "Codings: 2 (4 with its sub-codes)" in texts
    assert "Codings: 3" in texts  # Trust, the interviewer's coding included
    assert "Definition: How families get to a service, or not." in texts
    bullets = [t for s, t in styled if s == "List Bullet"]
    assert bullets == ["Access to services", "Access to services › Waiting lists", "Trust"]


# --- leaks -------------------------------------------------------------------------------------


def _leaky(store: Store, small: SmallStudy) -> None:
    """Put an original name in P5's quote and register it."""
    seg = store.segments(small.interviews["P5"])[1]
    store.edit_segment_text(seg.id, "I trusted Sarah Jones on the duty team because they "
                                    "listened.")
    store.register_identifier("Sarah Jones", "person")


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_leak_in_a_quote_refuses_the_export_and_writes_nothing(
        study: Study, small: SmallStudy, tmp_path: Path) -> None:
    _leaky(study.store, small)
    out = tmp_path / "out"
    out.mkdir()
    for export in (lambda p: word.quotes_report(study.store, p),
                   lambda p: word.transcript_docx(study.store, small.interviews["P5"], p)):
        with pytest.raises(LeakError) as refused:
            export(out / "report.docx")
        assert _files(out) == []
        assert any("quote" in r.location or "line" in r.location
                   for r in refused.value.reports)
        assert "Sarah" not in str(refused.value)


def test_a_refused_export_leaves_an_earlier_file_alone(study: Study, small: SmallStudy,
                                                       tmp_path: Path) -> None:
    path = word.quotes_report(study.store, tmp_path / "report.docx", include_charts=False)
    before = path.read_bytes()
    _leaky(study.store, small)
    with pytest.raises(LeakError):
        word.quotes_report(study.store, path, include_charts=False)
    assert path.read_bytes() == before
    assert _files(tmp_path) == ["Test study.verbatim", "report.docx"]


def test_leaks_in_names_definitions_and_the_file_name_are_refused(
        study: Study, small: SmallStudy, tmp_path: Path) -> None:
    store = study.store
    store.register_identifier("Riverside", "place")
    with pytest.raises(LeakError) as refused:
        word.quotes_report(store, tmp_path / "Riverside report.docx")
    assert [r.location for r in refused.value.reports] == ["file name"]
    theme = store.theme(small.themes["Being heard"])
    store.update_theme(Theme(theme.name, "Heard at Riverside.", theme.status, theme.code_ids,
                             theme.position, id=theme.id))
    for export in (lambda p: word.quotes_report(store, p),
                   lambda p: word.codebook_docx(store, p)):
        with pytest.raises(LeakError) as refused:
            export(tmp_path / "report.docx")
        assert any("definition" in r.location for r in refused.value.reports)
    code = store.code(small.codes["Humour"])
    store.update_code(Code("Riverside humour", code.parent_id, code.definition, code.colour,
                           code.position, code.id))
    with pytest.raises(LeakError) as refused:
        word.quotes_report(store, tmp_path / "report.docx", include_charts=False)
    assert any("heading" in r.location for r in refused.value.reports)
    assert "Riverside" not in str(refused.value)  # nor in the places it names
    assert not (tmp_path / "report.docx").exists()


def test_leak_in_a_chart_label_is_refused(study: Study, small: SmallStudy,
                                          tmp_path: Path) -> None:
    store = study.store
    participant = store.participant(small.participants["P5"])
    for pid in (small.participants["P5"], small.participants["CFSW-1"]):
        p = store.participant(pid)
        store.update_participant(Participant(p.code, "Riverside", p.attributes, p.notes, p.id))
    store.register_identifier("Riverside", "place")
    with pytest.raises(LeakError) as refused:
        word.quotes_report(store, tmp_path / "report.docx")
    assert any(r.location.startswith("figure 1") for r in refused.value.reports)
    assert participant.code == "P5"
    assert _files(tmp_path) == ["Test study.verbatim"]


# --- speed -------------------------------------------------------------------------------------


def test_render_of_a_thousand_quotes_is_fast() -> None:
    """The python-docx part alone: 1,000 quotes under 20 codes (the 5 s budget is for
    the whole export on the 100-interview study; see benchmarks/report.py)."""
    blocks: list[word.Block] = []
    for n in range(1000):
        if n % 50 == 0:
            blocks.append(word.Paragraph("Heading 2", (word.Run(f"Code {n}"),), "h"))
        blocks.append(word.Paragraph("Quote", (
            word.Run("We rang the duty team again and again, and nobody called back. " * 3),
            word.Run(" "), word.Run("(MHCC-3, 00:12:31)", word.ATTRIBUTION_STYLE)), "q"))
    began = time.perf_counter()
    doc = word.render(blocks, "Speed")
    elapsed = time.perf_counter() - began
    assert sum(1 for p in doc.paragraphs if p.style.name == "Quote") == 1000
    assert elapsed < 1.5, f"rendering 1,000 quotes took {elapsed:.2f} s"
