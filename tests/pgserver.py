"""A throw-away PostgreSQL server for the tests, from Debian's packages, on 127.0.0.1."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def _bin_dir() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if not found:
        raise PostgresUnavailable(
            "no PostgreSQL server under /usr/lib/postgresql: 'make test' installs Debian's "
            "postgresql package; or set ARGUS_TEST_DB=sqlite to test SQLite only"
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    root: Path
    port: int
    bin_dir: Path
    run_as: str | None

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://argus@127.0.0.1:{self.port}/{database}"

    def _cmd(self, *args: str) -> list[str]:
        if self.run_as:
            return ["runuser", "-u", self.run_as, "--", *args]
        return list(args)

    @classmethod
    def start(cls) -> PostgresServer:
        bin_dir = _bin_dir()
        run_as = None
        if os.geteuid() == 0:  # initdb refuses to run as root: use Debian's postgres account
            try:
                pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PostgresUnavailable("running as root and no 'postgres' user exists") from exc
            run_as = "postgres"
        root = Path(tempfile.mkdtemp(prefix="argus-pg-"))
        if run_as:
            shutil.chown(root, run_as)
        server = cls(root=root, port=_free_port(), bin_dir=bin_dir, run_as=run_as)
        data = root / "data"
        subprocess.run(
            server._cmd(
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "argus",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ),
            check=True,
            capture_output=True,
        )
        options = (
            f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c max_connections=200"
        )
        subprocess.run(
            server._cmd(
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(root / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ),
            check=True,
            capture_output=True,
        )
        return server

    def stop(self) -> None:
        subprocess.run(
            self._cmd(
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.root / "data"),
                "-m",
                "fast",
                "-w",
                "stop",
            ),
            capture_output=True,
        )
        shutil.rmtree(self.root, ignore_errors=True)
