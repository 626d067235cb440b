"""Reading .qdpx archives and REFI-QDA XML that may be hostile.

A .qdpx comes from another program or another person, so nothing in it is trusted.
Member names are checked before anything is read (no '..', no absolute paths or drive
letters, no links, no duplicates); sizes are counted while the bytes stream out rather
than taken from the headers, against a cap on the whole archive and on the compression
ratio; only members of the archive are ever read, never a path the XML names. XML is
parsed by lxml with entities, DTDs and the network off, and any DOCTYPE or ENTITY is
refused outright: REFI-QDA never needs one, and they are how XML reads local files or
exhausts memory. Every refusal is an ExchangeError whose message a researcher can act on.
"""

from __future__ import annotations

import hashlib
import lzma
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from lxml import etree

from study.errors import StudyError

_CHUNK = 1 << 16
_DRIVE = re.compile(r"^[A-Za-z]:")
_DECLARATIONS = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_WIDE_DECLARATIONS = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")


class ExchangeError(StudyError):
    """A REFI-QDA file that cannot be exported or imported; str() says why, plainly."""


@dataclass(frozen=True, slots=True)
class Limits:
    """How far an archive may expand before it is treated as a zip bomb.

    The defaults allow a large real project (hours of audio) and refuse anything that
    would fill the disk or memory; tests pass smaller limits to stay fast.
    """

    max_members: int = 10_000
    max_total_bytes: int = 2 * 1024**3  # everything read out of the archive, together
    max_text_bytes: int = 256 * 1024**2  # one XML or text member, read into memory
    max_ratio: int = 200  # uncompressed : compressed, for a member past ratio_floor
    ratio_floor: int = 8 * 1024**2  # small members may compress as well as they like


DEFAULT_LIMITS = Limits()


def _refuse_hostile(archive: Path, detail: str) -> ExchangeError:
    return ExchangeError(
        f"{archive.name} was refused: {detail}. A project exported by NVivo, ATLAS.ti, "
        "MAXQDA, QualCoder or Verbatim never looks like this, so the file may be damaged or "
        "made to attack the computer that opens it. Nothing was imported."
    )


def member_name(raw: str) -> str:
    """A member's name with '/' separators and no '.' or empty parts; raises ValueError
    (with the reason) for a name that could write or read outside the archive."""
    name = raw.replace("\\", "/")
    if "\x00" in name:
        raise ValueError(f"a member name contains a NUL character ({raw!r})")
    if name.startswith("/") or _DRIVE.match(name):
        raise ValueError(f"a member has an absolute path ({raw!r})")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"a member name leads out of the archive ({raw!r})")
    if not parts:
        raise ValueError(f"a member has an empty name ({raw!r})")
    return "/".join(parts)


class SafeArchive:
    """A checked, read-only view of a zip archive. Open with SafeArchive.open(path)."""

    def __init__(self, path: Path, zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo],
                 names: dict[str, str], limits: Limits) -> None:
        self.path = path
        self._zf = zf
        self._members = members  # normalised name -> info
        self._names = names  # casefolded name -> normalised name
        self.limits = limits
        self._read_total = 0

    @classmethod
    def open(cls, path: Path, limits: Limits = DEFAULT_LIMITS) -> SafeArchive:
        """Open and check every member's name, kind and declared size before any byte
        of content is read."""
        path = Path(path)
        try:
            zf = zipfile.ZipFile(path)
        except FileNotFoundError:
            raise ExchangeError(f"There is no file at {path}. Nothing was imported.") from None
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as e:
            raise ExchangeError(
                f"{path.name} is not a REFI-QDA project (.qdpx files are zip archives) or "
                f"it is damaged ({e}). Nothing was imported."
            ) from None
        except OSError as e:
            raise ExchangeError(f"{path.name} could not be read ({e.strerror or e}). "
                                "Nothing was imported.") from None
        try:
            members, names = cls._check(path, zf, limits)
        except BaseException:
            zf.close()
            raise
        return cls(path, zf, members, names, limits)

    @staticmethod
    def _check(path: Path, zf: zipfile.ZipFile, limits: Limits
               ) -> tuple[dict[str, zipfile.ZipInfo], dict[str, str]]:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise _refuse_hostile(path, f"it holds {len(infos):,} files, more than the "
                                        f"{limits.max_members:,} any project needs")
        members: dict[str, zipfile.ZipInfo] = {}
        names: dict[str, str] = {}
        declared = 0
        for info in infos:
            try:
                name = member_name(info.filename)
            except ValueError as e:
                raise _refuse_hostile(path, str(e)) from None
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise _refuse_hostile(path, f"the member {info.filename!r} is a link")
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise ExchangeError(f"{path.name} is password-protected; export it again "
                                    "without a password. Nothing was imported.")
            if name.casefold() in names:
                raise _refuse_hostile(path, f"two members are both named {name!r}")
            declared += info.file_size
            if declared > limits.max_total_bytes:
                raise _refuse_hostile(path, "it would expand to more than "
                                            f"{_size(limits.max_total_bytes)}")
            if (info.file_size > limits.ratio_floor
                    and info.file_size > limits.max_ratio * max(info.compress_size, 1)):
                raise _refuse_hostile(path, f"the member {name!r} is compressed more than "
                                            f"{limits.max_ratio} to 1 (a zip bomb)")
            members[name] = info
            names[name.casefold()] = name
        return members, names

    # --- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        self._zf.close()

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- finding members ----------------------------------------------------------------------

    def names(self) -> list[str]:
        return list(self._members)

    def find(self, name: str) -> str | None:
        """The member called `name` (any case, either slash), or None."""
        try:
            wanted = member_name(name)
        except ValueError:
            return None
        return self._names.get(wanted.casefold())

    def size(self, name: str) -> int:
        return self._members[name].file_size

    # --- reading, with every byte counted -----------------------------------------------------

    def _stream(self, name: str, cap: int) -> Iterator[bytes]:
        info = self._members[name]
        count = 0
        try:
            with self._zf.open(info) as f:
                while block := f.read(_CHUNK):
                    count += len(block)
                    self._read_total += len(block)
                    if count > cap:
                        raise _refuse_hostile(self.path, f"the member {name!r} is larger than "
                                                         f"{_size(cap)}")
                    if self._read_total > self.limits.max_total_bytes:
                        raise _refuse_hostile(self.path, "it expands to more than "
                                                         f"{_size(self.limits.max_total_bytes)}")
                    if (count > self.limits.ratio_floor
                            and count > self.limits.max_ratio * max(info.compress_size, 1)):
                        raise _refuse_hostile(self.path, f"the member {name!r} is compressed "
                                                         f"more than {self.limits.max_ratio} "
                                                         "to 1 (a zip bomb)")
                    yield block
        except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, NotImplementedError,
                UnicodeDecodeError, OSError) as e:
            # OSError: a bad offset or a damaged bzip2 stream; UnicodeDecodeError: a damaged
            # member name in its local header
            raise ExchangeError(f"{self.path.name} is damaged: {name!r} cannot be read ({e}). "
                                "Nothing was imported.") from None
        except RuntimeError as e:  # zipfile: encrypted or otherwise unreadable
            raise ExchangeError(f"{self.path.name}: {name!r} cannot be read ({e}). "
                                "Nothing was imported.") from None

    def read_bytes(self, name: str) -> bytes:
        """A text or XML member in memory, at most Limits.max_text_bytes."""
        return b"".join(self._stream(name, self.limits.max_text_bytes))

    def extract_to(self, name: str, target: Path) -> str:
        """Copy a member to `target` (a new file), hashing it on the way; returns SHA-256."""
        digest = hashlib.sha256()
        with target.open("xb") as out:
            for block in self._stream(name, self.limits.max_total_bytes):
                digest.update(block)
                out.write(block)
        return digest.hexdigest()


def parse_untrusted_xml(data: bytes, what: str) -> etree._Element:
    """Parse XML from outside the study, refusing DTDs and entities of any kind.

    The text is scanned for declarations before lxml sees it (in UTF-16 too), the
    parser resolves nothing and fetches nothing, and the parsed tree is checked again.
    """
    if _declares(data):
        raise _refuse_xml(what)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False, dtd_validation=False, remove_comments=True,
                             remove_pis=True, collect_ids=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise ExchangeError(f"{what} is not readable XML ({e}). Nothing was imported.") from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise _refuse_xml(what)
    if any(True for _ in root.iter(etree.Entity)):
        raise _refuse_xml(what)
    return root


def _declares(data: bytes) -> bool:
    if _DECLARATIONS.search(data):
        return True
    wide = data[:2] in _WIDE_BOMS or b"\x00" in data[:4]
    if wide:
        for codec in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                continue
            if _WIDE_DECLARATIONS.search(text):
                return True
    return False


def _refuse_xml(what: str) -> ExchangeError:
    return ExchangeError(
        f"{what} was refused: it declares a DOCTYPE or entities. REFI-QDA files never "
        "need them, and they can be used to read files from this computer or to exhaust "
        "its memory. Nothing was imported."
    )


def _size(n: int) -> str:
    for power, unit in ((3, "GB"), (2, "MB"), (1, "KB")):
        if n >= 1024**power:
            return f"{n / 1024**power:,.0f} {unit}"
    return f"{n:,} bytes"


__all__ = ["DEFAULT_LIMITS", "ExchangeError", "Limits", "SafeArchive", "member_name",
           "parse_untrusted_xml"]
