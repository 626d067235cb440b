"""Anonymisation in the GUI: register a name and see it proposed, find identifiers in a
thread (with and without the language model), review by keyboard with undo and redo,
always and never, the indirect-identifier walk, the replacement scheme, then apply
(with and without a passphrase, the key beside the study) and reverse."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from gui.anonymisation_model import (
    Occurrence,
    Term,
    TermsModel,
    context_of,
    indirect_terms,
    sentence_initial,
)
from gui.anonymisation_view import AnonymisationView
from gui.apply_dialog import ApplyDialog
from gui.identifier_dialog import IdentifierDialog, SchemeDialog, bracketed, preview
from gui.main_window import MainWindow
from study.folder import rolling_backup
from study.identifiers import normalise
from study.model import (
    Category,
    Code,
    Coding,
    Decision,
    IdentifierRule,
    Interview,
    Segment,
    Speaker,
    SpeakerRole,
)
from study.store import Store
from study.store.key_file import KeyFile
from tests.gui.helpers import focus

TEXTS = [
    "Thanks for coming in. Can you tell me about your caseload?",
    "Sure. I work with Sarah Jones at the Leeds office, and Sarah's son Tom comes to the "
    "group on Tuesdays.",
    "How long have you been there?",
    "About 12 years. My manager, Mr. Patel, started the Harehills project with Sarah Jones.",
]


@pytest.fixture
def view(window: MainWindow, tmp_path: Path, qtbot: QtBot) -> AnonymisationView:
    """The page over a small study, wired as the main window wires its pages."""
    assert window.new_study(tmp_path / "Anon")
    study = window.study
    assert study is not None and window.workspace is not None
    store = study.store
    iid = store.add_interview(Interview("Interview with MHCC-1")).new_id("interview")
    me = store.add_speaker(Speaker(iid, "Interviewer", SpeakerRole.INTERVIEWER)).new_id("speaker")
    them = store.add_speaker(Speaker(iid, "MHCC-1", SpeakerRole.PARTICIPANT)).new_id("speaker")
    store.add_segments([Segment(iid, n, n * 5000, n * 5000 + 4000, t, me if n % 2 == 0 else them)
                        for n, t in enumerate(TEXTS)])
    ws = window.workspace
    page = AnonymisationView(study, ws.runner, window.undo_stack)
    page.use_ner = False
    ws.signals.changed.connect(page.on_changed)
    for receiver in (ws.interviews.model.on_changed, ws.coding.on_changed):
        page.study_changed.connect(receiver)
    ws.pages.addWidget(page)
    ws.pages.setCurrentWidget(page)
    qtbot.waitUntil(page.isVisible)
    return page


def store_of(view: AnonymisationView) -> Store:
    return view.store


def texts(view: AnonymisationView) -> list[str]:
    store = store_of(view)
    return [s.text for i in store.interviews() if i.id is not None for s in store.segments(i.id)]


def term(view: AnonymisationView, original: str) -> Term:
    found = view.review.model.term_by_key(normalise(original))
    assert found is not None, [t.original for t in view.review.model.terms()]
    return found


def detect(qtbot: QtBot, view: AnonymisationView, timeout: int = 10_000) -> None:
    view.detect_action.trigger()
    assert view.detecting()
    qtbot.waitUntil(lambda: not view.detecting(), timeout=timeout)


def decisions(view: AnonymisationView) -> list[tuple[str, Decision]]:
    store = store_of(view)
    segs = {s.id: s.text for i in store.interviews() if i.id is not None
            for s in store.segments(i.id)}
    return sorted((segs[d.segment_id][d.start_offset:d.end_offset], d.decision)
                  for d in store.decisions())


def same_as_read_afresh(view: AnonymisationView) -> bool:
    """The page's terms, kept up to date piece by piece, are what a fresh read gives."""
    fresh = TermsModel(store_of(view))
    return sorted(view.review.model.terms(), key=lambda t: t.key) == \
        sorted(fresh.terms(), key=lambda t: t.key)


def fill_register_dialog(qtbot: QtBot, dialog: IdentifierDialog, original: str,
                         category: Category) -> None:
    dialog.original.setText(original)
    dialog.category.setCurrentIndex(dialog.category.findData(category.value))


def ok(dialog: IdentifierDialog | SchemeDialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


# --- registering -----------------------------------------------------------------------------


def test_register_a_name_proposes_every_occurrence_and_undo_takes_it_back(
        qtbot: QtBot, view: AnonymisationView, window: MainWindow) -> None:
    view.register_action.trigger()
    dialog = view.dialog
    assert isinstance(dialog, IdentifierDialog)
    fill_register_dialog(qtbot, dialog, "Sarah Jones", Category.PERSON)
    assert dialog.replacement.text() == "[Name 1]"
    ok(dialog)
    assert not dialog.isVisible()
    sarah = term(view, "Sarah Jones")
    assert sarah.identifier is not None and sarah.replacement == "[Name 1]"
    assert len(sarah.occurrences) == 2  # both places, linked to the registry entry
    assert {c.identifier_id for c in store_of(view).candidates(identifier_id=sarah.identifier.id)
            } == {sarah.identifier.id}
    assert term(view, "Sarah").identifier is None  # "Sarah's" on its own, to review
    assert view.review.current_term() == sarah
    assert window.undo_stack.undoText() == "Register “Sarah Jones”"
    window.undo_stack.undo()
    assert store_of(view).identifiers() == []
    assert store_of(view).candidates() == []
    window.undo_stack.redo()
    assert len(term(view, "Sarah Jones").occurrences) == 2


def test_a_refused_registration_keeps_the_dialog_open(qtbot: QtBot,
                                                      view: AnonymisationView) -> None:
    dialog = view.register_dialog("Leeds", Category.PLACE.value)
    ok(dialog)
    again = view.register_dialog("LEEDS", Category.PLACE.value)
    ok(again)
    assert again.isVisible()
    assert "already registered" in again.error.text()
    again.replacement.setText("Leeds office")  # bracketed on submit, but names the original
    ok(again)
    assert again.isVisible()
    again.reject()


def test_the_replacement_follows_category_and_attributes_until_typed(
        view: AnonymisationView) -> None:
    dialog = view.register_dialog("Tom")
    assert dialog.replacement.text() == "[Name 1]"
    dialog.category.setCurrentIndex(dialog.category.findData(Category.FAMILY.value))
    assert dialog.replacement.text() == "[Family member 1]"
    dialog.relation.setText("son")
    assert dialog.replacement.text() == "[Participant's son]"
    dialog.replacement.setText("[Her boy]")
    dialog.replacement.textEdited.emit("[Her boy]")
    dialog.relation.setText("eldest son")
    assert dialog.replacement.text() == "[Her boy]"
    dialog.suggest_button.click()
    assert dialog.replacement.text() == "[Participant's eldest son]"
    dialog.rule.setCurrentIndex(dialog.rule.findData(IdentifierRule.ALWAYS.value))
    ok(dialog)
    (ident,) = store_of(view).identifiers()
    assert (ident.category, ident.replacement, dict(ident.attributes), ident.rule) == (
        "family", "[Participant's eldest son]", {"relation": "eldest son"},
        IdentifierRule.ALWAYS)
    assert bracketed(" Social  worker ") == "[Social worker]"


def test_editing_a_term_changes_its_replacement_in_one_undo_step(
        qtbot: QtBot, view: AnonymisationView, window: MainWindow) -> None:
    ok(view.register_dialog("Patel", Category.COLLEAGUE.value))
    assert view.review.select_term("patel")
    focus(qtbot, view.review.terms)
    qtbot.keyClick(view.review.terms, Qt.Key.Key_F2)
    dialog = view.dialog
    assert isinstance(dialog, IdentifierDialog)
    assert dialog.original.isReadOnly() and dialog.original.text() == "Patel"
    assert dialog.replacement.text() == "[Colleague 1]"
    dialog.category.setCurrentIndex(dialog.category.findData(Category.ROLE.value))
    assert dialog.replacement.text() == "[Colleague 1]"  # an existing one is kept
    dialog.replacement.setText("[Social worker]")
    ok(dialog)
    assert term(view, "Patel").replacement == "[Social worker]"
    assert term(view, "Patel").category == "role"
    window.undo_stack.undo()
    assert term(view, "Patel").replacement == "[Colleague 1]"
    window.undo_stack.redo()
    assert term(view, "Patel").replacement == "[Social worker]"


# --- detection -------------------------------------------------------------------------------


def test_find_identifiers_runs_in_a_thread_and_fills_the_review(
        qtbot: QtBot, view: AnonymisationView, window: MainWindow) -> None:
    messages: list[str] = []
    view.message.connect(messages.append)
    store_of(view).register_identifier("Sarah Jones", "person")
    store_of(view).register_identifier("Leeds", "place")
    detect(qtbot, view)
    assert not view.busy.isVisible()
    assert {t.original for t in view.review.model.terms()} >= {"Sarah Jones", "Leeds", "Sarah"}
    assert len(term(view, "Sarah Jones").occurrences) == 2
    assert messages[-1].startswith("Found ")
    assert view.review.current_term() is not None
    assert not window.undo_stack.count()  # detection only suggests: nothing to undo


@pytest.mark.slow
def test_find_identifiers_with_the_language_model(qtbot: QtBot,
                                                  view: AnonymisationView) -> None:
    view.use_ner = True
    detect(qtbot, view, timeout=120_000)
    found = {c.text: c.source for c in store_of(view).candidates()}
    assert found.get("Sarah Jones") == "ner"
    assert {"Patel", "Harehills"} <= found.keys()


def test_finding_identifiers_can_be_cancelled(qtbot: QtBot, view: AnonymisationView,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import analysis.anonymise.detect as detect_module

    started = threading.Event()

    def slow(store: object, *, use_ner: bool = True,
             progress: Callable[[int, int], None] | None = None,
             cancelled: Callable[[], bool] | None = None) -> list[object]:
        assert progress is not None and cancelled is not None
        progress(1, 4)
        started.set()
        stop = getattr(cancelled, "__self__", None)  # the view's cancel event
        assert isinstance(stop, threading.Event)
        stop.wait(10)
        raise detect_module.DetectionCancelled()

    monkeypatch.setattr(detect_module, "detect_study", slow)
    messages: list[str] = []
    view.message.connect(messages.append)
    view.detect_action.trigger()
    qtbot.waitUntil(lambda: view.progress.maximum() == 4)
    assert view.busy.isVisible() and view.progress.value() == 1
    assert not view.detect_action.isEnabled()
    view.cancel_button.click()
    qtbot.waitUntil(lambda: not view.detecting())
    assert not view.busy.isVisible()
    assert "Stopped" in messages[-1]
    assert view.detect_action.isEnabled()


# --- review ----------------------------------------------------------------------------------


@pytest.fixture
def detected(qtbot: QtBot, view: AnonymisationView) -> AnonymisationView:
    """Detection without the model: a registered name, glossary places found and
    proposed, and a name part of the registered name found on its own."""
    store = store_of(view)
    store.register_identifier("Sarah Jones", "person")
    store.add_glossary_term("Leeds")
    store.add_glossary_term("Harehills")
    detect(qtbot, view)
    return view


def test_review_with_the_keyboard_moves_to_the_next_undecided(
        qtbot: QtBot, detected: AnonymisationView, window: MainWindow) -> None:
    view = detected
    assert view.review.select_term("sarah jones")
    focus(qtbot, view.review.occurrences)
    assert view.review.current_row() == 0
    first = view.review.occurrences_model.place(0)
    assert "Sarah Jones" in first.context[0]
    assert first.interview_title == "Interview with MHCC-1"
    qtbot.keyClick(view.review.occurrences, Qt.Key.Key_A)
    assert decisions(view) == [("Sarah Jones", Decision.ACCEPT)]
    assert view.review.current_row() == 1  # the next undecided place of the term
    qtbot.keyClick(view.review.occurrences, Qt.Key.Key_R)
    assert decisions(view) == [("Sarah Jones", Decision.ACCEPT), ("Sarah Jones", Decision.REJECT)]
    assert term(view, "Sarah Jones").undecided == 0
    moved_to = view.review.current_term()
    assert moved_to is not None and moved_to.key != "sarah jones" and moved_to.undecided
    assert window.undo_stack.undoText() == "Keep “Sarah Jones”"
    assert same_as_read_afresh(view)
    window.undo_stack.undo()
    assert decisions(view) == [("Sarah Jones", Decision.ACCEPT)]
    assert same_as_read_afresh(view)
    window.undo_stack.redo()
    assert term(view, "Sarah Jones").undecided == 0
    assert same_as_read_afresh(view)
    # Up and A: change one's mind about the first place; one step again.
    assert view.review.select_term("sarah jones")
    focus(qtbot, view.review.occurrences)
    view.review.select_row(1)
    qtbot.keyClick(view.review.occurrences, Qt.Key.Key_Up)
    qtbot.keyClick(view.review.occurrences, Qt.Key.Key_R)
    assert decisions(view) == [("Sarah Jones", Decision.REJECT)] * 2
    window.undo_stack.undo()
    assert decisions(view) == [("Sarah Jones", Decision.ACCEPT), ("Sarah Jones", Decision.REJECT)]
    assert same_as_read_afresh(view)
    # Return shows the place in its transcript.
    place = view.review.occurrences_model.place(view.review.current_row())
    with qtbot.waitSignal(view.open_place) as shown:
        qtbot.keyClick(view.review.occurrences, Qt.Key.Key_Return)
    o = place.occurrence
    assert shown.args == [place.interview_id, o.segment_id, o.start, o.end]


def test_accepting_a_detected_term_registers_it_and_undo_removes_both(
        qtbot: QtBot, detected: AnonymisationView, window: MainWindow) -> None:
    view = detected
    assert term(view, "Leeds").identifier is None
    shown = term(view, "Leeds").replacement  # a glossary term: category "other" until edited
    assert re.fullmatch(r"\[Redacted \d+\]", shown)
    assert view.review.select_term("leeds")
    focus(qtbot, view.review.occurrences)
    qtbot.keyClick(view.review.occurrences, Qt.Key.Key_A)
    leeds = term(view, "Leeds")
    assert leeds.identifier is not None and leeds.replacement == shown  # as it was shown
    assert leeds.accepted == 1
    window.undo_stack.undo()
    assert term(view, "Leeds").identifier is None
    assert decisions(view) == []


def test_accept_all_is_one_step(qtbot: QtBot, detected: AnonymisationView,
                                window: MainWindow) -> None:
    view = detected
    assert view.review.select_term("sarah jones")
    focus(qtbot, view.review.terms)
    qtbot.keyClick(view.review.terms, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)
    assert decisions(view) == [("Sarah Jones", Decision.ACCEPT)] * 2
    assert window.undo_stack.undoText() == "Replace 2 occurrences of “Sarah Jones”"
    window.undo_stack.undo()
    assert decisions(view) == []


def test_always_and_never_rule_a_term_everywhere(qtbot: QtBot, detected: AnonymisationView,
                                                 window: MainWindow) -> None:
    view = detected
    assert view.review.select_term("sarah jones")
    focus(qtbot, view.review.terms)
    qtbot.keyClick(view.review.terms, Qt.Key.Key_W)
    sarah = term(view, "Sarah Jones")
    assert sarah.rule is IdentifierRule.ALWAYS and sarah.undecided == 0 and sarah.accepted == 2
    assert view.review.occurrences_model.place(0).ruled
    assert view.review.select_term("tuesdays") is False  # not a candidate
    assert view.review.select_term("harehills") or view.review.select_term("leeds")
    chosen = view.review.current_term()
    assert chosen is not None and chosen.identifier is None
    qtbot.keyClick(view.review.terms, Qt.Key.Key_N)
    ruled_out = term(view, chosen.original)
    assert ruled_out.identifier is not None and ruled_out.rule is IdentifierRule.NEVER
    assert ruled_out.rejected == len(ruled_out.occurrences)
    window.undo_stack.undo()
    assert term(view, chosen.original).identifier is None
    window.undo_stack.undo()
    assert term(view, "Sarah Jones").rule is IdentifierRule.ASK


def test_filters_show_one_category_and_undecided_only(qtbot: QtBot,
                                                      detected: AnonymisationView) -> None:
    view = detected
    all_terms = len(view.review.visible_terms())
    view.review.category.setCurrentIndex(view.review.category.findData("person"))
    assert {t.category for t in view.review.visible_terms()} == {"person"}
    view.review.category.setCurrentIndex(0)
    assert len(view.review.visible_terms()) == all_terms
    view.review.undecided_only.setChecked(True)
    assert view.review.select_term("sarah jones")
    view.accept_all()
    assert "sarah jones" not in [t.key for t in view.review.visible_terms()]


# --- the indirect-identifier walk ------------------------------------------------------------


def test_the_walk_shows_unflagged_words_one_at_a_time(qtbot: QtBot,
                                                      detected: AnonymisationView,
                                                      window: MainWindow) -> None:
    view = detected
    walk = view.walk
    view.tabs.setCurrentWidget(walk)
    qtbot.waitUntil(lambda: walk.loaded)
    words = [t.text for t in walk.items]
    assert "Tuesdays" in words and "12" in words
    assert not {"Sure", "About", "How", "Mr", "I", "Thanks"} & set(words)  # sentence starts
    total = len(words)
    assert walk.progress.text() == f"1 of {total}"
    focus(qtbot, walk)
    first = walk.current()
    assert first is not None
    qtbot.keyClick(walk, Qt.Key.Key_N)  # fine: registered as never, not shown again
    assert term(view, first.text).rule is IdentifierRule.NEVER
    assert walk.progress.text() == f"2 of {total}"
    qtbot.keyClick(walk, Qt.Key.Key_Left)
    assert walk.progress.text() == f"2 of {total}"  # nothing open before it
    window.undo_stack.undo()
    assert view.review.model.term_by_key(first.key) is None
    # I: the register dialog, prefilled; registering proposes every occurrence.
    second = walk.current()
    assert second is not None
    qtbot.keyClick(walk, Qt.Key.Key_I)
    dialog = view.dialog
    assert isinstance(dialog, IdentifierDialog)
    assert dialog.original.text() == second.text
    dialog.category.setCurrentIndex(dialog.category.findData(Category.AGE.value))
    ok(dialog)
    registered = term(view, second.text)
    assert registered.identifier is not None and registered.category == "age"
    assert len(registered.occurrences) == len(second.places)
    third = walk.current()
    assert third is not None and third != second
    for _ in range(total):
        if walk.current() is None:
            break
        qtbot.keyClick(walk, Qt.Key.Key_Space)
    assert walk.current() is None
    assert walk.progress.text().startswith("End of the walk")
    qtbot.keyClick(walk, Qt.Key.Key_Left)
    assert walk.current() is not None and walk.position == total - 1


def test_walk_terms_skip_sentence_starts_titles_and_covered_words() -> None:
    text = "Well, I met Mr. Smith in Leeds. Then we went to 12 Abbey Road. “Sarah said so.”"
    seg = Segment(1, 0, 0, 0, text, id=7)
    abbey = text.index("Abbey")
    found = indirect_terms([seg], [(7, abbey, abbey + 10)], {"leeds"})
    assert [(t.text, t.is_number) for t in found] == [("Smith", False), ("12", True)]
    assert sentence_initial(text, text.index("Then"))
    assert sentence_initial(text, text.index("Sarah"))
    assert not sentence_initial(text, text.index("Smith"))
    snippet, start, end = context_of(text, text.index("Leeds"), text.index("Leeds") + 5)
    assert snippet == "Well, I met Mr. Smith in Leeds." and snippet[start:end] == "Leeds"
    assert Term("x", "x", "person", occurrences=(Occurrence(1, 0, 1, "x"),)).undecided == 1


# --- the replacement scheme ------------------------------------------------------------------


def test_the_scheme_is_editable_with_a_preview_and_undoable(
        qtbot: QtBot, view: AnonymisationView, window: MainWindow) -> None:
    view.scheme_action.trigger()
    dialog = view.dialog
    assert isinstance(dialog, SchemeDialog)
    dialog.set_template("place", "[London borough {n}]")
    row = next(r for r in range(dialog.table.rowCount())
               if dialog.table.item(r, 0).data(Qt.ItemDataRole.UserRole) == "place")
    assert dialog.table.item(row, 2).text() == "[London borough 1]"
    dialog.set_template("person", "Name {n}")
    assert dialog.table.item(0, 2).text().startswith("⚠")
    ok(dialog)
    assert dialog.isVisible() and "Person" in dialog.error.text()
    dialog.set_template("person", "[Name {n}]")
    ok(dialog)
    assert not dialog.isVisible()
    assert store_of(view).replacement_scheme()["place"] == "[London borough {n}]"
    assert store_of(view).suggest_replacement("place") == "[London borough 1]"
    window.undo_stack.undo()
    assert store_of(view).replacement_scheme()["place"] == "[Place {n}]"
    window.undo_stack.redo()
    assert store_of(view).suggest_replacement("place") == "[London borough 1]"
    assert preview("[Participant's {relation}]") == "[Participant's son]"


# --- apply and reverse -----------------------------------------------------------------------


def accept_sarah_and_leeds(qtbot: QtBot, view: AnonymisationView) -> None:
    assert view.review.select_term("sarah jones")
    view.accept_all()
    ok(view.register_dialog("Leeds", Category.PLACE.value))  # the glossary's find is linked
    assert view.review.select_term("leeds")
    view.accept_all()


def open_apply(qtbot: QtBot, view: AnonymisationView) -> ApplyDialog:
    view.apply_action.trigger()
    dialog = view.dialog
    assert isinstance(dialog, ApplyDialog)
    assert not dialog.apply_button.isEnabled()  # until the plan is worked out (a thread)
    qtbot.waitUntil(lambda: dialog.plan is not None)
    assert dialog.apply_button.isEnabled()
    return dialog


def test_apply_without_a_passphrase_then_reverse(qtbot: QtBot, detected: AnonymisationView,
                                                 window: MainWindow) -> None:
    view = detected
    store = store_of(view)
    iid = store.interviews()[0].id
    assert iid is not None
    seg = store.segments(iid)[1]
    start = seg.text.index("Leeds")
    store.add_code(Code("Place"))
    code_id = store.codes()[0].id
    assert code_id is not None
    store.add_coding(Coding(code_id, iid, seg.id or 0, start, seg.id or 0, start + 12))
    accept_sarah_and_leeds(qtbot, view)
    assert window.undo_stack.count() == 3
    asked: list[str] = []
    view.ask = lambda title, question: asked.append(title) is None  # says yes, noted
    rolling_backup(store, window.study.folder)  # type: ignore[union-attr]
    dialog = open_apply(qtbot, view)
    summary = dialog.plan.summary
    assert summary.replacements == 3 and summary.segments == 2
    assert dict(summary.by_category) == {"person": 2, "place": 1}
    assert dialog.warning.isVisible() and "undecided" in dialog.warning.text()
    key = window.study.folder.key_file  # type: ignore[union-attr]
    assert dialog.key_path.text() == str(key)
    assert key.parent != window.study.folder.root  # type: ignore[union-attr]
    assert "originals leave the study" in dialog.statement.text()
    dialog.apply_button.click()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=20_000)
    assert key.exists() and not KeyFile.is_sealed(key)
    after = texts(view)
    assert "I work with [Name 1] at the [Place 1] office" in after[1]
    assert "Sarah Jones" not in " ".join(after) and "Leeds" not in " ".join(after)
    assert store.originals() == {}
    (coding,) = store.codings()
    assert store.coded_text(coding) == "[Place 1] office"
    assert window.undo_stack.count() == 0  # cleared: its steps named text that is gone
    assert asked == ["Delete old backups?"]
    assert not list(window.study.folder.backups.glob("study-*.sqlite"))  # type: ignore[union-attr]
    assert "Replaced 3 occurrences in 2 segments" in dialog.report.text()
    assert dialog.apply_button.isHidden()
    assert "applied" in view.status.text()
    assert view.reverse_action.isEnabled()
    applied = [t for t in view.review.model.terms() if t.identifier is not None]
    assert applied and not any(t.held for t in applied)  # originals are in the key file
    view.review.select_term(applied[0].key)
    assert not view.always_action.isEnabled() and not view.edit_action.isEnabled()
    dialog.reject()
    # Reverse: confirmed, no passphrase needed, originals back.
    informed: list[str] = []
    view.inform = lambda title, text: informed.append(text)
    assert view.reverse()
    qtbot.waitUntil(lambda: bool(informed), timeout=20_000)
    assert texts(view) == TEXTS
    assert store.coded_text(store.codings()[0]) == "Leeds office"
    assert informed[0].startswith("Put back 3 originals")
    assert term(view, "Sarah Jones").accepted == 2  # the review is back too
    assert not view.reverse_action.isEnabled()


def test_apply_with_a_passphrase_and_reverse_with_it(
        qtbot: QtBot, detected: AnonymisationView, window: MainWindow,
        errors: list[tuple[str, str]]) -> None:
    view = detected
    accept_sarah_and_leeds(qtbot, view)
    dialog = open_apply(qtbot, view)
    dialog.protect.setChecked(True)
    dialog.passphrase.setText("correct horse")
    dialog.confirm.setText("correct hose")
    dialog.apply_button.click()
    assert dialog.result is None and not dialog.running
    assert "do not match" in dialog.error.text()
    dialog.key_path.setText(str(window.study.folder.root / "inside.key"))  # type: ignore[union-attr]
    dialog.confirm.setText("correct horse")
    dialog.apply_button.click()
    assert "inside the study folder" in dialog.error.text()
    key = window.study.folder.key_file  # type: ignore[union-attr]
    dialog.key_path.setText(str(key))
    dialog.apply_button.click()
    assert dialog.running
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=20_000)
    assert KeyFile.is_sealed(key)
    assert "protected by your passphrase" in dialog.report.text()
    assert "[Name 1]" in texts(view)[3]
    dialog.reject()
    # A wrong passphrase is refused and the study stays anonymised.
    view.ask = lambda _title, _question: True
    view.ask_passphrase = lambda _title, _prompt: "wrong"
    assert view.reverse()
    qtbot.waitUntil(lambda: bool(errors), timeout=20_000)
    assert errors[-1][0] == "Could not reverse the anonymisation"
    assert "The study is unchanged." in errors[-1][1]
    assert store_of(view).is_anonymised()
    view.ask_passphrase = lambda _title, _prompt: "correct horse"
    informed: list[str] = []
    view.inform = lambda _title, text: informed.append(text)
    assert view.reverse()
    qtbot.waitUntil(lambda: bool(informed), timeout=20_000)
    assert texts(view) == TEXTS


def test_a_failed_apply_says_the_study_is_unchanged(
        qtbot: QtBot, detected: AnonymisationView, window: MainWindow, tmp_path: Path,
        errors: list[tuple[str, str]]) -> None:
    view = detected
    accept_sarah_and_leeds(qtbot, view)
    key = tmp_path / "other.key"
    key.write_bytes(b"not a key file at all")
    dialog = open_apply(qtbot, view)
    dialog.key_path.setText(str(key))
    dialog.apply_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=20_000)
    assert dialog.result is None
    assert errors and errors[-1][0] == "Could not apply the anonymisation"
    assert "The study is unchanged." in errors[-1][1]
    assert "The study is unchanged." in dialog.error.text()
    assert texts(view) == TEXTS
    assert window.undo_stack.count() == 3  # nothing was applied: the review can be undone
    assert dialog.apply_button.isEnabled()
    dialog.reject()


def test_closing_the_apply_dialog_before_the_plan_is_ready(
        qtbot: QtBot, detected: AnonymisationView, window: MainWindow) -> None:
    view = detected
    view.apply_action.trigger()
    dialog = view.dialog
    assert isinstance(dialog, ApplyDialog)
    dialog.reject()
    qtbot.waitUntil(lambda: not window.workspace.runner.busy_tasks())  # type: ignore[union-attr]
    assert view.dialog is None or view.dialog is not dialog


def test_reverse_asks_first_and_refuses_when_nothing_is_applied(
        view: AnonymisationView, errors: list[tuple[str, str]]) -> None:
    assert not view.reverse()
    assert errors[-1][0] == "Nothing to reverse"


def test_every_action_has_a_shortcut(view: AnonymisationView) -> None:
    actions = [*view.page_actions, *view.review_actions, *view.walk_actions]
    assert all(not a.shortcut().isEmpty() for a in actions)
    window_wide = {a.shortcut().toString() for a in view.window().findChildren(type(actions[0]))
                   if a.shortcutContext() == Qt.ShortcutContext.WindowShortcut}
    assert not {a.shortcut().toString() for a in view.page_actions} & window_wide


def test_each_detected_term_shows_its_own_replacement(detected: AnonymisationView) -> None:
    """Suggestions are numbered down the list: no two terms show "[Name 1]"."""
    numbered = [t.replacement for t in detected.review.model.terms()
                if t.identifier is None and re.search(r"\d", t.replacement)]
    assert len(numbered) >= 2
    assert len(set(numbered)) == len(numbered)
