"""Temporary directories for one run of the harness, removed when the interpreter exits.

Set CLOAK_KEEP_TMP=1 to keep them (server logs, store contents, certificates) for
debugging; the path is printed at exit then. Directories left by a run that was killed
outright are removed by the next run.
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

_PREFIX = "cloak-harness-"
_root: Path | None = None


def root() -> Path:
    """The directory under which everything of this run is kept, created on first use."""
    global _root
    if _root is None:
        _remove_orphans()
        _root = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))
    return _root


def new_dir(prefix: str) -> Path:
    """A fresh, empty directory under root(), named after its use."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=root()))


def _remove_orphans() -> None:
    # A run that was killed outright could not clean up; its directory names its pid.
    for path in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*-*"):
        pid = path.name[len(_PREFIX) :].split("-")[0]
        kept = (path / "KEPT").exists()
        if pid.isdigit() and not kept and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process
    return True


def _cleanup() -> None:
    if _root is None:
        return
    if os.environ.get("CLOAK_KEEP_TMP") == "1":
        (_root / "KEPT").touch()
        print(f"harness: kept {_root}", file=sys.stderr)
        return
    shutil.rmtree(_root, ignore_errors=True)


# Registered at import, before procs registers its own exit hook; exit hooks run in
# reverse order, so servers are stopped before their directories are removed.
atexit.register(_cleanup)
