"""The signed manifest of an evidence export, and the check a court (or anyone) can run on it.

An export is a folder of MP4 files plus three files written by `write_manifest`:

* ``manifest.json`` — canonical JSON (sorted keys, UTF-8, indent 2, trailing newline): the
  caller's metadata (export id, cameras, time ranges, requester, approvers, purpose, legal
  basis, …), ``"format": "argus-evidence-manifest/1"``, ``signing_key_fingerprint`` and
  ``files``: one ``{"name", "bytes", "sha256"}`` per file of the folder.
* ``manifest.sig`` — base64 of the Ed25519 signature over the exact bytes of manifest.json.
* ``signing-key.pub.pem`` — the public key (PEM) of the deployment's export key.

A key's fingerprint is the first 16 hex digits of the SHA-256 of its raw 32-byte public key,
in groups of four: ``"3f9a 0c41 7be2 d6a8"`` — short enough to read out over the phone.

`verify_export` checks a folder or a .zip of it (read in place, never extracted). With the
deployment's public key it proves who made the export; with only the key inside the folder it
proves the folder is self-consistent, which anyone who can edit the folder can also forge, so
that case carries an ``untrusted_key`` finding.

File names are compared after Unicode NFC normalisation: macOS and some zip tools store
decomposed (NFD) Hangul, which is the same name to a person.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

from argus.audit import signing
from argus.audit.signing import parse_private_key
from argus.config import Settings
from argus.durable import fsync_dir, write_atomically
from argus.errors import ArgusError, NotFoundError
from argus.keyfiles import new_ed25519_pem, read_or_create

MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
PUBLIC_KEY_NAME = "signing-key.pub.pem"
KEY_FILE = "export-signing.key"
FORMAT = "argus-evidence-manifest/1"

RESERVED_NAMES = frozenset({MANIFEST_NAME, SIGNATURE_NAME, PUBLIC_KEY_NAME})
_CHUNK = 1024 * 1024
_MAX_SMALL_FILE = 64 * 1024 * 1024  # manifest, signature and key: more is not ours
_MACOS_METADATA = "__MACOSX/"

FindingKind = Literal[
    "altered", "missing", "unlisted", "bad_signature", "bad_manifest", "untrusted_key"
]


class NotAnExportError(ArgusError):
    """The path to verify is neither a folder nor a readable zip file."""


# --- keys -----------------------------------------------------------------------------------


def load_export_key(settings: Settings) -> Ed25519PrivateKey:
    """The deployment's export signing key: the PEM file KEY_FILE in data_dir, made once."""
    path = Path(settings.data_dir) / KEY_FILE
    pem = read_or_create(path, new_ed25519_pem).decode()
    return parse_private_key(pem, source=str(path))


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The public half of ``key`` as PEM (SubjectPublicKeyInfo), what PUBLIC_KEY_NAME holds."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return signing.public_key_pem(public).encode()


def key_fingerprint(public_key: Ed25519PublicKey) -> str:
    """``"3f9a 0c41 7be2 d6a8"``: the first 16 hex digits of SHA-256(raw public key)."""
    digest = signing.key_id(public_key)  # the audit log's key id, grouped for reading aloud
    return " ".join(digest[i : i + 4] for i in range(0, 16, 4))


# --- writing --------------------------------------------------------------------------------


def _name_problem(name: object) -> str | None:
    """Why ``name`` cannot be the name of a file of an export, or None when it can."""
    if not isinstance(name, str):
        return "a file name must be a string"
    if not name or name in {".", ".."} or ".." in name:
        return f"{name!r} is not a plain file name"
    if "/" in name or "\\" in name or "\x00" in name:
        return f"{name!r} contains a path separator"
    if name in RESERVED_NAMES:
        return f"{name!r} is one of the manifest's own files"
    return None


def _hash_stream(stream: IO[bytes]) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def file_entry(directory: Path, name: str) -> dict[str, Any]:
    """``{"name", "bytes", "sha256"}`` of the file ``name`` in ``directory``, read in 1 MiB
    chunks."""
    problem = _name_problem(name)
    if problem is not None:
        raise ValueError(problem)
    with (directory / name).open("rb") as handle:
        size, sha256 = _hash_stream(handle)
    return {"name": name, "bytes": size, "sha256": sha256}


def _checked_files(directory: Path, files: object) -> list[dict[str, Any]]:
    if not isinstance(files, list):
        raise ValueError('the manifest needs a "files" list')
    seen: set[str] = set()
    for entry in files:
        if not isinstance(entry, dict):
            raise ValueError('each entry of "files" must be an object with name, bytes, sha256')
        name = entry.get("name")
        problem = _name_problem(name)
        if problem is not None:
            raise ValueError(problem)
        assert isinstance(name, str)
        key = unicodedata.normalize("NFC", name)
        if key in seen:
            raise ValueError(f"{name!r} is listed twice")
        seen.add(key)
        path = directory / name
        if path.is_symlink() or not path.is_file():
            raise ValueError(f"{name!r} is not a file in {directory}")
        actual = file_entry(directory, name)
        if entry.get("bytes") != actual["bytes"] or entry.get("sha256") != actual["sha256"]:
            raise ValueError(
                f"{name!r}: listed as {entry.get('bytes')!r} bytes, sha256 "
                f"{str(entry.get('sha256'))[:12]}…, but the file has {actual['bytes']} bytes, "
                f"sha256 {actual['sha256'][:12]}…"
            )
    extra = sorted(
        child.name
        for child in directory.iterdir()
        if child.name not in RESERVED_NAMES and unicodedata.normalize("NFC", child.name) not in seen
    )
    if extra:
        raise ValueError(f"not listed in the manifest but in the folder: {', '.join(extra)}")
    return files


def canonical_json(document: dict[str, Any]) -> bytes:
    """The exact bytes manifest.json holds for ``document``."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, indent=2, allow_nan=False)
    return (text + "\n").encode("utf-8")


def write_manifest(directory: Path, manifest: dict[str, Any], key: Ed25519PrivateKey) -> str:
    """Write manifest.json, manifest.sig and signing-key.pub.pem into ``directory``.

    ``manifest`` (not modified) must list in "files" every other file of the folder, each with
    its true "bytes" and "sha256" (see `file_entry`); anything else raises ValueError and
    writes nothing. Returns the SHA-256 hex of manifest.json.
    """
    if not directory.is_dir():
        raise ValueError(f"{directory} is not a folder")
    _checked_files(directory, manifest.get("files"))
    fingerprint = key_fingerprint(key.public_key())
    data = canonical_json({**manifest, "format": FORMAT, "signing_key_fingerprint": fingerprint})
    signature = base64.b64encode(key.sign(data)) + b"\n"
    write_atomically(directory / MANIFEST_NAME, data)
    write_atomically(directory / SIGNATURE_NAME, signature)
    write_atomically(directory / PUBLIC_KEY_NAME, public_key_pem(key))
    fsync_dir(directory)
    return hashlib.sha256(data).hexdigest()


# --- reading an export: a folder or a zip ---------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    name: str
    """Relative to the export's root, "/"-separated; a folder ends with "/"."""
    is_file: bool
    ref: Path | zipfile.ZipInfo


class _Export:
    """The entries of an export and a way to open them, for a folder or a zip alike."""

    def __init__(self, entries: list[_Entry], archive: zipfile.ZipFile | None) -> None:
        self.entries = entries
        self.archive = archive
        self.by_name: dict[str, list[_Entry]] = {}
        for entry in entries:
            self.by_name.setdefault(unicodedata.normalize("NFC", entry.name), []).append(entry)

    @contextmanager
    def open(self, entry: _Entry) -> Iterator[IO[bytes]]:
        if isinstance(entry.ref, zipfile.ZipInfo):
            assert self.archive is not None
            with self.archive.open(entry.ref) as handle:
                yield handle
        else:
            with entry.ref.open("rb") as handle:
                yield handle


def _folder_entries(path: Path) -> list[_Entry]:
    entries = []
    with os.scandir(path) as scan:
        for item in scan:
            try:
                is_file = item.is_file()
                is_dir = not is_file and item.is_dir()
            except OSError:
                is_file = is_dir = False
            name = item.name + "/" if is_dir else item.name
            entries.append(_Entry(name, is_file, Path(item.path)))
    return entries


def _zip_name(info: zipfile.ZipInfo) -> str:
    """The entry's name; names without the UTF-8 flag are tried as UTF-8, then CP949."""
    name = info.filename
    if not info.flag_bits & 0x800 and not name.isascii():
        raw = name.encode("cp437", errors="replace")
        for encoding in ("utf-8", "cp949"):
            try:
                name = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    return name.replace("\\", "/")


def _zip_entries(archive: zipfile.ZipFile) -> list[_Entry]:
    named = [(_zip_name(info), info) for info in archive.infolist()]
    files = [(name, info) for name, info in named if not info.is_dir()]
    prefix = ""
    if not any(name == MANIFEST_NAME for name, _ in files):
        content = [name for name, _ in files if not name.startswith(_MACOS_METADATA)]
        tops = {name.split("/", 1)[0] for name in content}
        if len(tops) == 1 and all("/" in name for name in content):
            prefix = tops.pop() + "/"
    return [
        _Entry(name.removeprefix(prefix) if name.startswith(prefix) else name, True, info)
        for name, info in files
    ]


@contextmanager
def _open_export(path: Path) -> Iterator[_Export]:
    if not path.exists():
        raise NotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        try:
            entries = _folder_entries(path)
        except OSError as exc:
            raise NotAnExportError(f"{path}: the folder cannot be read ({exc})") from None
        yield _Export(entries, None)
        return
    if not path.is_file() or not zipfile.is_zipfile(path):
        raise NotAnExportError(f"{path}: neither an export folder nor a zip of one")
    try:
        archive = zipfile.ZipFile(path)
    except Exception as exc:  # a damaged central directory fails in many ways
        raise NotAnExportError(f"{path}: not a readable zip file ({exc})") from None
    with archive:
        yield _Export(_zip_entries(archive), archive)


# --- verification ---------------------------------------------------------------------------


@dataclass
class Finding:
    kind: FindingKind
    name: str | None
    message: str

    def line(self) -> str:
        where = f"{self.name}: " if self.name else ""
        return f"{self.kind}: {where}{self.message}"

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "message": self.message}


@dataclass
class ExportVerification:
    ok: bool
    findings: list[Finding] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    files_checked: int = 0
    """Listed files that were found and hashed."""
    key_fingerprint: str | None = None
    """The key the signature was checked with."""
    trusted_key: bool = False
    """True when that key was the one given (the deployment's), not the folder's own."""

    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.kind != "untrusted_key"]

    def lines(self) -> list[str]:
        return [finding.line() for finding in self.findings]

    def summary(self) -> str:
        if not self.ok:
            count = len(self.problems())
            return f"NOT intact: {count} problem{'s' if count != 1 else ''}"
        text = f"intact: {self.files_checked} files, signed by key {self.key_fingerprint}"
        return (
            text if self.trusted_key else text + " (the export's own key: not proof of who made it)"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "files_checked": self.files_checked,
            "key_fingerprint": self.key_fingerprint,
            "trusted_key": self.trusted_key,
            "findings": [finding.as_json() for finding in self.findings],
            "manifest": self.manifest,
        }


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON number")


def _display(name: str) -> str:
    """``name`` printable and JSON-encodable (undecodable bytes of a folder name escaped)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class _Check:
    def __init__(self, export: _Export) -> None:
        self.export = export
        self.findings: list[Finding] = []

    def add(self, kind: FindingKind, name: str | None, message: str) -> None:
        self.findings.append(Finding(kind, None if name is None else _display(name), message))

    def small_file(self, name: str, kind: FindingKind) -> bytes | None:
        """The bytes of one of the manifest's own files, or None after adding a finding."""
        found = self.export.by_name.get(name, [])
        if not found:
            self.add(kind, name, "is missing")
            return None
        if len(found) > 1:
            self.add(kind, name, f"appears {len(found)} times")
            return None
        if not found[0].is_file:
            self.add(kind, name, "is not a file")
            return None
        try:
            with self.export.open(found[0]) as handle:
                data = handle.read(_MAX_SMALL_FILE + 1)
        except Exception as exc:  # any read error of untrusted content is a finding
            self.add(kind, name, f"cannot be read ({type(exc).__name__}: {exc})")
            return None
        if len(data) > _MAX_SMALL_FILE:
            self.add(kind, name, f"is larger than {_MAX_SMALL_FILE} bytes")
            return None
        return data

    def manifest(self, data: bytes) -> dict[str, Any] | None:
        try:
            document = json.loads(data.decode("utf-8"), parse_constant=_not_json)
        except (ValueError, RecursionError) as exc:
            self.add("bad_manifest", MANIFEST_NAME, f"is not valid UTF-8 JSON ({exc})"[:300])
            return None
        if not isinstance(document, dict):
            self.add("bad_manifest", MANIFEST_NAME, "is not a JSON object")
            return None
        if document.get("format") != FORMAT:
            self.add(
                "bad_manifest",
                MANIFEST_NAME,
                f"format is {str(document.get('format'))[:80]!r}, not {FORMAT!r}",
            )
            return None
        return document

    def folder_key(self) -> Ed25519PublicKey | None:
        data = self.small_file(PUBLIC_KEY_NAME, "bad_signature")
        if data is None:
            return None
        try:
            key = load_pem_public_key(data)
        except (ValueError, TypeError) as exc:
            self.add("bad_signature", PUBLIC_KEY_NAME, f"is not a readable PEM public key ({exc})")
            return None
        if not isinstance(key, Ed25519PublicKey):
            self.add("bad_signature", PUBLIC_KEY_NAME, "is not an Ed25519 public key")
            return None
        return key

    def signature(
        self, key: Ed25519PublicKey, data: bytes, document: dict[str, Any] | None
    ) -> None:
        """Check manifest.sig over ``data``, and that the manifest names ``key``."""
        claimed = None if document is None else document.get("signing_key_fingerprint")
        fingerprint = key_fingerprint(key)
        raw = self.small_file(SIGNATURE_NAME, "bad_signature")
        if raw is None:
            return
        try:
            signature = base64.b64decode(raw.strip(), validate=True)
            key.verify(signature, data)
        except (binascii.Error, ValueError, InvalidSignature):
            reason = "manifest.json was changed after signing, or the signature replaced"
            if isinstance(claimed, str) and claimed != fingerprint:
                reason = f"the manifest names key {claimed[:40]!r}: it was signed by another key"
            self.add(
                "bad_signature",
                SIGNATURE_NAME,
                f"does not verify manifest.json with key {fingerprint} ({reason})",
            )
            return
        if document is not None and claimed != fingerprint:
            named = (
                f"names signing key {claimed[:40]!r}"
                if isinstance(claimed, str)
                else ("does not name its signing key")
            )
            self.add(
                "bad_signature", MANIFEST_NAME, f"{named}, but it verifies with key {fingerprint}"
            )

    def listed(self, document: dict[str, Any]) -> list[tuple[str, int, str]]:
        files = document.get("files")
        if not isinstance(files, list):
            self.add("bad_manifest", MANIFEST_NAME, 'has no "files" list')
            return []
        listed: list[tuple[str, int, str]] = []
        seen: set[str] = set()
        for index, entry in enumerate(files):
            where = f'"files" entry {index + 1}'
            if not isinstance(entry, dict):
                self.add("bad_manifest", MANIFEST_NAME, f"{where} is not an object")
                continue
            name, size, sha256 = entry.get("name"), entry.get("bytes"), entry.get("sha256")
            problem = _name_problem(name)
            if problem is not None:
                self.add("bad_manifest", MANIFEST_NAME, f"{where}: {problem}"[:300])
                continue
            assert isinstance(name, str)
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                self.add("bad_manifest", name, f"{where}: bytes is not a whole number")
                continue
            if not (
                isinstance(sha256, str)
                and len(sha256) == 64
                and all(c in "0123456789abcdef" for c in sha256)
            ):
                self.add("bad_manifest", name, f"{where}: sha256 is not 64 lowercase hex digits")
                continue
            key = unicodedata.normalize("NFC", name)
            if key in seen:
                self.add("bad_manifest", name, f"{where}: the name is listed twice")
                continue
            seen.add(key)
            listed.append((key, size, sha256))
        return listed

    def files(self, listed: list[tuple[str, int, str]]) -> int:
        checked = 0
        for name, size, sha256 in listed:
            found = self.export.by_name.get(name, [])
            if not found:
                self.add("missing", name, "is listed in the manifest but not in the export")
                continue
            if len(found) > 1:
                self.add(
                    "altered", name, f"appears {len(found)} times; which one a tool shows varies"
                )
                continue
            if not found[0].is_file:
                self.add("missing", name, "is listed as a file but is a folder or special file")
                continue
            try:
                with self.export.open(found[0]) as handle:
                    actual_size, actual_sha = _hash_stream(handle)
            except Exception as exc:  # unreadable, bad CRC, encrypted zip entry …
                self.add("altered", name, f"cannot be read ({type(exc).__name__}: {exc})")
                continue
            checked += 1
            if actual_size != size or actual_sha != sha256:
                self.add(
                    "altered",
                    name,
                    f"expected {size} bytes, sha256 {sha256[:16]}…; "
                    f"found {actual_size} bytes, sha256 {actual_sha[:16]}…",
                )
        listed_names = {name for name, _, _ in listed}
        for name, entries in sorted(self.export.by_name.items()):
            if name in listed_names or name in RESERVED_NAMES:
                continue
            what = "folder" if any(e.name.endswith("/") for e in entries) else "file"
            self.add("unlisted", name, f"this {what} is not listed in the manifest")
        return checked


def _same_key(pem: bytes, key: Ed25519PublicKey) -> bool:
    """Whether ``pem`` holds ``key`` (whatever its line endings)."""
    try:
        own = load_pem_public_key(pem)
    except (ValueError, TypeError):
        return False
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return (
        isinstance(own, Ed25519PublicKey)
        and own.public_bytes(Encoding.Raw, PublicFormat.Raw) == raw
    )


def verify_export(path: Path, public_key: Ed25519PublicKey | None = None) -> ExportVerification:
    """Check the export folder (or zip of it) at ``path``; see the module's documentation.

    Never raises for what the export holds; raises NotFoundError when ``path`` does not
    exist and NotAnExportError when it is neither a folder nor a readable zip.
    """
    with _open_export(path) as export:
        check = _Check(export)
        result = ExportVerification(ok=False, trusted_key=public_key is not None)
        data = check.small_file(MANIFEST_NAME, "bad_manifest")
        document = None if data is None else check.manifest(data)
        key = public_key
        if key is None:
            key = check.folder_key()
            if key is not None:
                check.add(
                    "untrusted_key",
                    PUBLIC_KEY_NAME,
                    f"checked with the export's own key {key_fingerprint(key)}: this proves only "
                    "that the export is self-consistent, not who made it (anyone can re-sign an "
                    "edited copy); compare the fingerprint with the issuer's or give its public "
                    "key",
                )
        else:
            # not covered by the signature, but a reader without our key relies on it
            if PUBLIC_KEY_NAME not in export.by_name:
                check.add("missing", PUBLIC_KEY_NAME, "is missing")
            else:
                own = check.small_file(PUBLIC_KEY_NAME, "altered")
                if own is not None and not _same_key(own, key):
                    check.add(
                        "altered", PUBLIC_KEY_NAME, f"is not the given key {key_fingerprint(key)}"
                    )
        if key is not None:
            result.key_fingerprint = key_fingerprint(key)
            if data is not None:
                check.signature(key, data, document)
        if document is not None:
            result.manifest = document
            result.files_checked = check.files(check.listed(document))
        result.findings = check.findings
        result.ok = not result.problems()
        return result
