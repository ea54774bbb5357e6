"""Development aid: regenerate the newest, not yet released migration from the models.

    .venv/bin/python tools/regen_migration.py 0002 "identity, sharing and audit"

Deletes versions/<rev>_*.py, builds a scratch SQLite database at the previous revision and
autogenerates <rev> against every model. Review the result before committing it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command

import argus.models  # noqa: F401  (every package's tables)
from argus.db import alembic_config, make_engine

VERSIONS = Path(__file__).resolve().parent.parent / "src" / "argus" / "migrations" / "versions"


def main() -> None:
    revision, message = sys.argv[1], sys.argv[2]
    for old in VERSIONS.glob(f"{revision}_*.py"):
        old.unlink()
    previous = f"{int(revision) - 1:04d}"
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as parked:
        # hand-written migrations after this one depend on it: park them while it is rebuilt
        later = [p for p in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py") if p.name[:4] > revision]
        for path in later:
            shutil.move(path, Path(parked) / path.name)
        engine = make_engine(f"sqlite:///{tmp}/scratch.db")
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, previous)
            command.revision(config, message=message, autogenerate=True, rev_id=revision)
        engine.dispose()
        for path in later:
            shutil.move(Path(parked) / path.name, path)
    created = sorted(VERSIONS.glob(f"{revision}_*.py"))
    ruff = Path(sys.executable).parent / "ruff"
    subprocess.run([str(ruff), "check", "--fix", "-q", *map(str, created)], check=False)
    subprocess.run([str(ruff), "format", "-q", *map(str, created)], check=True)


if __name__ == "__main__":
    main()
