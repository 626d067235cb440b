#!/usr/bin/env python3
"""Synthesise the demo recording for MHCC-1 and re-time its transcript.

Reads transcripts/MHCC-1.txt (one turn per line, ``[hh:mm:ss.mmm] Speaker: text``),
speaks every turn with espeak-ng (one voice for the interviewer, another for the
participant), resamples each turn to 16 kHz mono with sox, joins the turns with
short pauses, encodes the result as Ogg Opus with PyAV (Ogg Vorbis as a fallback)
to audio/MHCC-1.ogg, and rewrites the transcript so that every turn carries the
real start time of its speech in the recording.

Run from anywhere:

    /work/main/.venv/bin/python resources/demo/make_demo_audio.py

Needs the ``espeak-ng`` and ``sox`` programs on PATH and the Python packages
``av`` (PyAV) and ``numpy``. The output depends only on the transcript text, so
running the script again gives the same audio and the same timestamps.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

HERE = Path(__file__).resolve().parent
TRANSCRIPT = HERE / "transcripts" / "MHCC-1.txt"
AUDIO = HERE / "audio" / "MHCC-1.ogg"

PARTICIPANT = "MHCC-1"
VOICES = {
    "Interviewer": "en-gb",       # espeak-ng's default British male voice
    PARTICIPANT: "en-gb+f3",      # the same language with a female variant
}
PITCH = {"Interviewer": "45", PARTICIPANT: "55"}
WORDS_PER_MINUTE = 160

SAMPLE_RATE = 16000
LEAD_IN_S = 0.5
PAUSE_S = 0.7
SILENCE_THRESHOLD = 200   # |sample| below this (int16) counts as silence when trimming
EDGE_PAD_S = 0.02         # keep a little of the natural onset/decay of each turn
OPUS_BITRATE = 24000
VORBIS_QUALITY = 2

LINE_RE = re.compile(r"^\[(\d{2}):(\d{2}):(\d{2})\.(\d{3})\] ([^:]+): (.*)$")


def parse_transcript(path: Path) -> list[tuple[str, str]]:
    turns = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        match = LINE_RE.match(line)
        if not match:
            sys.exit(f"{path}:{number}: not in '[hh:mm:ss.mmm] Speaker: text' form")
        speaker, text = match.group(5), match.group(6).strip()
        if speaker not in VOICES:
            sys.exit(f"{path}:{number}: unexpected speaker {speaker!r}")
        turns.append((speaker, text))
    return turns


def synthesise(speaker: str, text: str, workdir: Path, index: int) -> np.ndarray:
    """Speak one turn; return 16 kHz mono int16 samples with silence trimmed."""
    raw = workdir / f"turn{index:02d}_raw.wav"
    resampled = workdir / f"turn{index:02d}.wav"
    subprocess.run(
        ["espeak-ng", "-v", VOICES[speaker], "-s", str(WORDS_PER_MINUTE),
         "-p", PITCH[speaker], "-w", str(raw), "--", text],
        check=True,
    )
    # -D: no dither, so the output is bit-for-bit repeatable; a little
    # headroom keeps the resampler from clipping espeak-ng's loudest peaks.
    subprocess.run(
        ["sox", "-D", str(raw), "-b", "16", str(resampled),
         "gain", "-1", "rate", str(SAMPLE_RATE), "channels", "1"],
        check=True,
    )
    with wave.open(str(resampled), "rb") as wav:
        assert wav.getframerate() == SAMPLE_RATE and wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").copy()
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) >= SILENCE_THRESHOLD)
    if loud.size == 0:
        sys.exit(f"espeak-ng produced silence for turn {index + 1}")
    pad = int(EDGE_PAD_S * SAMPLE_RATE)
    start = max(0, int(loud[0]) - pad)
    end = min(samples.size, int(loud[-1]) + 1 + pad)
    return samples[start:end]


def encode_ogg(samples: np.ndarray, path: Path) -> str:
    """Encode int16 mono samples to Ogg; return the codec name used."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for codec in ("libopus", "libvorbis"):
        if codec not in av.codecs_available:
            continue
        tmp = path.with_suffix(".tmp.ogg")
        # bitexact: fixed Ogg serial numbers and no version tags, so reruns are identical.
        with av.open(str(tmp), "w", format="ogg", options={"fflags": "+bitexact"}) as out:
            stream = out.add_stream(codec, rate=SAMPLE_RATE)
            stream.layout = "mono"
            stream.codec_context.flags |= av.codec.context.Flags.bitexact
            if codec == "libopus":
                stream.bit_rate = OPUS_BITRATE
                stream.codec_context.options = {"application": "voip"}
                sample_format = "s16"
            else:
                stream.codec_context.qscale = VORBIS_QUALITY
                sample_format = "fltp"
            chunk = 16000
            pts = 0
            for first in range(0, samples.size, chunk):
                block = samples[first:first + chunk]
                if sample_format == "s16":
                    frame = av.AudioFrame.from_ndarray(
                        block.reshape(1, -1), format="s16", layout="mono")
                else:
                    data = (block.astype(np.float32) / 32768.0).reshape(1, -1)
                    frame = av.AudioFrame.from_ndarray(data, format="fltp", layout="mono")
                frame.sample_rate = SAMPLE_RATE
                frame.pts = pts
                frame.time_base = Fraction(1, SAMPLE_RATE)
                pts += block.size
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        tmp.replace(path)
        return codec
    sys.exit("PyAV has neither libopus nor libvorbis; cannot encode Ogg audio")


def timestamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"[{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}]"


def main() -> None:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found on PATH (apt-get install espeak-ng sox)")
    turns = parse_transcript(TRANSCRIPT)

    pieces = [np.zeros(int(LEAD_IN_S * SAMPLE_RATE), dtype=np.int16)]
    position = pieces[0].size
    pause = np.zeros(int(PAUSE_S * SAMPLE_RATE), dtype=np.int16)
    starts = []
    with tempfile.TemporaryDirectory(prefix="verbatim-demo-") as tmp:
        for index, (speaker, text) in enumerate(turns):
            if index:
                pieces.append(pause)
                position += pause.size
            audio = synthesise(speaker, text, Path(tmp), index)
            starts.append(position / SAMPLE_RATE)
            pieces.append(audio)
            position += audio.size
    pieces.append(np.zeros(int(LEAD_IN_S * SAMPLE_RATE), dtype=np.int16))
    samples = np.concatenate(pieces)

    codec = encode_ogg(samples, AUDIO)

    lines = [f"{timestamp(t)} {speaker}: {text}"
             for t, (speaker, text) in zip(starts, turns, strict=True)]
    TRANSCRIPT.write_text("\n".join(lines) + "\n", encoding="utf-8")

    print(f"{AUDIO.relative_to(HERE)}: {codec}, {samples.size / SAMPLE_RATE:.2f} s, "
          f"{AUDIO.stat().st_size / 1024:.0f} KiB; {len(turns)} turns re-timed in "
          f"{TRANSCRIPT.relative_to(HERE)}")


if __name__ == "__main__":
    main()
