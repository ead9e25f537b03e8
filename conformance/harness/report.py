"""The compatibility table: client x store x scheme x operation -> pass, fail, xfail, skip.

A conformance test checks several operations of one client against one Cloak target
(a store behind Cloak, reached over one scheme). Each operation runs in a step:

    steps = Steps("aws-cli", "moto", "https")

    @steps("s3 cp up")
    def _():
        ...

    @steps("s3 cp down", needs=["s3 cp up"])
    def _():
        ...

    steps.finish()

A failing step is recorded with its message and the test goes on with the next step, so
one broken operation does not hide the others; a step whose `needs` failed is recorded
as skipped. finish() fails the test if any step failed. The conftest hooks add each
test's outcome (an expected failure turns its failed steps into "xfail"), print the
table at the end of the run, and write it as markdown.
"""

import re
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PASS, FAIL, XFAIL, SKIP = "pass", "FAIL", "xfail", "skip"

# How much of a failure message the table's problem list keeps.
_MESSAGE_CHARS = 400


@dataclass
class Step:
    client: str
    store: str
    scheme: str
    operation: str
    outcome: str
    message: str = ""


@dataclass
class Steps:
    """The steps of one test; see the module docstring."""

    client: str
    store: str
    scheme: str
    done: list[Step] = field(default_factory=list)

    def __call__(self, operation: str, needs: Iterable[str] = ()) -> Callable:
        """Decorator that runs the function at once as the step `operation`; the
        decorated name is bound to its return value (None if it failed or was skipped)."""

        def run(body: Callable[[], object]) -> object:
            missing = [n for n in needs if self.outcome(n) != PASS]
            if missing:
                self._add(operation, SKIP, f"needs {', '.join(missing)}")
                return None
            try:
                result = body()
            except _StepSkipped as skipped:
                self._add(operation, SKIP, str(skipped))
                return None
            except (Exception, pytest.fail.Exception) as err:  # noqa: BLE001 - recorded
                self._add(operation, FAIL, _summary(err))
                return None
            self._add(operation, PASS)
            return result

        return run

    def outcome(self, operation: str) -> str | None:
        for step in self.done:
            if step.operation == operation:
                return step.outcome
        return None

    def failed(self) -> list[Step]:
        return [s for s in self.done if s.outcome == FAIL]

    def finish(self) -> None:
        """Fail the test if any step failed, naming every failed step."""
        failed = self.failed()
        if failed:
            lines = [f"{s.operation}: {s.message}" for s in failed]
            raise AssertionError(f"{len(failed)} step(s) failed:\n" + "\n".join(lines))

    def _add(self, operation: str, outcome: str, message: str = "") -> None:
        self.done.append(Step(self.client, self.store, self.scheme, operation, outcome, message))


def skip_step(reason: str) -> None:
    """Inside a step: record the step as skipped (a client that lacks the operation)."""
    raise _StepSkipped(reason)


class _StepSkipped(Exception):
    pass


@dataclass
class Table:
    """Every step of the run, keyed for rendering."""

    steps: list[Step] = field(default_factory=list)
    # Why tests were expected to fail: their xfail reasons, each once.
    xfail_reasons: list[str] = field(default_factory=list)

    def add_test(self, steps: list[Step], xfail_reason: str | None) -> None:
        for step in steps:
            if xfail_reason is not None and step.outcome == FAIL:
                step.outcome = XFAIL
            self.steps.append(step)
        if xfail_reason and xfail_reason not in self.xfail_reasons:
            self.xfail_reasons.append(xfail_reason)

    def columns(self) -> list[tuple[str, str]]:
        return sorted({(s.store, s.scheme) for s in self.steps}, key=_column_order)

    def rows(self) -> list[tuple[str, str]]:
        seen: dict[tuple[str, str], None] = {}
        for step in sorted(self.steps, key=lambda s: s.client):
            seen.setdefault((step.client, step.operation), None)
        return list(seen)

    def cell(self, client: str, operation: str, column: tuple[str, str]) -> str:
        outcomes = [
            s.outcome
            for s in self.steps
            if (s.client, s.operation, (s.store, s.scheme)) == (client, operation, column)
        ]
        if not outcomes:
            return "-"
        # Worst first: a step that ran in several tests counts by its worst outcome.
        for outcome in (FAIL, XFAIL, SKIP, PASS):
            if outcome in outcomes:
                return outcome
        return outcomes[0]

    def counts(self) -> dict[str, int]:
        counts = {PASS: 0, FAIL: 0, XFAIL: 0, SKIP: 0}
        for step in self.steps:
            counts[step.outcome] += 1
        return counts

    def markdown(self, provenance: str = "") -> str:
        columns = self.columns()
        head = ["client", "operation", *[f"{store} / {scheme}" for store, scheme in columns]]
        lines = [provenance, ""] if provenance else []
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for client, operation in self.rows():
            cells = [self.cell(client, operation, c) for c in columns]
            lines.append("| " + " | ".join([client, operation, *cells]) + " |")
        counts = ", ".join(f"{n} {k}" for k, n in self.counts().items())
        lines += ["", f"Steps: {counts}."]
        if self.xfail_reasons:
            lines += ["", "Expected failures (strict xfail: a fix turns them into failures):", ""]
            lines += [f"- {reason}" for reason in self.xfail_reasons]
        return "\n".join(lines) + "\n"

    def problems(self) -> list[Step]:
        return [s for s in self.steps if s.outcome in (FAIL, XFAIL)]


def replace_generated(doc: Path, text: str) -> None:
    """Put `text` between the BEGIN/END GENERATED markers of `doc`."""
    begin, end = "<!-- BEGIN GENERATED TABLE -->", "<!-- END GENERATED TABLE -->"
    current = doc.read_text()
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if not pattern.search(current):
        raise ValueError(f"{doc} has no {begin} ... {end} block")
    doc.write_text(pattern.sub(lambda _m: f"{begin}\n{text}{end}", current))


def _column_order(column: tuple[str, str]) -> tuple[int, str, str]:
    store, scheme = column
    return ({"moto": 0, "rclone": 1}.get(store, 2), scheme != "http", store + scheme)


def _summary(err: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(err), err)).strip()
    flat = " ".join(text.split())
    if len(flat) <= _MESSAGE_CHARS:
        return flat
    # A tool's own complaint is at the end of its stderr, after the command line.
    head = _MESSAGE_CHARS // 4
    return f"{flat[:head]} ... {flat[-(_MESSAGE_CHARS - head):]}"
