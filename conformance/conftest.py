"""Fixtures shared by the conformance suite: stores, key service, TLS files, Cloak.

Servers are session-wide, since each takes up to a second to start; tests keep out of
each other's way by using their own bucket (the `bucket` fixture).

The through-Cloak tests record their steps (harness.report); the hooks at the end of
this file print the compatibility table after every run, write it to
target/conformance/compatibility.md, and with --update-compat-doc also into
docs/COMPATIBILITY.md.
"""

import datetime
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

# Importable whatever directory pytest is started from.
sys.path.insert(0, str(Path(__file__).parent))
# Plain asserts in the harness's checks explain themselves, as in the tests.
pytest.register_assert_rewrite("harness")

from harness import bao, cloak, procs, report, stores, targets, tls  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TABLE_FILE = REPO / "target" / "conformance" / "compatibility.md"
COMPAT_DOC = REPO / "docs" / "COMPATIBILITY.md"


def pytest_addoption(parser):
    parser.addoption(
        "--update-compat-doc",
        action="store_true",
        help="write this run's compatibility table into docs/COMPATIBILITY.md",
    )


def pytest_configure(config):
    procs.install_signal_handlers()
    config.stash[_TABLE] = report.Table()


def pytest_sessionfinish(session, exitstatus):
    procs.stop_all()


@pytest.fixture(scope="session")
def tls_files() -> tls.TlsFiles:
    return tls.make_server_cert()


@pytest.fixture(scope="session")
def moto_store():
    with stores.start_moto() as store:
        yield store


@pytest.fixture(scope="session")
def rclone_store():
    with stores.start_rclone() as store:
        yield store


@pytest.fixture(scope="session")
def rclone_tls_store(tls_files):
    with stores.start_rclone(tls=tls_files) as store:
        yield store


@pytest.fixture(scope="session")
def bao_server():
    with bao.start_bao() as server:
        yield server


@pytest.fixture
def bucket_name(request) -> str:
    """A bucket name no other test uses: the test's name, sanitised, and a suffix."""
    stem = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")
    return f"{stem[:50].rstrip('-')}-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def cloak_bin() -> Path:
    """The proxy binary named by CLOAK_BIN; tests that need it skip without it."""
    value = os.environ.get("CLOAK_BIN")
    if not value:
        pytest.skip("CLOAK_BIN is not set")
    path = Path(value)
    if not path.is_file():
        pytest.fail(f"CLOAK_BIN={value} is not a file")
    return path


@pytest.fixture(scope="session")
def cloaks(cloak_bin, tls_files, moto_store, rclone_store, rclone_tls_store):
    """One Cloak per (store, scheme) pair, started on first use, stopped at the end."""
    upstream = {
        ("moto", "http"): moto_store,
        ("moto", "https"): moto_store,
        ("rclone", "http"): rclone_store,
        ("rclone", "https"): rclone_tls_store,
    }
    running: dict[tuple[str, str], targets.Target] = {}

    def get(pair: tuple[str, str]) -> targets.Target:
        if pair not in running:
            store = upstream[pair]
            proxy = cloak.start_cloak(
                cloak_bin, store, tls=tls_files if pair[1] == "https" else None
            )
            ref_bucket = store.make_bucket(f"reference-{pair[1]}-{secrets.token_hex(4)}")
            running[pair] = targets.Target(proxy, ref_bucket)
        return running[pair]

    yield get
    for target in running.values():
        target.cloak.stop()


@pytest.fixture
def target(request, cloaks) -> targets.Target:
    """The Cloak a through-Cloak test talks to; parametrize with targets.target_params().
    If the test fails, the end of Cloak's log is added to its report."""
    chosen = cloaks(request.param)
    assert chosen.cloak.alive(), chosen.cloak.log_tail()
    request.node.stash[_CLOAK] = chosen.cloak
    return chosen


@pytest.fixture
def steps(request, target):
    """Make the test's step recorder for one client: `s = steps("aws-cli")`."""

    def make(client: str) -> report.Steps:
        recorder = report.Steps(client, target.store_kind, target.scheme)
        request.node.stash.setdefault(_STEPS, []).append(recorder)
        return recorder

    return make


_TABLE = pytest.StashKey[report.Table]()
_STEPS = pytest.StashKey[list]()
_CLOAK = pytest.StashKey[cloak.Cloak]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    result = outcome.get_result()
    if result.when == "call" or (result.when == "setup" and result.outcome != "passed"):
        _record(item, result)
    if result.failed and _CLOAK in item.stash:
        result.sections.append(("cloak log", item.stash[_CLOAK].log_tail(60)))


def _record(item, result) -> None:
    recorders = item.stash.get(_STEPS, [])
    # pytest prefixes the marker's reason with "reason: ".
    xfail_reason = getattr(result, "wasxfail", None)
    if xfail_reason is not None:
        xfail_reason = xfail_reason.removeprefix("reason: ")
    table = item.config.stash[_TABLE]
    if result.failed and not recorders:
        # Failed before any step was made (setup, say): one row for the whole test.
        pair = getattr(item, "callspec", None) and item.callspec.params.get("target")
        if pair:
            client = getattr(item.module, "CLIENT", item.originalname)
            recorders = [report.Steps(client, *pair)]
    for recorder in recorders:
        if result.failed and not recorder.done:
            recorder.done.append(
                report.Step(
                    recorder.client, recorder.store, recorder.scheme, "(test)", report.FAIL,
                    str(result.longrepr)[:300],
                )
            )
        table.add_test(recorder.done, xfail_reason)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    table = config.stash[_TABLE]
    if not table.steps:
        return
    text = table.markdown(_provenance(config))
    terminalreporter.write_sep("=", "Cloak compatibility (client x store x scheme)")
    terminalreporter.write(text)
    problems = table.problems()
    if problems:
        terminalreporter.write_line("")
        for step in problems:
            # Expected failures are explained by their reasons above; keep them short.
            message = step.message if step.outcome == report.FAIL else step.message[:160]
            terminalreporter.write_line(
                f"{step.outcome}: {step.client} / {step.store} / {step.scheme} / "
                f"{step.operation}: {message}"
            )
    TABLE_FILE.parent.mkdir(parents=True, exist_ok=True)
    TABLE_FILE.write_text(text)
    terminalreporter.write_line(f"table written to {TABLE_FILE}")
    if config.getoption("--update-compat-doc"):
        if _narrowing(config):
            # A partial table would pass for the whole matrix.
            terminalreporter.write_line(f"not written into {COMPAT_DOC}: not the whole suite")
        else:
            report.replace_generated(COMPAT_DOC, text)
            terminalreporter.write_line(f"table written into {COMPAT_DOC}")


def _provenance(config) -> str:
    """What this table is from: when, which Cloak binary, which commit, which selection."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = " (work tree modified)" if git("status", "--porcelain", "--untracked-files=no") else ""
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    selection = " ".join(_narrowing(config)) or "whole suite"
    binary = os.environ.get("CLOAK_BIN", "(not set)")
    return (
        f"Generated {when} by conformance/run.sh ({selection}), repository at "
        f"{commit}{dirty}, CLOAK_BIN={Path(binary).name}."
    )


def _narrowing(config) -> list[str]:
    # run.sh always passes the suite's directory and -q; anything else narrows the run.
    ignored = ("conformance", "-q", "--update-compat-doc")
    return [a for a in config.invocation_params.args if a not in ignored]
