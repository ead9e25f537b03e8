"""Starting servers and tools as subprocesses, and making sure none outlive the tests.

Every server gets its own process group and a log directory. It is stopped with SIGTERM
to the whole group, then SIGKILL after a grace period. Servers still running are stopped
when the test session ends (conftest), at interpreter exit, and on SIGTERM/SIGHUP. The
kernel also kills a server if this interpreter dies without running any of that
(PR_SET_PDEATHSIG).
"""

import atexit
import ctypes
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import ports, scratch


class ProcessFailed(RuntimeError):
    """A server exited, or did not become ready in time."""


class ToolFailed(RuntimeError):
    """A command-line tool exited non-zero or ran past its timeout."""


@dataclass(eq=False)
class Proc:
    """A running server: its argv, process, log files and the port it serves."""

    name: str
    argv: list[str]
    popen: subprocess.Popen
    log_dir: Path
    port: int | None = None
    _stopped: bool = field(default=False, repr=False)

    @property
    def stdout_log(self) -> Path:
        return self.log_dir / "stdout.log"

    @property
    def stderr_log(self) -> Path:
        return self.log_dir / "stderr.log"

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of both logs, for failure messages."""
        parts = []
        for log in (self.stdout_log, self.stderr_log):
            text = log.read_text(errors="replace") if log.exists() else ""
            tail = "\n".join(text.splitlines()[-lines:])
            parts.append(f"--- {self.name} {log.name} ---\n{tail}")
        return "\n".join(parts)

    def stop(self, grace: float = 5.0) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after `grace` seconds."""
        if self._stopped:
            return
        self._stopped = True
        _live.discard(self)
        _signal_group(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        # Also reaches anything the server forked that ignored SIGTERM.
        _signal_group(self.popen.pid, signal.SIGKILL)
        self.popen.wait()


_live: set[Proc] = set()


def start(
    name: str,
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    port: int | None = None,
    ready: Callable[[int], bool] | None = None,
    timeout: float = 30.0,
) -> Proc:
    """Start a server and wait until `port` accepts connections and `ready(port)` is
    true (say, http_responds on a health URL; needs `port`).

    Raises ProcessFailed, with the server's log tail, if it exits first or the wait
    runs past `timeout`; the server is stopped in that case.
    """
    log_dir = scratch.new_dir(f"log-{name}")
    with open(log_dir / "stdout.log", "wb") as out, open(log_dir / "stderr.log", "wb") as err:
        popen = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    proc = Proc(name=name, argv=argv, popen=popen, log_dir=log_dir, port=port)
    _live.add(proc)
    try:
        _wait_ready(proc, ready, timeout)
    except ProcessFailed:
        proc.stop(grace=1.0)
        raise
    return proc


def start_listening(
    name: str,
    argv_for_port: Callable[[int], list[str]],
    *,
    attempts: int = 3,
    **kwargs,
) -> Proc:
    """Like start(), on a fresh free port, trying again if the server exits early.

    An early exit is most likely the port having been taken between ports.free_port()
    and the server's bind.
    """
    for attempt in range(1, attempts + 1):
        port = ports.free_port()
        try:
            return start(name, argv_for_port(port), port=port, **kwargs)
        except ProcessFailed:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def http_responds(url: str) -> bool:
    """Whether `url` answers with any status below 500; for readiness probes."""
    try:
        with urllib.request.urlopen(url, timeout=2.0) as response:
            return response.status < 500
    except urllib.error.HTTPError as err:
        return err.code < 500
    except OSError:
        return False


def run(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120.0,
) -> subprocess.CompletedProcess:
    """Run a tool to completion; raise ToolFailed with its output if it fails."""
    popen = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    try:
        stdout, stderr = popen.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stdout, stderr = _kill_tool(popen)
        raise ToolFailed(_describe(argv, f"timed out after {timeout}s", stdout, stderr)) from None
    except BaseException:
        _kill_tool(popen)
        raise
    if popen.returncode != 0:
        raise ToolFailed(_describe(argv, f"exited {popen.returncode}", stdout, stderr))
    return subprocess.CompletedProcess(argv, popen.returncode, stdout, stderr)


def running() -> list[Proc]:
    """Servers started here and not stopped yet."""
    return list(_live)


def stop_all() -> None:
    """Stop every server this process started and has not stopped yet."""
    for proc in list(_live):
        proc.stop(grace=2.0)


def install_signal_handlers() -> None:
    """Turn SIGTERM and SIGHUP into KeyboardInterrupt, so that teardown and exit hooks
    run (Python's default for these signals is to die without either)."""

    def interrupt(signum, _frame):
        raise KeyboardInterrupt(f"received signal {signum}")

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)


def _wait_ready(proc: Proc, ready: Callable[[int], bool] | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not proc.alive():
            raise ProcessFailed(
                f"{proc.name} exited with {proc.popen.returncode}\n{proc.log_tail()}"
            )
        if proc.port is None or ports.is_accepting(proc.port):
            if ready is None or ready(proc.port):
                return
        if time.monotonic() > deadline:
            raise ProcessFailed(f"{proc.name} not ready after {timeout}s\n{proc.log_tail()}")
        time.sleep(0.05)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_tool(popen: subprocess.Popen) -> tuple[str, str]:
    _signal_group(popen.pid, signal.SIGKILL)
    return popen.communicate()


def _describe(argv: list[str], what: str, stdout: str, stderr: str) -> str:
    return f"{' '.join(argv)}: {what}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"


_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:
    # Runs in the child between fork and exec. The kernel sends SIGKILL when the thread
    # that forked it exits, so start servers from the main thread.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


atexit.register(stop_all)
