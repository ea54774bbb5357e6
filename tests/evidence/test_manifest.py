"""The signed manifest of an evidence export: written once, and every tampering caught by name."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import shutil
import stat
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from argus.config import Settings
from argus.errors import ArgusError, NotFoundError
from argus.evidence.cli import app
from argus.evidence.manifest import (
    FORMAT,
    KEY_FILE,
    MANIFEST_NAME,
    PUBLIC_KEY_NAME,
    SIGNATURE_NAME,
    ExportVerification,
    canonical_json,
    file_entry,
    key_fingerprint,
    load_export_key,
    public_key_pem,
    verify_export,
    write_manifest,
)

CLIP = "camera-12_북구청 앞_0900.mp4"
NAMES = ["camera-7_0900-0910.mp4", CLIP, "camera-12_large.mp4"]


def metadata(files: object) -> dict[str, Any]:
    return {
        "export_id": 41,
        "cameras": [7, 12],
        "ranges": [{"camera": 7, "start": "2026-03-01T09:00:00+09:00", "minutes": 10}],
        "requester": "경사 김민수 (광주경찰청)",
        "approvers": ["광주광역시 북구 관제센터장"],
        "purpose": "범죄 수사",
        "legal_basis": "개인정보 보호법 제18조 제2항 제7호",
        "recipient": "광주지방검찰청",
        "case_number": "2026-형제-1234",
        "created_at": "2026-03-02T10:00:00+09:00",
        "files": files,
    }


def make_export(folder: Path, key: Ed25519PrivateKey) -> str:
    folder.mkdir(parents=True)
    rng = random.Random(7)
    (folder / NAMES[0]).write_bytes(rng.randbytes(4096))
    (folder / NAMES[1]).write_bytes(rng.randbytes(7000))
    (folder / NAMES[2]).write_bytes(rng.randbytes(3 * 1024 * 1024 + 17))
    return write_manifest(folder, metadata([file_entry(folder, n) for n in NAMES]), key)


def kinds(report: ExportVerification) -> list[tuple[str, str | None]]:
    return [(f.kind, f.name) for f in report.findings]


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def public(key: Ed25519PrivateKey) -> Ed25519PublicKey:
    return key.public_key()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, key: Ed25519PrivateKey) -> Path:
    folder = tmp_path_factory.mktemp("pristine") / "export-41"
    make_export(folder, key)
    return folder


@pytest.fixture
def export(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "export-41"
    shutil.copytree(pristine, copy)
    return copy


def zip_of(folder: Path, target: Path, *, top: str | None) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        if top is not None:
            archive.writestr(top + "/", b"")
        for child in sorted(folder.iterdir()):
            archive.write(child, child.name if top is None else f"{top}/{child.name}")
    return target


# --- writing --------------------------------------------------------------------------------


def test_write_manifest_writes_canonical_signed_json(export: Path, key: Ed25519PrivateKey):
    data = (export / MANIFEST_NAME).read_bytes()
    document = json.loads(data)
    assert data == canonical_json(document)
    assert data.endswith(b"}\n") and "북구청 앞".encode() in data  # UTF-8, not \\u escapes
    assert list(document) == sorted(document)
    assert document["format"] == FORMAT == "argus-evidence-manifest/1"
    assert document["signing_key_fingerprint"] == key_fingerprint(key.public_key())
    assert document["case_number"] == "2026-형제-1234"
    assert [f["name"] for f in document["files"]] == NAMES
    big = document["files"][2]
    assert big["bytes"] == 3 * 1024 * 1024 + 17
    assert big["sha256"] == hashlib.sha256((export / NAMES[2]).read_bytes()).hexdigest()
    signature = base64.b64decode((export / SIGNATURE_NAME).read_bytes().strip(), validate=True)
    key.public_key().verify(signature, data)  # raises when wrong
    assert (export / PUBLIC_KEY_NAME).read_bytes() == public_key_pem(key.public_key())
    assert sorted(p.name for p in export.iterdir()) == sorted(
        [*NAMES, MANIFEST_NAME, SIGNATURE_NAME, PUBLIC_KEY_NAME]
    )  # no temporary files left


def test_write_manifest_returns_the_manifest_hash_and_leaves_the_callers_dict(
    tmp_path: Path, key: Ed25519PrivateKey
):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(b"\x00" * 10)
    manifest = metadata([file_entry(folder, "a.mp4")])
    before = json.dumps(manifest, sort_keys=True)
    digest = write_manifest(folder, manifest, key)
    assert digest == hashlib.sha256((folder / MANIFEST_NAME).read_bytes()).hexdigest()
    assert json.dumps(manifest, sort_keys=True) == before
    # writing again (e.g. a retry) replaces the three files and still verifies
    assert write_manifest(folder, manifest, key) == digest
    assert verify_export(folder, key.public_key()).ok


def test_file_entry_streams_name_size_and_hash(pristine: Path):
    entry = file_entry(pristine, NAMES[2])
    data = (pristine / NAMES[2]).read_bytes()
    assert entry == {
        "name": NAMES[2],
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    with pytest.raises(ValueError):
        file_entry(pristine, "../export-41/" + NAMES[0])


def _entry(folder: Path, file: str, **changes: Any) -> dict[str, Any]:
    return {**file_entry(folder, file), **changes}


REFUSALS: dict[str, Callable[[Path], object]] = {
    "absent": lambda f: [_entry(f, "a.mp4"), {"name": "nope.mp4", "bytes": 1, "sha256": "0" * 64}],
    "parent": lambda f: [_entry(f, "a.mp4"), {"name": "..", "bytes": 0, "sha256": "0" * 64}],
    "dotdot": lambda f: [_entry(f, "a.mp4", name="../x/a.mp4")],
    "slash": lambda f: [_entry(f, "a.mp4", name="sub/a.mp4")],
    "backslash": lambda f: [_entry(f, "a.mp4", name="sub\\a.mp4")],
    "reserved": lambda f: [_entry(f, "a.mp4"), {"name": MANIFEST_NAME, "bytes": 0, "sha256": ""}],
    "bad_hash": lambda f: [_entry(f, "a.mp4", sha256="f" * 64)],
    "bad_size": lambda f: [_entry(f, "a.mp4", bytes=11)],
    "twice": lambda f: [_entry(f, "a.mp4"), _entry(f, "a.mp4")],
    "not_a_list": lambda f: _entry(f, "a.mp4"),  # not a list
    "unlisted_file": lambda f: [],
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_write_manifest_refuses_a_wrong_files_list_and_writes_nothing(
    case: str, tmp_path: Path, key: Ed25519PrivateKey
):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(b"0123456789")
    (tmp_path / "x" / ".." / "a.mp4").write_bytes(b"outside")
    with pytest.raises(ValueError):
        write_manifest(folder, metadata(REFUSALS[case](folder)), key)
    assert sorted(p.name for p in folder.iterdir()) == ["a.mp4"]


def test_load_export_key_is_created_once_owner_only(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "data")
    first = load_export_key(settings)
    second = load_export_key(settings)
    assert public_key_pem(first) == public_key_pem(second)
    path = tmp_path / "data" / KEY_FILE
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_export_key(Settings(data_dir=tmp_path / "other")) is not None
    assert public_key_pem(load_export_key(Settings(data_dir=tmp_path / "other"))) != (
        public_key_pem(first)
    )


def test_key_fingerprint_is_the_start_of_the_raw_key_hash(public: Ed25519PublicKey):
    fingerprint = key_fingerprint(public)
    assert re.fullmatch(r"[0-9a-f]{4}( [0-9a-f]{4}){3}", fingerprint)
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert fingerprint.replace(" ", "") == hashlib.sha256(raw).hexdigest()[:16]
    assert key_fingerprint(Ed25519PrivateKey.generate().public_key()) != fingerprint


# --- verifying an intact export -------------------------------------------------------------


def test_intact_export_verifies_with_the_deployment_key(export: Path, public: Ed25519PublicKey):
    report = verify_export(export, public)
    assert report.ok, report.lines()
    assert report.findings == []
    assert report.trusted_key is True
    assert report.files_checked == 3
    assert report.key_fingerprint == key_fingerprint(public)
    assert report.manifest is not None and report.manifest["export_id"] == 41
    assert report.summary() == f"intact: 3 files, signed by key {key_fingerprint(public)}"
    as_json = json.loads(json.dumps(report.as_json()))
    assert as_json["ok"] is True and as_json["findings"] == [] and as_json["trusted_key"]


def test_without_a_key_it_is_ok_but_only_self_consistent(export: Path, public: Ed25519PublicKey):
    report = verify_export(export)
    assert report.ok
    assert kinds(report) == [("untrusted_key", PUBLIC_KEY_NAME)]
    assert "self-consistent" in report.findings[0].message
    assert report.trusted_key is False
    assert report.key_fingerprint == key_fingerprint(public)
    assert report.files_checked == 3


def test_a_decomposed_hangul_file_name_is_the_same_name(export: Path, public: Ed25519PublicKey):
    nfd = unicodedata.normalize("NFD", CLIP)
    assert nfd != CLIP
    (export / CLIP).rename(export / nfd)
    assert verify_export(export, public).ok


# --- tampering: each one caught and named ---------------------------------------------------


def flip_byte(folder: Path) -> None:
    path = folder / CLIP
    data = bytearray(path.read_bytes())
    data[1234] ^= 0x01
    path.write_bytes(bytes(data))


def truncate(folder: Path) -> None:
    path = folder / NAMES[2]
    path.write_bytes(path.read_bytes()[:-1])


def edit_manifest(folder: Path) -> None:
    path = folder / MANIFEST_NAME
    path.write_bytes(path.read_bytes().replace("범죄 수사".encode(), "민원 처리".encode()))


def edit_manifest_hash(folder: Path) -> None:
    """The attacker changes a file and puts its new hash into the manifest."""
    flip_byte(folder)
    path = folder / MANIFEST_NAME
    document = json.loads(path.read_bytes())
    document["files"][1] = file_entry(folder, CLIP)
    path.write_bytes(canonical_json(document))


def replace_signature(folder: Path) -> None:
    other = Ed25519PrivateKey.generate()
    signature = other.sign((folder / MANIFEST_NAME).read_bytes())
    (folder / SIGNATURE_NAME).write_bytes(base64.b64encode(signature) + b"\n")


TAMPERING: dict[str, tuple[Callable[[Path], object], list[tuple[str, str | None]]]] = {
    "flip_byte": (flip_byte, [("altered", CLIP)]),
    "truncate": (truncate, [("altered", NAMES[2])]),
    "delete": (lambda f: (f / NAMES[0]).unlink(), [("missing", NAMES[0])]),
    "add": (lambda f: (f / "extra.mp4").write_bytes(b"x"), [("unlisted", "extra.mp4")]),
    "add_folder": (lambda f: (f / "sub").mkdir(), [("unlisted", "sub/")]),
    "edit_manifest": (edit_manifest, [("bad_signature", SIGNATURE_NAME)]),
    "edit_manifest_hash": (edit_manifest_hash, [("bad_signature", SIGNATURE_NAME)]),
    "replace_signature": (replace_signature, [("bad_signature", SIGNATURE_NAME)]),
    "garble_signature": (
        lambda f: (f / SIGNATURE_NAME).write_text("not base64!"),
        [("bad_signature", SIGNATURE_NAME)],
    ),
    "delete_signature": (
        lambda f: (f / SIGNATURE_NAME).unlink(),
        [("bad_signature", SIGNATURE_NAME)],
    ),
    "delete_manifest": (
        lambda f: (f / MANIFEST_NAME).unlink(),
        [("bad_manifest", MANIFEST_NAME)],
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
@pytest.mark.parametrize("trusted", [True, False], ids=["deployment-key", "folder-key"])
def test_every_tampering_is_caught_and_named(
    case: str, trusted: bool, export: Path, public: Ed25519PublicKey
):
    tamper, expected = TAMPERING[case]
    tamper(export)
    report = verify_export(export, public if trusted else None)
    assert not report.ok
    problems = [(f.kind, f.name) for f in report.problems()]
    assert problems == expected, report.lines()
    assert report.summary() == f"NOT intact: {len(expected)} problem" + (
        "s" if len(expected) > 1 else ""
    )


def test_altered_names_expected_and_found_hash(export: Path, public: Ed25519PublicKey):
    expected = file_entry(export, CLIP)["sha256"]
    flip_byte(export)
    found = file_entry(export, CLIP)["sha256"]
    (finding,) = verify_export(export, public).findings
    assert expected[:16] in finding.message and found[:16] in finding.message
    assert CLIP in finding.line()


def forge(folder: Path) -> Ed25519PrivateKey:
    """A self-consistent forgery: changed clip, new manifest, signature and key by another key."""
    forger = Ed25519PrivateKey.generate()
    flip_byte(folder)
    document = json.loads((folder / MANIFEST_NAME).read_bytes())
    document["files"][1] = file_entry(folder, CLIP)
    for name in (MANIFEST_NAME, SIGNATURE_NAME, PUBLIC_KEY_NAME):
        (folder / name).unlink()
    write_manifest(folder, document, forger)
    return forger


def test_a_forgery_by_another_key_fails_with_the_deployment_key(
    export: Path, public: Ed25519PublicKey
):
    forge(export)
    report = verify_export(export, public)
    assert not report.ok
    assert ("bad_signature", SIGNATURE_NAME) in kinds(report)
    assert ("altered", PUBLIC_KEY_NAME) in kinds(report)
    (signature,) = [f for f in report.findings if f.kind == "bad_signature"]
    assert "signed by another key" in signature.message


def test_a_forgery_looks_ok_but_untrusted_without_the_key(export: Path, public: Ed25519PublicKey):
    forger = forge(export)
    report = verify_export(export)
    assert report.ok
    assert kinds(report) == [("untrusted_key", PUBLIC_KEY_NAME)]
    assert report.key_fingerprint == key_fingerprint(forger.public_key())
    assert report.key_fingerprint != key_fingerprint(public)


def test_a_replaced_key_file_alone_is_caught(export: Path, public: Ed25519PublicKey):
    other = Ed25519PrivateKey.generate()
    (export / PUBLIC_KEY_NAME).write_bytes(public_key_pem(other))
    assert kinds(verify_export(export, public)) == [("altered", PUBLIC_KEY_NAME)]
    report = verify_export(export)
    assert ("bad_signature", SIGNATURE_NAME) in kinds(report)
    assert not report.ok


def test_the_key_file_with_windows_line_endings_is_the_same_key(
    export: Path, public: Ed25519PublicKey
):
    path = export / PUBLIC_KEY_NAME
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert verify_export(export, public).ok


def sign_document(folder: Path, document: dict[str, Any], key: Ed25519PrivateKey) -> None:
    """Sign any manifest, bypassing write_manifest's checks (a buggy or hostile issuer)."""
    data = canonical_json(document)
    (folder / MANIFEST_NAME).write_bytes(data)
    (folder / SIGNATURE_NAME).write_bytes(base64.b64encode(key.sign(data)))


def test_a_signed_manifest_naming_outside_paths_is_bad_and_never_followed(
    export: Path, key: Ed25519PrivateKey
):
    (export.parent / "secret.txt").write_bytes(b"outside")
    document = json.loads((export / MANIFEST_NAME).read_bytes())
    outside = {"name": "../secret.txt", **file_entry(export.parent, "secret.txt")}
    outside["name"] = "../secret.txt"
    document["files"] += [outside, {"name": "x", "bytes": True, "sha256": "0" * 64}, "junk"]
    sign_document(export, document, key)
    report = verify_export(export, key.public_key())
    assert not report.ok
    assert [f.kind for f in report.problems()] == ["bad_manifest"] * 3
    assert report.files_checked == 3  # the good entries are still checked


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (b"\xff\xfe not utf-8", "UTF-8"),
        (b'{"format": "argus-evidence-manifest/1", ', "JSON"),
        (b"[1, 2]", "object"),
        (b'{"format": "something-else/9", "files": []}', "format"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON"),
    ],
)
def test_a_malformed_manifest_is_a_finding(
    text: bytes, why: str, export: Path, public: Ed25519PublicKey
):
    (export / MANIFEST_NAME).write_bytes(text)
    report = verify_export(export, public)
    assert not report.ok
    bad = [f for f in report.findings if f.kind == "bad_manifest"]
    assert len(bad) == 1 and why in bad[0].message
    assert report.manifest is None


def test_a_signed_manifest_without_fingerprint_or_files(export: Path, key: Ed25519PrivateKey):
    sign_document(export, {"format": FORMAT}, key)
    report = verify_export(export, key.public_key())
    assert ("bad_signature", MANIFEST_NAME) in kinds(report)  # names no key
    assert ("bad_manifest", MANIFEST_NAME) in kinds(report)  # no files list


# --- zips -----------------------------------------------------------------------------------


@pytest.mark.parametrize("top", [None, "export-41"], ids=["root", "one-folder"])
def test_a_zip_of_the_export_verifies_in_place(
    top: str | None, export: Path, tmp_path: Path, public: Ed25519PublicKey
):
    archive = zip_of(export, tmp_path / "export.zip", top=top)
    shutil.rmtree(export)  # nothing is read from disk but the zip
    report = verify_export(archive, public)
    assert report.ok, report.lines()
    assert report.files_checked == 3
    assert kinds(verify_export(archive)) == [("untrusted_key", PUBLIC_KEY_NAME)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.zip"]


@pytest.mark.parametrize("top", [None, "export-41"], ids=["root", "one-folder"])
@pytest.mark.parametrize("case", ["flip_byte", "delete", "add", "edit_manifest", "truncate"])
def test_tampering_inside_a_zip_is_caught(
    case: str, top: str | None, export: Path, tmp_path: Path, public: Ed25519PublicKey
):
    tamper, expected = TAMPERING[case]
    tamper(export)
    report = verify_export(zip_of(export, tmp_path / "export.zip", top=top), public)
    assert [(f.kind, f.name) for f in report.problems()] == expected


def test_a_zip_with_a_nested_or_duplicate_entry(
    export: Path, tmp_path: Path, public: Ed25519PublicKey
):
    archive = zip_of(export, tmp_path / "export.zip", top="export-41")
    with (
        pytest.warns(UserWarning, match="Duplicate name"),
        zipfile.ZipFile(archive, "a") as z,
    ):
        z.writestr(f"export-41/{CLIP}", b"a second, different clip")
        z.writestr("export-41/sub/hidden.mp4", b"x")
    report = verify_export(archive, public)
    assert ("altered", CLIP) in kinds(report)
    assert ("unlisted", "sub/hidden.mp4") in kinds(report)
    assert not report.ok


def test_a_zip_entry_with_a_bad_crc_is_altered(
    export: Path, tmp_path: Path, public: Ed25519PublicKey
):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        for child in sorted(export.iterdir()):
            z.write(child, child.name)
    data = bytearray(archive.read_bytes())
    at = data.index((export / NAMES[0]).read_bytes()[:64])
    data[at + 100] ^= 0xFF  # the stored bytes change, the recorded CRC does not
    archive.write_bytes(bytes(data))
    report = verify_export(archive, public)
    assert kinds(report) == [("altered", NAMES[0])]


def test_a_missing_path_or_a_plain_file_raises(tmp_path: Path):
    with pytest.raises(NotFoundError):
        verify_export(tmp_path / "nope")
    (tmp_path / "a.txt").write_text("hello")
    with pytest.raises(ArgusError):
        verify_export(tmp_path / "a.txt")


# --- random input never makes verify raise --------------------------------------------------


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory, key: Ed25519PrivateKey) -> Path:
    folder = tmp_path_factory.mktemp("scratch") / "export"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(b"clip")
    write_manifest(folder, metadata([file_entry(folder, "a.mp4")]), key)
    return folder


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifest=st.binary(max_size=2000), signature=st.binary(max_size=100))
def test_random_bytes_as_manifest_never_raise(
    manifest: bytes, signature: bytes, scratch: Path, key: Ed25519PrivateKey
):
    (scratch / MANIFEST_NAME).write_bytes(manifest)
    (scratch / SIGNATURE_NAME).write_bytes(signature)
    for public in (key.public_key(), None):
        report = verify_export(scratch, public)
        assert not report.ok
        json.dumps(report.as_json(), ensure_ascii=False).encode()


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    files=JSON,
    fingerprint=JSON,
    extra=st.dictionaries(st.text(max_size=8), JSON, max_size=3),
)
def test_any_signed_json_manifest_never_raises(
    files: Any, fingerprint: Any, extra: dict[str, Any], scratch: Path, key: Ed25519PrivateKey
):
    document = {**extra, "format": FORMAT, "files": files, "signing_key_fingerprint": fingerprint}
    sign_document(scratch, document, key)
    report = verify_export(scratch, key.public_key())
    assert not report.ok  # "a.mp4" is never listed right, or the fingerprint is wrong
    json.dumps(report.as_json(), ensure_ascii=False).encode()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(
        st.tuples(
            st.sampled_from([MANIFEST_NAME, SIGNATURE_NAME, PUBLIC_KEY_NAME, "e/manifest.json"])
            # any name a zip can hold: no NUL, no lone surrogate (zipfile cannot encode one)
            | st.text(
                st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
                min_size=1,
                max_size=12,
            ),
            st.binary(max_size=200),
        ),
        max_size=5,
    )
)
@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_random_zip_contents_never_raise(
    entries: list[tuple[str, bytes]], tmp_path_factory: pytest.TempPathFactory
):
    archive = tmp_path_factory.mktemp("zip") / "random.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name, data in entries:
            z.writestr(name, data)
    report = verify_export(archive)
    assert not report.ok
    json.dumps(report.as_json(), ensure_ascii=False).encode()


# --- the command line -----------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("ARGUS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ARGUS_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def deployment_export(data_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "out" / "export-41"
    make_export(folder, load_export_key(Settings(data_dir=data_dir)))
    return folder


runner = CliRunner()


def test_cli_intact_exits_0(deployment_export: Path, data_dir: Path):
    result = runner.invoke(app, ["verify", str(deployment_export)])
    assert result.exit_code == 0, result.output
    fingerprint = key_fingerprint(load_export_key(Settings(data_dir=data_dir)).public_key())
    assert result.stdout.splitlines() == [f"intact: 3 files, signed by key {fingerprint}"]


def test_cli_altered_exits_1_naming_the_file(deployment_export: Path):
    flip_byte(deployment_export)
    (deployment_export / NAMES[0]).unlink()
    result = runner.invoke(app, ["verify", str(deployment_export)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[-1] == "NOT intact: 2 problems"
    assert any(line.startswith(f"altered: {CLIP}: expected") for line in lines)
    assert any(line.startswith(f"missing: {NAMES[0]}") for line in lines)


def test_cli_detects_a_forgery_with_the_deployment_key(deployment_export: Path):
    forge(deployment_export)
    result = runner.invoke(app, ["verify", str(deployment_export)])
    assert result.exit_code == 1
    assert "bad_signature: manifest.sig" in result.stdout


def test_cli_missing_path_exits_2_with_one_line(data_dir: Path, tmp_path: Path):
    result = runner.invoke(app, ["verify", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "no such file" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_usage_error_exits_2(data_dir: Path):
    assert runner.invoke(app, ["verify"]).exit_code == 2
    assert runner.invoke(app, ["verify", ".", "--public-key"]).exit_code == 2


def test_cli_public_key_option(
    export: Path, key: Ed25519PrivateKey, data_dir: Path, tmp_path: Path
):
    pem = tmp_path / "issuer.pub.pem"
    pem.write_bytes(public_key_pem(key))
    ok = runner.invoke(app, ["verify", str(export), "--public-key", str(pem)])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith(
        f"intact: 3 files, signed by key {key_fingerprint(key.public_key())}"
    )
    pem.write_bytes(public_key_pem(Ed25519PrivateKey.generate()))
    wrong = runner.invoke(app, ["verify", str(export), "--public-key", str(pem)])
    assert wrong.exit_code == 1
    missing = runner.invoke(app, ["verify", str(export), "--public-key", str(tmp_path / "no")])
    assert missing.exit_code == 2 and "--public-key" in missing.stderr


def test_cli_without_a_deployment_key_falls_back_untrusted(export: Path, data_dir: Path):
    result = runner.invoke(app, ["verify", str(export)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"untrusted_key: {PUBLIC_KEY_NAME}: checked with the export's own")
    assert lines[-1].startswith("intact: 3 files, signed by key ")
    assert not (data_dir / KEY_FILE).exists()  # verifying never creates a key


def test_cli_json(deployment_export: Path):
    (deployment_export / "extra.mp4").write_bytes(b"x")
    result = runner.invoke(app, ["verify", str(deployment_export), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["trusted_key"] is True
    assert report["findings"] == [
        {"kind": "unlisted", "name": "extra.mp4", "message": report["findings"][0]["message"]}
    ]
    assert report["manifest"]["case_number"] == "2026-형제-1234"
