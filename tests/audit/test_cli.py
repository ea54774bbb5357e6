"""`argus audit` as an operator runs it: verify with exit codes, checkpoints, keys, exports."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record
from argus.audit.models import AuditCheckpoint, AuditEntry
from argus.audit.signing import Signer, public_key_pem
from argus.db import transaction
from tests.audit.conftest import World
from tests.audit.raw import RawDatabase

ARGUS = [sys.executable, "-m", "argus.cli", "audit"]


def argus(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ARGUS, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def log(sessions: sessionmaker[Session], world: World) -> None:
    for n in range(5):
        with transaction(sessions) as session:
            record(
                session,
                AuditEvent(
                    "access.live",
                    Outcome.ALLOW,
                    10 + n,
                    world.city,
                    f"camera:{world.buk_camera}",
                    "crime_prevention",
                    grant="agreement:3",
                    details={"legal_basis": "개인정보 보호법 제25조"},
                ),
            )


@pytest.mark.usefixtures("log")
def test_verify_exits_0_when_intact_and_1_naming_the_damage(
    cli_env: dict[str, str], raw: RawDatabase
) -> None:
    intact = argus(cli_env, "verify")
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.startswith("audit log intact: 5 entries (entries 1–5)")
    raw.drop_triggers()
    raw.execute("DELETE FROM audit_log WHERE seq = 3")
    broken = argus(cli_env, "verify")
    assert broken.returncode == 1
    lines = broken.stdout.splitlines()
    assert lines[0] == "deleted: entry 3 was deleted (entry 4 follows entry 2)"
    assert lines[-1].startswith("audit log NOT intact")
    assert "Traceback" not in broken.stderr
    report = json.loads(argus(cli_env, "verify", "--json").stdout)
    assert report["intact"] is False and report["findings"][0]["seq"] == 3


@pytest.mark.usefixtures("log")
def test_checkpoint_public_key_and_offline_verify(
    cli_env: dict[str, str], tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    signed = argus(cli_env, "checkpoint")
    assert signed.returncode == 0 and "signed 1 checkpoint(s)" in signed.stdout
    assert "seq 5" in signed.stdout
    assert "nothing to sign" in argus(cli_env, "checkpoint").stdout
    with sessions() as session:
        assert session.scalars(select(AuditCheckpoint.seq)).all() == [5]
    key = tmp_path / "audit-public.pem"
    assert argus(cli_env, "public-key", "--out", str(key)).returncode == 0
    assert key.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    offline = argus(cli_env, "verify", "--public-key", str(key))
    assert offline.returncode == 0 and "1/1 checkpoints verified" in offline.stdout
    stranger = tmp_path / "stranger.pem"
    stranger.write_text(public_key_pem(Signer(Ed25519PrivateKey.generate()).public_key))
    wrong = argus(cli_env, "verify", "--public-key", str(stranger))
    assert wrong.returncode == 1
    assert wrong.stdout.startswith("checkpoint: checkpoint 5 was signed by key")
    missing = argus(cli_env, "verify", "--public-key", str(tmp_path / "nope.pem"))
    assert missing.returncode == 2 and "nope.pem: no such file" in missing.stderr


@pytest.mark.usefixtures("log")
def test_exports_and_their_reads_are_recorded(
    cli_env: dict[str, str], tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    out = argus(cli_env, "export", "--format", "jsonl", "--actor", "12")
    assert out.returncode == 0, out.stderr
    assert [json.loads(line)["actor_user_id"] for line in out.stdout.splitlines()] == [12]
    target = tmp_path / "audit.csv"
    assert argus(cli_env, "export", "--format", "csv", "--out", str(target)).returncode == 0
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\r\n") == 8  # header, 5, 2 reads
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[-1]["action"] == "audit.read" and rows[-1]["client"].startswith("cli:")
    with sessions() as session:
        reads = session.scalars(
            select(AuditEntry.details).where(AuditEntry.action == "audit.read")
        ).all()
    assert [json.loads(d)["what"] for d in reads] == ["export.jsonl", "export.csv"]
    bad = argus(cli_env, "export", "--since", "last tuesday")
    assert bad.returncode == 2 and "--since" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.usefixtures("log")
def test_ledger_files_for_one_agency_by_name_or_for_all(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    sheet, page = tmp_path / "ledger.csv", tmp_path / "ledger.html"
    made = argus(cli_env, "ledger", "--agency", "광주광역시 북구", "--out", str(sheet))
    assert made.returncode == 0, made.stderr
    table = list(csv.reader(io.StringIO(sheet.read_bytes().decode("utf-8-sig"), newline="")))
    assert table[0][0] == "구분" and [row[0] for row in table[1:]] == ["제공"] * 5
    made = argus(cli_env, "ledger", "--format", "html", "--out", str(page))
    assert made.returncode == 0 and "관리기관: 전체 기관" in page.read_text()
    unknown = argus(cli_env, "ledger", "--agency", "없는 구청", "--out", str(sheet))
    assert unknown.returncode == 2 and "없는 구청" in unknown.stderr
