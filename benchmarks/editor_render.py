"""Time to open a 10,000-word transcript in the editor and paint it (offscreen).

Builds a study with one interview of WORDS words in turns of about 14 words, then
measures, in one process: loading the model, laying out every row's height, and the
first paint of the window. Prints one JSON line (milliseconds).
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

VOCABULARY = (
    "we", "rang", "the", "duty", "team", "and", "nobody", "picked", "up", "so", "I", "wrote",
    "to", "the", "school", "about", "the", "plan", "for", "the", "children", "and", "the",
    "care", "coordinator", "came", "to", "the", "meeting",
)


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from gui.settings import Settings
    from study.folder import create_study
    from study.model import Interview, Segment, Speaker, SpeakerRole, Word

    words_wanted = int(os.environ.get("WORDS", "10000"))
    app = QApplication([])
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as folder:
        with create_study(Path(folder) / "Render") as study:
            store = study.store
            iid = store.add_interview(Interview("Long interview")).new_id("interview")
            speakers = [store.add_speaker(Speaker(iid, label, role)).new_id("speaker")
                        for label, role in (("Interviewer", SpeakerRole.INTERVIEWER),
                                            ("P1", SpeakerRole.PARTICIPANT))]
            segments, t, n = [], 0, 0
            while n < words_wanted:
                count = rng.randint(6, 22)
                words = tuple(Word(" " + rng.choice(VOCABULARY), t + k * 350, t + k * 350 + 300,
                                   rng.random()) for k in range(count))
                segments.append(Segment(iid, len(segments), t, t + count * 350,
                                        "".join(w.text for w in words).strip(),
                                        speakers[len(segments) % 2], words))
                t += count * 350 + 500
                n += count
            store.add_segments(segments)
            root = study.folder.root
        window = MainWindow(Settings(Path(folder) / "s.ini"))
        window.resize(1280, 800)
        window.show()
        window.open_study(root)
        window.show_section(1)
        app.processEvents()
        began = time.perf_counter()
        window.workspace.interviews.select(iid)  # type: ignore[union-attr]
        loaded = time.perf_counter()
        window.grab()
        painted = time.perf_counter()
        window.close()
    print(json.dumps({
        "benchmark": "editor_render", "words": n, "segments": len(segments),
        "load_and_layout_ms": round((loaded - began) * 1000),
        "first_paint_ms": round((painted - loaded) * 1000),
        "total_ms": round((painted - began) * 1000),
    }))


if __name__ == "__main__":
    main()
