"""Progress on standard error, only on a terminal (allocator/cli/progress.py): a pseudo-terminal sees the bar and
the status line, a pipe (and CliRunner's captured streams, and CI) sees nothing, and standard output never does."""

from __future__ import annotations

import logging
import os
import sys

from click.testing import CliRunner
from helpers import PROBLEMS, ROOT

from allocator.cli import main
from allocator.cli.progress import logged_status, on_terminal, progress_bar, progress_status


def _on_a_terminal(monkeypatch, work) -> str:  # type: ignore[no-untyped-def]
    """Run ``work()`` with standard error on a pseudo-terminal; what the terminal received."""
    leader, follower = os.openpty()
    stream = os.fdopen(follower, "w", buffering=1, encoding="utf-8")
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.setenv("TERM", "xterm")
    try:
        work()
        stream.flush()
    finally:
        stream.close()
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_bar_on_a_terminal(monkeypatch):
    def work() -> None:
        assert on_terminal()
        with progress_bar("what-if", total=4) as advance:
            for _ in range(4):
                advance(1)

    drawn = _on_a_terminal(monkeypatch, work)
    assert "what-if" in drawn and "4/4" in drawn


def test_a_status_line_fed_by_a_logger_on_a_terminal(monkeypatch):
    logger = logging.getLogger("allocator.test-progress")

    def work() -> None:
        with logged_status("transition", logger):
            logger.info("MILP 12 s: incumbent 348.21, bound 165.00, gap 52.61%")

    drawn = _on_a_terminal(monkeypatch, work)
    assert "transition" in drawn
    assert logger.handlers == [] and logger.level == logging.NOTSET  # nothing left behind


def test_nothing_off_a_terminal(capsys):
    assert not on_terminal()
    with progress_bar("what-if", total=3) as advance, progress_status("transition") as update:
        advance(3)
        update("MILP 1 s")
    assert capsys.readouterr() == ("", "")


def test_a_long_command_draws_nothing_into_a_pipe(tmp_path):
    run = CliRunner().invoke(main, ["whatif", str(PROBLEMS / "desk.toml"),
                                    str(ROOT / "fixtures" / "scenarios" / "desk-stress.toml"), "-o",
                                    str(tmp_path / "w.csv")])
    assert run.exit_code == 0, run.output
    assert run.stderr == "" and "what-if" not in run.stdout
