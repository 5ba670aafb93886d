"""Argument types shared by every `lp` command and `python -m lpdata.generate`.

A value argparse cannot convert ends the command before anything runs, with one line in argparse's
error style and exit code 2, instead of a traceback from deep inside the job.
"""

from __future__ import annotations

import argparse
import datetime as dt


class Parser(argparse.ArgumentParser):
    """argparse's parser whose errors are one line (`lp run: error: argument --learners: ...`)
    pointing at the help, rather than the whole usage (several lines for a command with many
    options) followed by the error. Subcommands' parsers inherit it."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} -h`)\n")


def positive_int(value: str) -> int:
    """An integer of at least 1 (a number of learners, days, threads)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number: give a positive integer, e.g. 2000") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive: give a positive integer, e.g. 2000")
    return number


def iso_date(value: str) -> dt.date:
    """A calendar date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: use YYYY-MM-DD, e.g. 2025-06-01") from None
