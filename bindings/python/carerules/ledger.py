"""carerules.Ledger: the rectification ledger from Python, as DataFrames.

    ledger = carerules.Ledger("ledger.db")
    ledger.record(rs.evaluate_many(round1, asof="2024-06-01"), round="R1")
    ledger.status(asof="2024-12-01")          # open / overdue / closed / rebound counts
    ledger.findings(asof="2024-12-01")        # one row per finding
    ledger.show("FJ-XM-0001")                 # the institution's file, with each round
    ledger.diff("R1", "R2")                   # new, closed, still open, rebound, undetermined

The same file and the same rules as ``carerules ledger`` (docs/ledger.md).
"""

from __future__ import annotations

import datetime as _datetime
import json as _json
import os as _os
from typing import Any, Iterable, Optional, Sequence

from . import _core

_COLUMNS = ["subject", "item", "title", "cite", "action", "due", "status", "rebound", "opened",
            "reopened", "closed", "responsible", "last_status"]
_CHANGES = ["new", "closed", "still_open", "rebound", "undetermined"]


class LedgerError(RuntimeError):
    """A ledger that cannot be opened or written, or an unknown round."""


def _call(fn, *args):
    try:
        return fn(*args)
    except RuntimeError as e:  # the ledger's own errors
        raise LedgerError(str(e)) from None


def _date(asof: Any) -> str:
    """``asof`` checked as ``evaluate`` checks it (ValueError, TypeError); None: today."""
    if asof is None:
        return _datetime.date.today().isoformat()
    from . import _asof  # the package's own check (imported here: the package imports us)
    return _asof(asof)


def _frame(rows: list, columns: Sequence[str]):
    import pandas as pd
    return pd.DataFrame(rows, columns=list(columns))


def _findings_frame(rows: list, columns: Sequence[str]):
    """Findings: `rebound` is bool also when there are no rows."""
    frame = _frame(rows, columns)
    frame["rebound"] = frame["rebound"].astype(bool)
    return frame


def _name(value: Any, what: str) -> str:
    """A subject or round name: a str, or an int as its digits (numeric ids)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{what} must be a str, got {type(value).__name__}")
    return str(value)


class Ledger:
    """The ledger in the SQLite file at ``path`` (created on first use)."""

    def __init__(self, path: "str | _os.PathLike[str]") -> None:
        self.path = _os.fspath(path)
        self._core = _call(_core._Ledger, self.path)

    def record(self, reports: Iterable[Any], round: str, asof: Any = None,
               include_grades: Iterable[str] = ()) -> bool:
        """Records a round from reports (dicts as ``evaluate`` gives them, or their JSON text:
        one str per report, or one str holding them all as JSON lines or as a JSON array).
        ``include_grades``: grade values that make findings, as ``"risk=red"``. Returns False
        when the round was recorded before with the same content (nothing changes)."""
        if not isinstance(round, str):
            raise TypeError(f"round must be a str, got {type(round).__name__}")
        if not round:
            raise ValueError("round must not be empty")
        if isinstance(include_grades, str):  # one pick given alone
            include_grades = [include_grades]
        if isinstance(reports, bytes):
            reports = reports.decode("utf-8")
        if isinstance(reports, str):  # the text of a whole file of reports
            body = reports.lstrip()
            reports = (_json.loads(body) if body.startswith("[")
                       # split on LF only: JSON may carry U+2028 and the like unescaped
                       else [line for line in reports.split("\n") if line.strip()])
        # dicts and texts go as they are (the extension reads both); anything else as its JSON
        items = [r if isinstance(r, (str, dict)) else _json.dumps(r, ensure_ascii=False)
                 for r in reports]
        picks = []
        for g in include_grades:
            name, sep, value = str(g).partition("=")
            if not sep or not name or not value:
                raise ValueError(f"include_grades takes NAME=VALUE, e.g. risk=red, got {g!r}")
            picks.append((name, value))
        return _call(self._core.record, items, str(round), "" if asof is None else _date(asof),
                     picks)

    def rounds(self):
        """The recorded rounds in date order."""
        return _frame(_call(self._core.rounds), ["round", "asof", "ruleset", "version", "digest"])

    def findings(self, asof: Any = None):
        """Every finding as of ``asof`` (default today), one row each."""
        return _findings_frame(_call(self._core.findings, _date(asof)), _COLUMNS)

    def status(self, asof: Any = None):
        """How many findings are open, overdue, closed, and open again after a rebound."""
        f = self.findings(asof)
        counts = {
            "open": int((f["status"] == "open").sum()),
            "overdue": int((f["status"] == "overdue").sum()),
            "closed": int((f["status"] == "closed").sum()),
            "rebound": int((f["rebound"] & (f["status"] != "closed")).sum()),
        }
        return _frame([counts], ["open", "overdue", "closed", "rebound"])

    def show(self, subject: str, asof: Any = None):
        """The subject's file: each finding with ``history`` (a list of round, asof, status)."""
        return _findings_frame(_call(self._core.subject, _name(subject, "subject"), _date(asof)),
                               _COLUMNS + ["history"])

    def diff(self, from_round: str, to_round: str):
        """The findings that changed between two rounds, with a ``change`` column
        (new, closed, still_open, rebound, undetermined)."""
        d = _call(self._core.diff, _name(from_round, "from_round"), _name(to_round, "to_round"))
        rows = []
        for change in _CHANGES:
            for f in d[change]:
                rows.append({"change": change, **f})
        return _findings_frame(rows, ["change"] + _COLUMNS)
