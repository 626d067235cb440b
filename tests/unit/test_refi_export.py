"""REFI-QDA export: the demo study as a .qdpx and a .qdc that validate against the
official schemas, with texts, offsets and sync points another program can rely on."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from analysis.leak_check import LeakError
from analysis.refi import ExchangeError, export_qdc, export_qdpx
from analysis.refi.export import source_text
from study.demo import build_demo_study
from study.folder import Study, file_sha256
from study.identifiers import term_hash, word_count
from study.model import (
    Code,
    Identifier,
    Interview,
    JournalEntry,
    Memo,
    MemoTarget,
    Segment,
    Speaker,
)

NS = {"q": "urn:QDA-XML:project:1.0"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Study]:
    study = build_demo_study(tmp_path_factory.mktemp("demo") / "Demo")
    yield study
    study.close()


def schema(fixtures_dir: Path, name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(fixtures_dir / "refi" / name)))


def project_of(path: Path) -> tuple[etree._Element, dict[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    return etree.fromstring(members["project.qde"]), members


def assert_valid(xsd: etree.XMLSchema, root: etree._Element) -> None:
    assert xsd.validate(root), "\n".join(str(e) for e in xsd.error_log)


def source_texts(root: etree._Element, members: dict[str, bytes]) -> dict[str, str]:
    """Each TextSource's name -> its plain text, read through its internal:// path."""
    texts = {}
    for ts in root.iterfind(".//q:TextSource", NS):
        path = ts.get("plainTextPath")
        assert path.startswith("internal://")
        texts[ts.get("name")] = members["sources/" + path.removeprefix("internal://")].decode()
    return texts


def test_demo_export_validates_against_project_xsd(demo: Study, tmp_path: Path,
                                                   fixtures_dir: Path) -> None:
    report = export_qdpx(demo, tmp_path / "demo.qdpx", user_name="A. Researcher")
    root, members = project_of(tmp_path / "demo.qdpx")
    assert_valid(schema(fixtures_dir, "Project.xsd"), root)
    store = demo.store
    assert report.path == tmp_path / "demo.qdpx"
    assert report.counts["codes"] == len(store.codes()) == 12
    assert report.counts["participants"] == len(store.participants()) == 7
    assert report.counts["interviews"] == 7
    assert report.counts["codings"] == len(store.codings()) == 29
    assert report.counts["themes"] == len(store.themes())
    assert report.counts["memos"] == len(store.memos())
    assert report.counts["journal entries"] == len(store.journal())
    assert report.counts["media"] == 0
    assert root.get("name") == store.study_info().name
    assert root.find("q:Description", NS).text == store.study_info().description
    assert [u.get("name") for u in root.iterfind("q:Users/q:User", NS)] == ["A. Researcher"]
    assert not root.findall(".//q:AudioSource", NS)
    assert sorted(members) == sorted(
        ["project.qde"] + [f"sources/{ts.get('guid')}.txt"
                           for ts in root.iterfind(".//q:TextSource", NS)])


def test_every_guid_is_unique_and_every_reference_resolves(demo: Study, tmp_path: Path) -> None:
    export_qdpx(demo, tmp_path / "demo.qdpx", include_media=True)
    root, _ = project_of(tmp_path / "demo.qdpx")
    guids = [el.get("guid") for el in root.iter() if el.get("guid")]
    assert len(guids) == len(set(guids))
    for attr in ("targetGUID", "originGUID", "creatingUser", "creatingUserGUID"):
        for el in root.iter():
            if el.get(attr):
                assert el.get(attr) in guids, (el.tag, attr)


def test_guids_are_stable_between_exports(demo: Study, tmp_path: Path) -> None:
    export_qdpx(demo, tmp_path / "one.qdpx")
    export_qdpx(demo, tmp_path / "two.qdpx")
    one, _ = project_of(tmp_path / "one.qdpx")
    two, _ = project_of(tmp_path / "two.qdpx")
    assert [e.get("guid") for e in one.iter()] == [e.get("guid") for e in two.iter()]


def test_hierarchy_colours_and_definitions(demo: Study, tmp_path: Path) -> None:
    export_qdpx(demo, tmp_path / "demo.qdpx")
    root, _ = project_of(tmp_path / "demo.qdpx")
    by_name = {c.get("name"): c for c in root.iterfind(".//q:Code", NS)}
    store = demo.store
    codes = {c.id: c for c in store.codes()}
    for code in codes.values():
        el = by_name[code.name]
        assert el.get("color") == code.colour
        assert el.get("isCodable") == "true"
        assert (el.findtext("q:Description", namespaces=NS) or "") == code.definition
        parent = el.getparent()
        if code.parent_id is None:
            assert etree.QName(parent).localname == "Codes"
        else:
            assert parent.get("name") == codes[code.parent_id].name


def test_cases_carry_group_and_typed_attributes(demo: Study, tmp_path: Path) -> None:
    export_qdpx(demo, tmp_path / "demo.qdpx")
    root, _ = project_of(tmp_path / "demo.qdpx")
    variables = {v.get("guid"): v for v in root.iterfind(".//q:Variable", NS)}
    kinds = {v.get("name"): v.get("typeOfVariable") for v in variables.values()}
    assert kinds == {"Group": "Text", "Role": "Text", "Years in post": "Integer",
                     "Caseload": "Integer", "Interview mode": "Text"}
    mode = next(v for v in variables.values() if v.get("name") == "Interview mode")
    assert mode.findtext("q:Description", namespaces=NS) == (
        "Choices: In person | Video call | Telephone")
    sources = {s.get("guid"): s.get("name") for s in root.iterfind(".//q:TextSource", NS)}
    for p in demo.store.participants():
        case = root.find(f".//q:Case[@name='{p.code}']", NS)
        values = {variables[v.find("q:VariableRef", NS).get("targetGUID")].get("name"):
                  v[1].text for v in case.iterfind("q:VariableValue", NS)}
        assert values["Group"] == p.group
        assert values["Years in post"] == str(p.attribute("Years in post"))
        assert values["Interview mode"] == p.attribute("Interview mode")
        assert [sources[r.get("targetGUID")] for r in case.iterfind("q:SourceRef", NS)] == [
            f"Interview with {p.code}"]


def test_source_text_is_speaker_lines_and_selections_cover_the_coded_words(
        demo: Study, tmp_path: Path) -> None:
    export_qdpx(demo, tmp_path / "demo.qdpx")
    root, members = project_of(tmp_path / "demo.qdpx")
    texts = source_texts(root, members)
    store = demo.store
    for interview in store.interviews():
        labels = {s.id: s.label for s in store.speakers(interview.id)}
        expected = "\n".join(f"{labels[s.speaker_id]}: {s.text}"
                             for s in store.segments(interview.id))
        assert texts[interview.title] == expected
    codings = {c.id: c for c in store.codings()}
    selections = root.findall(".//q:PlainTextSelection", NS)
    assert len(selections) == len(codings)
    for sel in selections:
        source = sel.getparent().get("name")
        quote = texts[source][int(sel.get("startPosition")):int(sel.get("endPosition"))]
        code_guid = sel.find("q:Coding/q:CodeRef", NS).get("targetGUID")
        code_name = root.find(f".//q:Code[@guid='{code_guid}']", NS).get("name")
        matches = [c for c in codings.values() if store.coded_text(c) == quote
                   and store.code(c.code_id).name == code_name]
        assert matches, (source, quote)


def test_memos_and_journal_become_notes_referenced_from_their_targets(
        demo: Study, tmp_path: Path) -> None:
    export_qdpx(demo, tmp_path / "demo.qdpx")
    root, _ = project_of(tmp_path / "demo.qdpx")
    notes = {n.get("guid"): n for n in root.iterfind("q:Notes/q:Note", NS)}
    store = demo.store
    texts = {n.findtext("q:PlainTextContent", namespaces=NS) for n in notes.values()}
    assert {m.text for m in store.memos()} | {e.text for e in store.journal()} == texts
    study_refs = [notes[r.get("targetGUID")] for r in root.iterfind("q:NoteRef", NS)]
    assert {n.findtext("q:PlainTextContent", namespaces=NS) for n in study_refs} == {
        m.text for m in store.memos(MemoTarget.STUDY)}
    journal = [n for n in notes.values() if n.get("name").startswith("Journal: ")]
    assert len(journal) == len(store.journal())
    for code in store.codes():
        memos = store.memos(MemoTarget.CODE, code.id)
        el = root.find(f".//q:Code[@name=\"{code.name}\"]", NS)
        refs = [notes[r.get("targetGUID")].findtext("q:PlainTextContent", namespaces=NS)
                for r in el.iterfind("q:NoteRef", NS)]
        assert refs == [m.text for m in memos]


def test_themes_are_sets_of_their_codes(demo: Study, tmp_path: Path) -> None:
    export_qdpx(demo, tmp_path / "demo.qdpx")
    root, _ = project_of(tmp_path / "demo.qdpx")
    names = {c.get("guid"): c.get("name") for c in root.iterfind(".//q:Code", NS)}
    store = demo.store
    sets = root.findall("q:Sets/q:Set", NS)
    assert [s.get("name") for s in sets] == [t.name for t in store.themes()]
    for s, theme in zip(sets, store.themes(), strict=True):
        assert s.findtext("q:Description", namespaces=NS) == theme.definition
        assert sorted(names[m.get("targetGUID")] for m in s.iterfind("q:MemberCode", NS)) == (
            sorted(store.code(c).name for c in theme.code_ids))


def test_media_is_included_with_a_transcript_synced_to_it(demo: Study, tmp_path: Path,
                                                          fixtures_dir: Path) -> None:
    report = export_qdpx(demo, tmp_path / "media.qdpx", include_media=True)
    root, members = project_of(tmp_path / "media.qdpx")
    assert_valid(schema(fixtures_dir, "Project.xsd"), root)
    assert report.counts["media"] == 1
    store = demo.store
    interview = next(i for i in store.interviews() if i.media_id is not None)
    media = store.media(interview.media_id)
    audio = root.find(".//q:AudioSource", NS)
    assert audio.get("name") == interview.title
    member = "sources/" + audio.get("path").removeprefix("internal://")
    assert members[member] == (demo.folder.media / media.filename).read_bytes()
    transcript = audio.find("q:Transcript", NS)
    text_source = root.find(f".//q:TextSource[@name='{interview.title}']", NS)
    assert transcript.get("plainTextPath") == text_source.get("plainTextPath")
    text = source_texts(root, members)[interview.title]
    points = [(int(p.get("position")), int(p.get("timeStamp")))
              for p in transcript.iterfind("q:SyncPoint", NS)]
    segments = store.segments(interview.id)
    assert len(points) == 2 * len(segments)
    for seg, (start, end) in zip(segments, zip(points[::2], points[1::2], strict=True),
                                 strict=True):
        assert (start[1], end[1]) == (seg.start_ms, seg.end_ms)
        assert text[start[0]:end[0]].endswith(seg.text)
    case = root.find(".//q:Case[@name='MHCC-1']", NS)
    refs = {r.get("targetGUID") for r in case.iterfind("q:SourceRef", NS)}
    assert refs == {text_source.get("guid"), audio.get("guid")}


def test_codebook_export_validates_against_codebook_xsd(demo: Study, tmp_path: Path,
                                                        fixtures_dir: Path) -> None:
    report = export_qdc(demo.store, tmp_path / "codes.qdc")
    root = etree.parse(str(tmp_path / "codes.qdc")).getroot()
    assert_valid(schema(fixtures_dir, "Codebook.xsd"), root)
    ns = {"c": "urn:QDA-XML:codebook:1.0"}
    assert report.counts == {"codes": 12, "themes": len(demo.store.themes())}
    assert len(root.findall(".//c:Code", ns)) == 12
    guids = {c.get("guid") for c in root.iterfind(".//c:Code", ns)}
    members = [m.get("guid") for m in root.iterfind(".//c:MemberCode", ns)]
    assert members and set(members) <= guids
    # The same GUIDs as in the project export, so other programs can match them.
    export_qdpx(demo, tmp_path / "demo.qdpx")
    project, _ = project_of(tmp_path / "demo.qdpx")
    assert guids == {c.get("guid") for c in project.iterfind(".//q:Code", NS)}


def test_an_empty_codebook_is_not_exported(study: Study, tmp_path: Path) -> None:
    with pytest.raises(ExchangeError, match="codebook is empty"):
        export_qdc(study.store, tmp_path / "codes.qdc")
    assert not (tmp_path / "codes.qdc").exists()


def test_an_empty_study_exports_a_valid_project(study: Study, tmp_path: Path,
                                                fixtures_dir: Path) -> None:
    report = export_qdpx(study, tmp_path / "empty.qdpx")
    root, members = project_of(tmp_path / "empty.qdpx")
    assert_valid(schema(fixtures_dir, "Project.xsd"), root)
    assert list(members) == ["project.qde"]
    assert set(report.counts.values()) == {0}


def _small_study(study: Study, text: str = "We rang Sarah Jones every week.") -> int:
    store = study.store
    iid = store.add_interview(Interview("First interview")).new_id("interview")
    spk = store.add_speaker(Speaker(iid, "P1")).new_id("speaker")
    store.add_segments([Segment(iid, 0, 0, 1000, text, spk),
                        Segment(iid, 1, 1000, 2000, "No speaker here.")])
    store.add_code(Code("Contact"))
    return iid


def test_an_export_with_an_original_identifier_is_refused_and_writes_nothing(
        study: Study, tmp_path: Path) -> None:
    _small_study(study)
    store = study.store
    store.add_identifier(Identifier("person", "[Name 1]", term_hash(store.salt(), "Sarah Jones"),
                                    word_count=word_count("Sarah Jones")))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(LeakError, match="Transcript of interview 1") as refused:
        export_qdpx(study, out / "out.qdpx")
    assert "Sarah" not in str(refused.value)
    assert list(out.iterdir()) == []


def test_names_memos_and_the_file_name_are_checked_too(study: Study, tmp_path: Path) -> None:
    _small_study(study, "Fine text.")
    store = study.store
    store.add_identifier(Identifier("person", "[Name 1]", term_hash(store.salt(), "Sarah Jones"),
                                    word_count=2))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(LeakError, match="file name"):
        export_qdpx(study, out / "Sarah Jones.qdpx")
    memo = store.add_memo(Memo(MemoTarget.STUDY, "Ask sarah jones again")).new_id("memo")
    with pytest.raises(LeakError, match="Text of memo on the study"):
        export_qdpx(study, out / "out.qdpx")
    store.delete_memo(memo)
    store.add_journal_entry(JournalEntry("Phoned Sarah Jones's manager"))
    with pytest.raises(LeakError, match="Journal entry"):
        export_qdpx(study, out / "out.qdpx")
    store.delete_journal_entry(store.journal()[0].id)
    store.update_study_info("Study of Sarah Jones", "")
    with pytest.raises(LeakError, match="Study name"):
        export_qdpx(study, out / "out.qdpx")
    assert list(out.iterdir()) == []


def test_a_code_name_with_an_identifier_stops_the_codebook_export(study: Study,
                                                                  tmp_path: Path) -> None:
    _small_study(study, "Fine text.")
    store = study.store
    store.add_code(Code("Calls to Sarah Jones"))
    store.add_identifier(Identifier("person", "[Name 1]", term_hash(store.salt(), "Sarah Jones"),
                                    word_count=2))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(LeakError, match="Name of code 1 of 2 in the codebook") as refused:
        export_qdc(store, out / "codes.qdc")
    assert "Sarah" not in str(refused.value)
    assert list(out.iterdir()) == []


def test_speakerless_segments_and_unsafe_characters(study: Study, tmp_path: Path,
                                                    fixtures_dir: Path) -> None:
    iid = _small_study(study, "Hello\x0bthere")
    study.store.add_memo(Memo(MemoTarget.INTERVIEW, "bell \x07 rang", iid))
    export_qdpx(study, tmp_path / "odd.qdpx")
    root, members = project_of(tmp_path / "odd.qdpx")
    assert_valid(schema(fixtures_dir, "Project.xsd"), root)
    assert source_texts(root, members)["First interview"] == (
        "P1: Hello\x0bthere\nNo speaker here.")
    assert root.findtext(".//q:Note/q:PlainTextContent", namespaces=NS) == "bell \ufffd rang"


def test_source_text_positions() -> None:
    segs = [Segment(1, 0, 0, 1, "Hi there", 7, id=10), Segment(1, 1, 1, 2, "Plain", None, id=11),
            Segment(1, 2, 2, 3, "Yes", 8, id=12)]
    text = source_text(segs, {7: "Interviewer", 8: "P-1"})
    assert text.text == "Interviewer: Hi there\nPlain\nP-1: Yes"
    assert text.position(10, 3) == len("Interviewer: Hi ")
    assert text.text[text.position(11, 0):text.position(11, 5)] == "Plain"
    assert text.text[text.position(12, 0):text.position(12, 3)] == "Yes"
    assert text.line_starts == (0, 22, 28)


def test_unwritable_target_is_a_clear_error(demo: Study, tmp_path: Path) -> None:
    with pytest.raises(ExchangeError, match="Could not write"):
        export_qdpx(demo, tmp_path / "missing folder" / "x.qdpx")


def test_media_file_missing_from_the_study_is_reported(study: Study, tmp_path: Path) -> None:
    from study.model import Media
    store = study.store
    iid = _small_study(study, "Fine text.")
    mid = store.add_media(Media("ab" * 32, "ab.ogg", "rec.ogg", 2000)).new_id("media")
    store.update_interview(Interview("First interview", media_id=mid, id=iid))
    report = export_qdpx(study, tmp_path / "x.qdpx", include_media=True)
    assert report.counts["media"] == 0
    assert any("missing" in w for w in report.warnings)
    assert file_sha256(tmp_path / "x.qdpx")
