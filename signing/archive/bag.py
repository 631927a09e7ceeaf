"""BagIt (RFC 8493) for archive bundles: writing a bag's tag files, and checking its fixity
two ways.

* ``tag_files`` writes bagit.txt, bag-info.txt and the two manifests from the payload's
  digests, in the very format bagit.make_bag writes them (sorted lines), without the
  library: the builder uses it, and the verifier rebuilds the four files from the pinned
  payload and compares them byte for byte, so they hold nothing unsigned.
  ``make_bag_files`` (the library's own make_bag) stays as the reference the tests compare
  ``tag_files`` with.

* ``check_fixity`` validates a bag held in memory: bagit.txt, every manifest line, that the
  payload and the manifest list the same files, every SHA-256, the tag manifest and
  Payload-Oxum. It costs about what hashing the files costs, so archives can be
  re-verified in bulk.
* ``bagit_validate`` runs the library's own ``Bag.validate()`` on a private copy of the
  files (on /dev/shm when available), an independent second opinion from the reference
  implementation, at about 3 ms per bundle.

Both return a FixityResult; the test suite checks they agree on every tampered bundle.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import bagit

from signing.errors import BundleError
from signing.validation.status import IntactCheck

__all__ = [
    "BAGIT_TXT",
    "MANIFEST",
    "SUPPORTED_VERSIONS",
    "TAGMANIFEST",
    "FixityResult",
    "bagit_validate",
    "check_fixity",
    "make_bag_files",
    "parse_tag_file",
    "tag_file",
    "tag_files",
    "tag_manifest",
]

SUPPORTED_VERSIONS = ("0.97", "1.0")
MANIFEST = "manifest-sha256.txt"
TAGMANIFEST = "tagmanifest-sha256.txt"
_UNSAFE_PARTS = frozenset({"", ".", ".."})  # path components a manifest may not use

# bagit logs each checksum mismatch as a warning; without a handler Python's last-resort
# handler would print them on stderr of whoever verifies. The report carries them instead;
# an application that configures logging still receives them through propagation.
logging.getLogger("bagit").addHandler(logging.NullHandler())

# bagit.make_bag works by changing the process's working directory; serialise in-process
# calls so two builds never race on it (make_bag_files isolates it when other threads run).
_MAKE_BAG_LOCK = threading.Lock()


@dataclass(frozen=True)
class FixityResult(IntactCheck):
    """Whether every file of the bag matches its manifest; ``errors`` say which do not."""

    ok: bool
    errors: tuple[str, ...] = ()
    checked_by: tuple[str, ...] = ("thidua",)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "indication": str(self.indication),
            "errors": list(self.errors),
            "checked_by": list(self.checked_by),
        }

    def merged(self, other: FixityResult) -> FixityResult:
        return FixityResult(
            self.ok and other.ok,
            self.errors + tuple(e for e in other.errors if e not in self.errors),
            self.checked_by + other.checked_by,
        )


# ---------------------------------------------------------------------------------------
# writing tag files

_LINE_BREAKS = re.compile(r"[\r\n]")
# What bagit.make_bag writes (version 0.97 of the spec, as bagit 1.x does).
BAGIT_TXT = b"BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n"


def tag_file(tags: Mapping[str, Any]) -> bytes:
    """A tag file as bagit writes it: labels sorted, one line per value of a list, CR and LF
    removed from values."""
    lines = []
    for label in sorted(tags):
        values = tags[label]
        for value in values if isinstance(values, list) else [values]:
            text = _LINE_BREAKS.sub("", str(value))
            lines.append(f"{label}: {text}\n")
    return "".join(lines).encode("utf-8")


def tag_files(
    digests: Mapping[str, bytes],
    payload_bytes: int,
    bag_info: Mapping[str, Any],
    extra_tags: Mapping[str, bytes] | None = None,
) -> dict[str, bytes]:
    """The four tag files of a SHA-256 bag whose payload files (paths with ``data/``) have
    these raw SHA-256 ``digests`` and ``payload_bytes`` bytes in all; the tag manifest also
    lists ``extra_tags`` (the archive timestamps). Lines are sorted by path, so the same
    payload always gives the same bytes."""
    info = {**bag_info, "Payload-Oxum": f"{payload_bytes}.{len(digests)}"}
    files = {
        "bagit.txt": BAGIT_TXT,
        "bag-info.txt": tag_file(info),
        MANIFEST: "".join(f"{digests[p].hex()}  {p}\n" for p in sorted(digests)).encode(),
    }
    files[TAGMANIFEST] = tag_manifest({**files, **(extra_tags or {})})
    return files


def tag_manifest(files: Mapping[str, bytes]) -> bytes:
    """tagmanifest-sha256.txt for a bag's ``files``: every tag file (outside data/, the tag
    manifest itself excepted, archive timestamps included), sorted by path."""
    names = sorted(n for n in files if not n.startswith("data/") and n != TAGMANIFEST)
    return "".join(f"{hashlib.sha256(files[n]).hexdigest()} {n}\n" for n in names).encode()


# ---------------------------------------------------------------------------------------
# in memory


def _decode(raw: bytes, name: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raise ValueError(f"{name} bắt đầu bằng BOM UTF-8 (RFC 8493 cấm)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name} không phải UTF-8: {exc}") from None


def parse_tag_file(raw: bytes, name: str) -> dict[str, Any]:
    """Labels and values of a tag file (bagit.txt, bag-info.txt): ``Label: value`` lines,
    continuation lines start with whitespace (RFC 8493 2.2.2). A repeated label maps to a
    list of its values in order, as bagit does."""
    tags: dict[str, Any] = {}
    label: str | None = None
    value = ""

    def flush() -> None:
        if label is None:
            return
        text = value.strip()
        if label in tags:
            previous = tags[label]
            tags[label] = [*previous, text] if isinstance(previous, list) else [previous, text]
        else:
            tags[label] = text

    for line in _decode(raw, name).splitlines():
        if not line.strip():
            continue
        if line[0] in " \t":
            if label is None:
                raise ValueError(f"{name}: dòng tiếp nối không có nhãn phía trước")
            value += line
            continue
        flush()
        if ":" not in line:
            raise ValueError(f"{name}: dòng không có dạng 'Nhãn: giá trị': {line[:80]!r}")
        label, value = line.split(":", 1)
        label = label.strip()
        if not label:
            raise ValueError(f"{name}: nhãn rỗng")
    flush()
    return tags


def _decode_path(path: str) -> str:
    # RFC 8493 2.1.3: CR, LF and % in file names are percent-encoded in manifests.
    return re.sub(
        r"%(0[dDaA]|25)", lambda m: {"0d": "\r", "0a": "\n", "25": "%"}[m[1].lower()], path
    )


def _is_sha256_hex(text: str) -> bool:
    """Exactly 64 hexadecimal digits (either case). bytes.fromhex reads only ASCII hex digits
    and skips whitespace, so 64 characters that give 32 bytes are 64 hex digits; it is
    several times cheaper than a regular expression, and every manifest line is checked."""
    if len(text) != 64:
        return False
    try:
        return len(bytes.fromhex(text)) == 32
    except ValueError:
        return False


def _parse_manifest(raw: bytes, name: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    for number, line in enumerate(_decode(raw, name).splitlines(), start=1):
        parts = line.split(None, 1)  # split(None) drops leading and trailing whitespace
        if not parts:
            continue
        if len(parts) != 2 or not _is_sha256_hex(parts[0]):
            raise ValueError(f"{name} dòng {number}: không có dạng '<sha256> <đường dẫn>'")
        path = parts[1].rstrip().lstrip("*")
        if "%" in path:
            path = _decode_path(path)
        if path.startswith(("/", "~")) or not _UNSAFE_PARTS.isdisjoint(path.split("/")):
            raise ValueError(f"{name} dòng {number}: đường dẫn không an toàn {path!r}")
        if path in entries:
            raise ValueError(f"{name}: {path} được liệt kê hai lần")
        entries[path] = parts[0].lower()
    return entries


def check_fixity(
    files: Mapping[str, bytes], *, digests: dict[str, bytes] | None = None
) -> tuple[FixityResult, dict[str, Any]]:
    """Validate a bag whose files (paths relative to the bag folder) are in memory; return
    the result and bag-info.txt's tags (empty when unreadable).

    ``digests``, when given, receives the SHA-256 (raw bytes) of every payload file this
    check hashed, so the caller need not hash large files again."""
    errors: list[str] = []
    info: dict[str, Any] = {}
    _check_declaration(files, errors)
    if "bag-info.txt" in files:
        try:
            info = parse_tag_file(files["bag-info.txt"], "bag-info.txt")
        except ValueError as exc:
            errors.append(str(exc))
    payload = {path for path in files if path.startswith("data/")}
    _check_payload_manifest(files, payload, errors, digests)
    _check_tag_manifest(files, errors)
    oxum = info.get("Payload-Oxum")
    if oxum is not None:
        total = f"{sum(len(files[p]) for p in payload)}.{len(payload)}"
        if oxum != total:
            errors.append(f"Payload-Oxum {oxum!r} khác thực tế {total}")
    return FixityResult(not errors, tuple(errors)), info


def _check_declaration(files: Mapping[str, bytes], errors: list[str]) -> None:
    try:
        declaration = parse_tag_file(files.get("bagit.txt", b""), "bagit.txt")
        version = declaration.get("BagIt-Version")
        if version not in SUPPORTED_VERSIONS:
            errors.append(f"bagit.txt: BagIt-Version {version!r} không được hỗ trợ")
        encoding = declaration.get("Tag-File-Character-Encoding")
        if not isinstance(encoding, str) or encoding.upper().replace("_", "-") != "UTF-8":
            errors.append("bagit.txt: Tag-File-Character-Encoding phải là UTF-8")
    except ValueError as exc:
        errors.append(str(exc))
    if "bagit.txt" not in files:
        errors.append("thiếu bagit.txt")


def _check_payload_manifest(
    files: Mapping[str, bytes],
    payload: set[str],
    errors: list[str],
    digests: dict[str, bytes] | None,
) -> None:
    manifest: dict[str, str] = {}
    if MANIFEST not in files:
        errors.append(f"thiếu {MANIFEST}")
    else:
        try:
            manifest = _parse_manifest(files[MANIFEST], MANIFEST)
        except ValueError as exc:
            errors.append(str(exc))
    for path in sorted(payload - set(manifest)):
        errors.append(f"{path} có trong túi nhưng không có trong {MANIFEST}")
    for path in sorted(set(manifest) - payload):
        errors.append(f"{path} có trong {MANIFEST} nhưng không có trong túi")
    for path, expected in manifest.items():
        content = files.get(path)
        if content is None:
            continue
        digest = hashlib.sha256(content).digest()
        if digests is not None:
            digests[path] = digest
        if digest.hex() != expected:
            errors.append(f"{path}: SHA-256 không khớp {MANIFEST}")


def _check_tag_manifest(files: Mapping[str, bytes], errors: list[str]) -> None:
    if TAGMANIFEST not in files:
        errors.append(f"thiếu {TAGMANIFEST}")
        return
    try:
        tags = _parse_manifest(files[TAGMANIFEST], TAGMANIFEST)
    except ValueError as exc:
        errors.append(str(exc))
        tags = {}
    for path, expected in tags.items():
        content = files.get(path)
        if path.startswith(("data/", "tagmanifest-")) or content is None:
            errors.append(f"{TAGMANIFEST} liệt kê {path}, không phải tệp thẻ của túi")
        elif hashlib.sha256(content).hexdigest() != expected:
            errors.append(f"{path}: SHA-256 không khớp {TAGMANIFEST}")
    for path in ("bagit.txt", "bag-info.txt", MANIFEST):
        if path in files and path not in tags:
            errors.append(f"{path} không được liệt kê trong {TAGMANIFEST}")


# ---------------------------------------------------------------------------------------
# on disk, through the bagit library


def _scratch_dir() -> str | None:
    """A RAM-backed folder when there is one: bags are small and short-lived."""
    shm = "/dev/shm"  # noqa: S108 - only a private mkdtemp is made inside it
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return None


def _inside(root: str, text: str) -> str:
    """``text`` with the private folder's path dropped: reports and errors name files as the
    bag does (``data/document.docx``), never where this machine kept its copy."""
    for folder in dict.fromkeys((root, os.path.realpath(root))):
        text = text.replace(folder + os.sep, "").replace(folder, ".")
    for folder in dict.fromkeys((os.path.dirname(root), os.path.realpath(os.path.dirname(root)))):
        text = text.replace(folder, "..")
    return text


def _write_tree(root: str, files: Mapping[str, bytes]) -> None:
    """Write files (already validated relative POSIX paths) under ``root``: owner-only,
    never through a link, never over an existing file."""
    made: set[str] = set()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for rel, content in files.items():
        path = os.path.join(root, *rel.split("/"))
        parent = os.path.dirname(path)
        if parent not in made:
            os.makedirs(parent, mode=0o700, exist_ok=True)
            made.add(parent)
        fd = os.open(path, flags, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)


def _read_tree(root: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            with open(path, "rb") as handle:
                out[unicodedata.normalize("NFC", rel)] = handle.read()
    return out


# Run in a child interpreter when this process has other threads (see make_bag_files).
_CHILD_MAKE_BAG = """
import json, sys
import bagit
bagit.make_bag(sys.argv[1], json.load(sys.stdin), processes=1, checksums=["sha256"])
"""


def _run_make_bag(root: str, bag_info: Mapping[str, Any], isolate: bool) -> None:
    if not isolate:
        with _MAKE_BAG_LOCK:
            bagit.make_bag(root, dict(bag_info), processes=1, checksums=["sha256"])
        return
    result = subprocess.run(
        [sys.executable, "-I", "-c", _CHILD_MAKE_BAG, root],
        input=json.dumps(dict(bag_info), ensure_ascii=False).encode("utf-8"),
        capture_output=True,
        check=False,
        timeout=300,
        cwd=os.path.dirname(root),
    )
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        raise BundleError(f"bagit.make_bag thất bại: {detail[0]}")


def make_bag_files(
    payload: Mapping[str, bytes], bag_info: Mapping[str, Any], *, isolate: bool | None = None
) -> dict[str, bytes]:
    """Make a SHA-256 bag of ``payload`` (paths relative to data/) with bagit.make_bag in a
    private temporary folder and return all its files (paths relative to the bag).

    bagit.make_bag changes the process's working directory while it works. When other
    threads run in this process (a threaded web server), that would move their relative
    paths under their feet, so the library then runs in a child interpreter instead
    (``isolate``, default: whenever another thread is alive); both ways give the same bytes.

    bagit lists tag files in directory order, which differs between file systems; the tag
    manifest's lines are sorted so the same input always gives the same bytes. The bag is
    validated by the library before it is returned.
    """
    if isolate is None:
        isolate = threading.active_count() > 1
    base = tempfile.mkdtemp(prefix="thidua-bag-", dir=_scratch_dir())
    try:
        root = os.path.join(base, "bag")
        os.mkdir(root, 0o700)
        _write_tree(root, payload)
        _run_make_bag(root, bag_info, isolate)
        tagmanifest = os.path.join(root, TAGMANIFEST)
        with open(tagmanifest, encoding="utf-8") as handle:
            lines = sorted(line for line in handle.read().splitlines() if line.strip())
        with open(tagmanifest, "w", encoding="utf-8", newline="\n") as handle:
            handle.write("".join(line + "\n" for line in lines))
        bagit.Bag(root).validate(processes=1)
        return _read_tree(root)
    except (bagit.BagError, OSError, RuntimeError, subprocess.SubprocessError) as exc:
        raise BundleError(f"không tạo được túi BagIt: {_inside(root, str(exc))}") from None
    finally:
        shutil.rmtree(base, ignore_errors=True)


class _ExtractedBag(bagit.Bag):  # type: ignore[misc]  # bagit ships no type hints
    """A bag we extracted ourselves into a private folder holding only regular files and
    folders (zip links are refused, files are created with O_NOFOLLOW | O_EXCL). bagit's
    traversal check resolves every manifest path with realpath(); in such a folder a
    lexical check is exact and several times cheaper. Should a later bagit rename the
    method, the library's own (stricter, slower) check simply applies."""

    def _path_is_dangerous(self, path: str) -> bool:
        if os.path.isabs(path) or path.startswith("~"):
            return True
        normal = posixpath.normpath(path.replace(os.sep, "/"))
        return normal == ".." or normal.startswith("../")


def bagit_validate(files: Mapping[str, bytes]) -> FixityResult:
    """``bagit.Bag.validate()`` (structure, completeness, Payload-Oxum, every checksum) on a
    private copy of the files."""
    base = tempfile.mkdtemp(prefix="thidua-verify-", dir=_scratch_dir())
    try:
        root = os.path.join(base, "bag")
        os.mkdir(root, 0o700)
        try:
            _write_tree(root, files)
        except OSError as exc:  # e.g. a file where a folder should be
            why = _inside(root, str(exc))
            return FixityResult(
                False, (f"bagit: cấu trúc thư mục không hợp lệ: {why}",), ("bagit",)
            )
        try:
            bag = _ExtractedBag(root)
            bag.validate(processes=1)
        except bagit.BagValidationError as exc:
            details = tuple(_inside(root, f"bagit: {d}") for d in exc.details or ())
            message = _inside(root, f"bagit: {exc.message}")
            return FixityResult(False, details or (message,), ("bagit",))
        # bagit parses untrusted tag files (declared encodings, Payload-Oxum, manifest lines)
        # and lets whatever its parsing raises escape; any such error means "not a valid bag".
        except Exception as exc:
            message = _inside(root, f"bagit: {type(exc).__name__}: {exc}")
            return FixityResult(False, (message,), ("bagit",))
        if sorted(bag.algorithms) != ["sha256"]:
            return FixityResult(False, ("bagit: túi phải dùng đúng thuật toán sha256",), ("bagit",))
        return FixityResult(True, (), ("bagit",))
    finally:
        shutil.rmtree(base, ignore_errors=True)
