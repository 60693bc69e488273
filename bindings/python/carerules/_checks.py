"""No silent mistakes: unknown keys and columns, `each=` paths, progress, frame dtypes.

Used by :class:`carerules.Ruleset`; nothing here is public except the two classes
:class:`UnknownInputWarning` and :class:`UnknownInputError` (re-exported by the package).
"""

from __future__ import annotations

import difflib
import sys
import warnings
from typing import Any, Iterable, Optional


class UnknownInputWarning(UserWarning):
    """A frame column or a flat dotted key matches no declared input but is close to one
    (``facility.building.appraisal.grde`` for ``…grade``): the engine does not read it, so
    the fact it was meant to give is missing. Given once per key and call; ``strict=True``
    raises :class:`UnknownInputError` instead."""


class UnknownInputError(KeyError):
    """``strict=True``: keys or columns that match no declared input. ``keys`` lists them
    (dotted paths; fields of list records as ``residents[].ability``); ``str(e)`` names each
    with a did-you-mean where one is close."""

    def __init__(self, message: str, keys: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.keys: list = list(keys)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown input"

    def __reduce__(self):
        return (UnknownInputError, (str(self), self.keys))


def _candidates(inputs: list, subject: str) -> list:
    """Every path a record may hold: inputs, the objects they are in, the subject."""
    out: dict = {}
    for i in inputs:
        parts = i["path"].split(".")
        for n in range(1, len(parts) + 1):
            out[".".join(parts[:n])] = None
            if parts[n - 1].endswith("[]"):  # the list itself, as a column names it
                out[".".join(parts[:n - 1] + [parts[n - 1][:-2]])] = None
    out[subject or "id"] = None
    return list(out)


def _close(path: str, candidates: list) -> Optional[str]:
    """The declared path `path` was most likely meant to be, or None when none is close."""
    if not candidates:
        return None
    low = path.lower()
    for c in candidates:
        if c.lower() == low:
            return c
    # Compare with paths of the same depth first: a misspelt last segment is the usual slip.
    depth = path.count(".")
    same = [c for c in candidates if c.count(".") == depth]
    for pool in (same, candidates):
        got = difflib.get_close_matches(path, pool, n=1, cutoff=0.85)
        if got:
            return got[0]
    # A short last segment (`bed` for `beds`) under the right parent.
    head, _, last = path.rpartition(".")
    siblings = [c for c in same if c.rpartition(".")[0] == head]
    got = difflib.get_close_matches(last, [c.rpartition(".")[2] for c in siblings], n=1,
                                    cutoff=0.85)
    if got:
        return (head + "." if head else "") + got[0]
    return None


def _describe(paths: list, candidates: list, what: str) -> str:
    parts = []
    for p in paths:
        near = _close(p, candidates)
        parts.append(f"{p!r} (did you mean {near!r}?)" if near else repr(p))
    noun = what if len(paths) == 1 else what + "s"
    return f"no declared input matches {noun} " + ", ".join(parts)


class _KeyCheck:
    """One call's watch over keys that reach no declared input.

    ``strict``: the first chunk holding such keys raises :class:`UnknownInputError`. Else a
    key close to a declared input warns (once per key per call); others pass, as any extra
    key of a record does. The engine calls :meth:`__call__` with the keys it found after
    binding each chunk (flat dotted keys, or every key when strict).
    """

    def __init__(self, inputs: list, subject: str, strict: bool, what: str = "key",
                 stacklevel: int = 4) -> None:
        self.candidates = _candidates(inputs, subject)
        self.strict = strict
        self.what = what
        self.stacklevel = stacklevel
        self.warned: set = set()

    def __call__(self, paths: list) -> None:
        if self.strict:
            self.fail(paths)
        for p in paths:
            self.maybe_warn(p)

    def fail(self, paths: list, what: Optional[str] = None) -> None:
        raise UnknownInputError(_describe(paths, self.candidates, what or self.what), paths)

    def maybe_warn(self, path: str, what: Optional[str] = None,
                   stacklevel: Optional[int] = None) -> None:
        if path in self.warned:
            return
        near = _close(path, self.candidates)
        if near is None:
            return
        self.warned.add(path)
        warnings.warn(f"{what or self.what} {path!r} matches no declared input and is not read; "
                      f"did you mean {near!r}?", UnknownInputWarning,
                      stacklevel=stacklevel or self.stacklevel)


def _each_check(each: str, inputs: list) -> None:
    """``each=`` names the list whose elements are evaluated one by one.

    Raises ValueError when the ruleset declares that path as something other than a list of
    records, or declares no such path while a declared list is a near miss of it
    (``residentz``). A path the ruleset does not declare at all is the record's own list (a
    ruleset written for one element, such as a resident, declares only the element's
    fields); a record without a list there gets an error in its report, as in the CLI.
    """
    if not each:
        return
    by_path = {i["path"]: i for i in inputs}
    declared = by_path.get(each)
    if declared is not None:
        if declared["type"] != "list":
            raise ValueError(f"each={each!r}: the ruleset declares {each!r} as "
                             f"{declared['type']}, not as a list of records")
        return
    if any(p.startswith(each + ".") or p.startswith(each + "[].") for p in by_path):
        raise ValueError(f"each={each!r}: the ruleset declares {each!r} as an object, not as "
                         f"a list of records")
    lists = [p for p, i in by_path.items() if i["type"] == "list"]
    near = _close(each, lists)
    if near is not None:
        raise ValueError(f"each={each!r} is not a declared list; did you mean {near!r}?")


# ------------------------------------------------------------------------------ progress


class _Counter:
    """A plain progress line on stderr when tqdm is not installed."""

    def __init__(self, total: int, unit: str) -> None:
        self.total = total
        self.unit = unit

    def __call__(self, done: int, total: int) -> None:
        sys.stderr.write(f"\rcarerules: {done}/{total} {self.unit}")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()


def _progress_hook(progress: Any, total: int, unit: str = "records"):
    """(callback, close) for ``progress=``: None/False nothing, True a tqdm bar (or a line on
    stderr without tqdm), a callable is called as ``progress(done, total)``."""
    if progress is None or progress is False:
        return None, None
    if progress is True:
        try:
            from tqdm import tqdm
        except ImportError:
            counter = _Counter(total, unit)
            return counter, counter.close
        bar = tqdm(total=total, unit=" " + unit, desc="carerules")

        def update(done: int, _total: int) -> None:
            bar.update(done - bar.n)

        return update, bar.close
    if callable(progress):
        return progress, None
    raise TypeError(f"progress must be a bool or a callable (done, total), got "
                    f"{type(progress).__name__}")


# ---------------------------------------------------------------------------- frame dtypes

#: Hazard statuses, in the order of the report's enum.
HAZARD_STATUSES = ["absent", "present", "undetermined", "error"]
#: Grade outcomes that are not on a scale: ordered below its lowest value.
GRADE_OUTCOMES = ["error", "undetermined", "none"]


def grade_categories(values: list) -> list:
    """A grade column's categories, lowest first: the outcomes off the scale, then the
    scale as the ruleset declares it (blue < yellow < orange < red; levels lowest first)."""
    return [o for o in GRADE_OUTCOMES if o not in values] + list(values)


def typed_frame(pd: Any, frame: Any, hazards: list, grades: list) -> Any:
    """Hazard status columns as (unordered) categoricals, grade columns as ordered ones."""
    status = pd.CategoricalDtype(HAZARD_STATUSES)
    for h in hazards:
        col = "hazard." + h["id"]
        if col in frame:
            frame[col] = frame[col].astype(status)
    for g in grades:
        col = "grade." + g["name"]
        if col in frame:
            frame[col] = frame[col].astype(
                pd.CategoricalDtype(grade_categories(g["values"]), ordered=True))
    if len(frame) == 0:
        # No values to type the other columns by: the dtypes rows would give them, so that an
        # empty result concatenates with others (and matches carerules.dask's meta).
        for col in frame.columns:
            if col == "errors":
                frame[col] = frame[col].astype("int64")
            elif col.startswith("score."):
                frame[col] = frame[col].astype("float64")
            elif not isinstance(frame[col].dtype, pd.CategoricalDtype):
                frame[col] = frame[col].astype(object)
    return frame

