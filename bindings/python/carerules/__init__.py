"""carerules: a rules engine for the supervision and assessment of elderly-care institutions.

Compile a ruleset once, then evaluate records of facts against it. Facts are plain Python
data (dicts, lists, str, int, float, bool, None, ``datetime.date``, numpy scalars, pandas
timestamps) or JSON text; reports come back as plain dicts and lists, exactly the JSON report
of the C++ engine and the CLI (``rs.evaluate(d) == json.loads(cli_output)``).

    >>> import carerules
    >>> rs = carerules.load("rulesets/institution.rules")
    >>> report = rs.evaluate({"id": "FJ-1", "facility": {...}}, asof="2024-06-01")
    >>> [h["id"] for h in report["hazards"] if h["status"] == "present"]
    >>> reports = rs.evaluate_many(records, threads=0)     # every core, the GIL released
    >>> table = rs.evaluate_frame(df)                      # pandas in, pandas out

Errors: mistakes in rule text raise :class:`CompileError` (every diagnostic in
``.diagnostics``); a missing ruleset file raises ``FileNotFoundError``; a bad ``asof`` or a
negative ``threads`` ``ValueError``; an argument of the wrong kind ``TypeError``. A fault in
one record's facts never raises: it is listed in that record's report under ``"errors"``.

A :class:`Ruleset` is immutable and safe to share across threads; it pickles (it recompiles
from its source text), so it can be sent to ``multiprocessing`` workers.
"""

from __future__ import annotations

import datetime as _datetime
import errno as _errno
import json as _json
import operator as _operator
import os as _os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Callable, Optional, Union

from . import _core
from . import _html
from ._checks import UnknownInputError, UnknownInputWarning
from ._checks import _close as _close_column
from ._checks import _each_check, _KeyCheck, _progress_hook
from ._checks import typed_frame as _typed_frame
from .ledger import Ledger, LedgerError

#: The engine's version (one number, kept in CMakeLists.txt).
__version__ = _core.engine.split(" ", 1)[1]
#: The engine's name and version as reports state it ("carerules 0.1.0").
engine = _core.engine

__all__ = [
    "CompileError",
    "Diagnostic",
    "Ledger",
    "LedgerError",
    "Ruleset",
    "UnknownInputError",
    "UnknownInputWarning",
    "UnknownRuleError",
    "compile",
    "engine",
    "load",
    "report_html",
    "__version__",
]

#: A report (the dict evaluate returns) as a small HTML block; Jupyter shows reports this way.
report_html = _html.report_html
_html.register_ipython()


def __getattr__(name: str) -> Any:
    # `carerules.dask` without importing it first; dask itself is imported only then.
    if name == "dask":
        import importlib
        return importlib.import_module(".dask", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

PathLike = Union[str, "_os.PathLike[str]"]
Facts = Union[Mapping[str, Any], str, bytes]
DateLike = Union[str, _datetime.date]


# ------------------------------------------------------------------------------ errors


class Diagnostic(Mapping):
    """One diagnostic about rule text: where, how bad, what.

    Read it as an object (``d.line``) or as a mapping (``d["line"]``, ``dict(d)``); its keys
    are ``file``, ``line``, ``column`` (1-based, in code points), ``severity`` (``"error"``,
    ``"warning"`` or ``"note"``) and ``message``. ``rendered`` holds the CLI's full text: the
    headline, the source line and a caret under the column.
    """

    __slots__ = ("file", "line", "column", "severity", "message", "rendered")
    _keys = ("file", "line", "column", "severity", "message")

    def __init__(self, file: str, line: int, column: int, severity: str, message: str,
                 rendered: str = "") -> None:
        self.file = file
        self.line = line
        self.column = column
        self.severity = severity
        self.message = message
        self.rendered = rendered or self.headline() + "\n"

    def headline(self) -> str:
        """``file:line:column: severity: message``, as the CLI prints it."""
        if self.line > 0:
            return f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.message}"
        return f"{self.file}: {self.severity}: {self.message}"

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __str__(self) -> str:
        return self.headline()

    def __repr__(self) -> str:
        return (f"Diagnostic(file={self.file!r}, line={self.line}, column={self.column}, "
                f"severity={self.severity!r}, message={self.message!r})")

    def __reduce__(self):
        return (Diagnostic, (self.file, self.line, self.column, self.severity, self.message,
                             self.rendered))


class CompileError(Exception):
    """The ruleset does not compile.

    ``diagnostics`` lists every diagnostic found, each a :class:`Diagnostic`: the errors
    first, in file and line order, then the warnings. ``file``, ``line``, ``column`` and
    ``message`` are those of the first error (``diagnostics[0]``), and ``str(e)`` shows it
    as the CLI does:
    ``file:line:column: error: message``. ``rendered`` holds every diagnostic with its source
    line and caret.
    """

    def __init__(self, diagnostics: Iterable[Union[Diagnostic, Mapping[str, Any]]],
                 rendered: str = "") -> None:
        diags = [d if isinstance(d, Diagnostic) else Diagnostic(**dict(d)) for d in diagnostics]
        # Errors before warnings, so that diagnostics[0] is the error `line`/`message` name.
        diags = ([d for d in diags if d.severity == "error"] +
                 [d for d in diags if d.severity != "error"])
        self.diagnostics: list[Diagnostic] = diags
        first = next((d for d in diags if d.severity == "error"), diags[0] if diags else None)
        self.file: str = first.file if first else ""
        self.line: int = first.line if first else 0
        self.column: int = first.column if first else 0
        self.message: str = first.message if first else "the ruleset does not compile"
        self.rendered: str = rendered or "".join(d.rendered for d in diags)
        super().__init__(self._headline())

    def _headline(self) -> str:
        if self.line > 0:
            return f"{self.file}:{self.line}:{self.column}: error: {self.message}"
        if self.file:
            return f"{self.file}: error: {self.message}"
        return f"error: {self.message}"

    def __str__(self) -> str:
        return self._headline()

    def __reduce__(self):
        return (_rebuild_compile_error,
                ([{k: d[k] for k in Diagnostic._keys} | {"rendered": d.rendered}
                  for d in self.diagnostics], self.rendered))


def _rebuild_compile_error(diagnostics, rendered):
    return CompileError([Diagnostic(**d) for d in diagnostics], rendered)


class UnknownRuleError(KeyError, ValueError):
    """``explain`` was asked about a name no hazard, item, let, score or grade has."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown rule"


# ----------------------------------------------------------------------- argument checks


def _fspath(value: Any, what: str) -> str:
    try:
        path = _os.fspath(value)
    except TypeError:
        raise TypeError(f"{what} must be a str or os.PathLike, got {type(value).__name__}") from None
    if isinstance(path, bytes):
        path = _os.fsdecode(path)
    return path


def _roots(import_roots: Any) -> list[str]:
    if import_roots is None:
        return []
    if isinstance(import_roots, (str, bytes, _os.PathLike)):
        return [_fspath(import_roots, "import_roots")]
    if not isinstance(import_roots, Iterable):
        raise TypeError("import_roots must be a list of directories, got "
                        f"{type(import_roots).__name__}")
    return [_fspath(r, "an import root") for r in import_roots]


def _limits(limits: Any) -> list[tuple[str, str]]:
    if limits is None:
        return []
    if not isinstance(limits, Mapping):
        raise TypeError(f"limits must be a dict of name -> int, got {type(limits).__name__}")
    out = []
    for name, value in limits.items():
        if not isinstance(name, str):
            raise TypeError(f"a limit name must be a str, got {type(name).__name__}")
        try:
            if isinstance(value, bool):
                raise TypeError
            value = _operator.index(value)
        except TypeError:
            raise TypeError(f"limit {name!r} must be an int, got "
                            f"{type(value).__name__}") from None
        out.append((name, str(value)))
    return out


def _opt_str(value: Any, what: str) -> str:
    """A path option (``subject=``, ``each=``): None for the default, else a non-empty str,
    as the CLI's ``--subject`` and ``--each`` refuse an empty one."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str or None, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{what} must not be empty (None for the default)")
    if any(not part for part in value.split(".")) or any(ord(c) < 0x20 for c in value):
        raise ValueError(f"{what} needs a dotted path such as region.district, got {value!r}")
    return value


def _asof(value: Any) -> str:
    """``asof`` as YYYY-MM-DD; "" for the host's local date (the engine's default)."""
    if value is None:
        return ""
    if isinstance(value, str):
        ok = len(value) == 10 and value[4] == "-" and value[7] == "-" and \
            all("0" <= c <= "9" for i, c in enumerate(value) if i not in (4, 7))
        if ok:
            try:
                _datetime.date.fromisoformat(value)
            except ValueError:
                ok = False
        if not ok:
            raise ValueError(f'asof must be a date YYYY-MM-DD, got "{value}"')
        return value
    if isinstance(value, _datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, _datetime.date):
        return value.isoformat()
    if type(value).__name__ == "datetime64" and type(value).__module__ == "numpy":
        text = str(value.astype("datetime64[D]"))
        if text != "NaT":
            return _asof(text)
    raise TypeError(f"asof must be a date or a 'YYYY-MM-DD' str, got {type(value).__name__}")


def _threads(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("threads must be an int, got bool")
    try:
        n = _operator.index(value)
    except TypeError:
        raise TypeError(f"threads must be an int, got {type(value).__name__}") from None
    if n < 0:
        raise ValueError(f"threads must be 0 (every core) or more, got {n}")
    return min(n, 256)


def _facts(facts: Any) -> Any:
    if isinstance(facts, (dict, str, bytes)):
        return facts
    if isinstance(facts, Mapping):
        return dict(facts)
    raise TypeError(f"facts must be a dict or JSON text (str), got {type(facts).__name__}")


def _records(records: Any) -> Any:
    if type(records).__name__ == "DataFrame":
        raise TypeError("records must be dicts or JSON texts; for a DataFrame use "
                        "evaluate_frame()")
    if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Iterable):
        raise TypeError("records must be a list (or iterable) of dicts or JSON texts, got "
                        f"{type(records).__name__}")
    if isinstance(records, (list, tuple)):
        return records
    return [r if not isinstance(r, Mapping) or isinstance(r, dict) else dict(r) for r in records]


# --------------------------------------------------------------------------- compiling


def load(path: PathLike, import_roots: Optional[Iterable[PathLike]] = None,
         limits: Optional[Mapping[str, int]] = None) -> Ruleset:
    """Compiles a ruleset file and the files it imports.

    ``import_roots``: directories imports may resolve into, besides the file's own directory
    (``--import-root`` of the CLI). ``limits``: ``{name: int}``, e.g. ``{"depth": 64}``; the
    names are those of ``--limit`` (source_bytes, depth, identifier, string, imports,
    diagnostics, json_depth, json_string, list, line_bytes, steps).

    Raises ``FileNotFoundError`` when the file does not exist, ``IsADirectoryError`` for a
    directory, :class:`CompileError` when the rule text has errors (a missing *import* is such
    an error), ``ValueError`` for an unknown limit name or a bad limit value.
    """
    path = _fspath(path, "path")
    roots = _roots(import_roots)
    pairs = _limits(limits)
    if not _os.path.exists(path):
        raise FileNotFoundError(_errno.ENOENT, _os.strerror(_errno.ENOENT), path)
    if _os.path.isdir(path):
        raise IsADirectoryError(_errno.EISDIR, _os.strerror(_errno.EISDIR), path)
    result = _core.compile_file(path, roots, pairs)
    if not result.ok:
        raise CompileError(result.diagnostics, result.rendered)
    with open(path, "rb") as f:  # kept for pickling: a ruleset recompiles from its text
        text = f.read()
    origin = {
        "text": text,
        "name": path,
        "import_roots": [_os.path.dirname(_os.path.abspath(path))]
                        + [_os.path.abspath(r) for r in roots],
        "limits": pairs,
        "path": path,
    }
    return Ruleset._make(result, origin)


def compile(text: Union[str, bytes], name: str = "inline.rules",
            import_roots: Optional[Iterable[PathLike]] = None,
            limits: Optional[Mapping[str, int]] = None) -> Ruleset:
    """Compiles ruleset source text held in memory.

    ``name`` is what diagnostics and grades' ``because`` show for the text. Imports resolve
    against ``import_roots``; the first root stands for "the text's directory" (without
    roots, the current directory). Raises :class:`CompileError` on errors, ``TypeError`` when
    ``text`` is not a str (or UTF-8 bytes).
    """
    if isinstance(text, str):
        data = text.encode("utf-8", "surrogatepass")
    elif isinstance(text, (bytes, bytearray)):
        data = bytes(text)
    else:
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    roots = _roots(import_roots)
    pairs = _limits(limits)
    result = _core.compile_source(data, name, roots, pairs)
    if not result.ok:
        raise CompileError(result.diagnostics, result.rendered)
    origin = {
        "text": data,
        "name": name,
        "import_roots": [_os.path.abspath(r) for r in roots] or [_os.getcwd()],
        "limits": pairs,
        "path": None,
    }
    return Ruleset._make(result, origin)


# Rulesets unpickled in this process, so that a multiprocessing pool given the same ruleset
# with every task compiles it once per worker. Rulesets are immutable: sharing them is safe.
_restored: dict = {}
_RESTORED_MAX = 32


def _restore(origin: dict) -> Ruleset:
    """Unpickles a ruleset: recompiles its text and checks the digest is unchanged."""
    key = (origin["text"], origin["name"], tuple(origin["import_roots"]),
           tuple(map(tuple, origin["limits"])), origin["path"], origin.get("digest"))
    cached = _restored.get(key)
    if cached is not None:
        return cached
    # The imported files' bytes travel with the pickle and are read from memory, so the
    # ruleset unpickles where those files are not (another machine, a moved tree).
    result = _core.compile_source(origin["text"], origin["name"], origin["import_roots"],
                                  origin["limits"], origin.get("imports", []))
    if not result.ok:
        raise CompileError(result.diagnostics, result.rendered)
    rs = Ruleset._make(result, origin)
    if origin.get("digest") and rs.digest != origin["digest"]:
        raise RuntimeError(f"ruleset {origin['name']!r} changed since it was pickled (an "
                           f"imported file differs): digest {rs.digest}, was {origin['digest']}")
    if len(_restored) >= _RESTORED_MAX:
        _restored.pop(next(iter(_restored)))
    _restored[key] = rs
    return rs


# ----------------------------------------------------------------------------- rulesets


class Ruleset:
    """A compiled ruleset. Make one with :func:`load` or :func:`compile`.

    Immutable and safe to share across threads. Pickles (recompiling from its source text,
    with the same name, import roots and limits), so it can go to ``multiprocessing``
    workers.

    Attributes: ``name``, ``title``, ``version``, ``digest`` (``"sha256:…"`` over the source
    files), ``source`` and ``effective`` (``None`` when not declared), ``info`` (the report's
    ``ruleset`` object), ``inputs`` (the declared inputs), ``path`` (the file it was loaded
    from, ``None`` for :func:`compile`), ``warnings`` (the compiler's warnings).
    """

    __slots__ = ("_core", "_origin", "_warnings")

    def __init__(self) -> None:
        raise TypeError("make a Ruleset with carerules.load() or carerules.compile()")

    @classmethod
    def _make(cls, result: Any, origin: dict) -> Ruleset:
        self = object.__new__(cls)
        self._core = result.ruleset
        self._origin = dict(origin, digest=result.ruleset.digest)
        if "imports" not in origin:  # the imported files' bytes travel with a pickle
            self._origin["imports"] = [(path, data) for _, path, data in
                                       result.ruleset.source_files()[1:] if path]
        self._warnings = [Diagnostic(**d) for d in result.diagnostics]
        return self

    # ---- metadata ----

    @property
    def name(self) -> str:
        """The name after ``ruleset`` in the file."""
        return self._core.name

    @property
    def title(self) -> str:
        """The ``title`` line."""
        return self._core.title

    @property
    def version(self) -> str:
        """The ``version`` line."""
        return self._core.version

    @property
    def digest(self) -> str:
        """``sha256:`` and 64 hex digits over the top file then each import, as reports state it."""
        return self._core.digest

    @property
    def source(self) -> Optional[str]:
        """The ``source`` line, or None."""
        return self._core.info.get("source")

    @property
    def effective(self) -> Optional[str]:
        """The ``effective`` date (YYYY-MM-DD), or None."""
        return self._core.info.get("effective")

    @property
    def info(self) -> dict:
        """The ``ruleset`` object every report carries (name, title, version, source,
        effective, digest)."""
        return self._core.info

    @property
    def inputs(self) -> list:
        """The declared inputs, in declaration order: dicts with ``path`` and ``type``, and
        ``label``, ``default``, ``range`` (``[low, high]``) and ``values`` (of an enum) where
        declared. Fields of list records read ``residents[].ability``."""
        return self._core.inputs

    @property
    def hazards(self) -> list:
        """The hazards in report order: dicts with ``id``, ``title``, ``category``,
        ``severity``, ``cite``, ``action`` and ``within_days`` (``None`` where the rule gives
        none): what every report of the hazard says besides its status."""
        return self._core.hazards

    @property
    def files(self) -> list:
        """Every file of the ruleset, the top file first, then its imports in first-reached
        order: dicts with ``file`` (as diagnostics show it), ``name`` and ``version`` (as that
        file declares them) and ``digest`` (of that file's bytes alone), so a platform can
        show which version of each standard decided a report, not only the bundle's."""
        return self._core.files

    @property
    def path(self) -> Optional[str]:
        """The file this ruleset was loaded from (as given), or None."""
        return self._origin["path"]

    @property
    def warnings(self) -> list:
        """The compiler's warnings (and notes), as :class:`Diagnostic` objects."""
        return list(self._warnings)

    # ---- evaluation ----

    def evaluate(self, facts: Facts, asof: Optional[DateLike] = None,
                 subject: Optional[str] = None, each: Optional[str] = None,
                 strict: bool = False) -> Any:
        """Evaluates one record and returns its report as a dict.

        ``facts``: a dict (nested dicts, or flat dotted keys such as
        ``{"facility.beds": 60}``, which read as the same path; dates as ``datetime.date`` or
        ``"YYYY-MM-DD"``) or JSON text. ``asof``: the evaluation date (a date or
        ``"YYYY-MM-DD"``; default: today, local time). ``subject``: dotted path of the subject
        id (default ``"id"``). ``each``: dotted path of a list; the ruleset is evaluated once
        per element and a list of reports is returned (a path the ruleset declares as
        something other than a list of records, or a near miss of a declared list, raises
        ``ValueError``).

        ``strict=True`` raises :class:`UnknownInputError` (a ``KeyError``) naming every key
        that matches no declared input, with a did-you-mean. Without it, a flat dotted key
        that matches no input but is close to one warns (:class:`UnknownInputWarning`).

        The report equals ``json.loads`` of the CLI's JSON for the same record. Faults in the
        facts are in ``report["errors"]``; they never raise.
        """
        facts = _facts(facts)
        subject_s = _opt_str(subject, "subject")
        each_s = _opt_str(each, "each")
        _each_check(each_s, self._core.inputs)
        check = self._key_check(subject_s, strict, "key", 4)
        if strict:
            self._check_texts([facts], subject_s, each_s, check)
        return self._core.evaluate(facts, _asof(asof), subject_s, each_s, strict, check)

    def evaluate_many(self, records: Iterable[Facts], threads: int = 0,
                      asof: Optional[DateLike] = None, subject: Optional[str] = None,
                      each: Optional[str] = None, strict: bool = False,
                      progress: Union[bool, Callable[[int, int], Any], None] = None) -> list:
        """Evaluates many records on ``threads`` threads (0: every core) and returns their
        reports in input order (with ``each``, every record's reports in order, flattened).

        Records go through in chunks of 4096 (so memory does not grow with the batch): each
        chunk is converted with the GIL held, then evaluated with the GIL released, so other
        Python threads run meanwhile. An element that is neither a dict nor JSON text gets a
        report with an error at ``""`` naming its index and type; a bad record never stops the
        batch. ``threads`` above 256 counts as 256.

        ``strict``: as in :meth:`evaluate`; the error is raised before the chunk holding the
        first unknown key is evaluated. ``progress=True`` shows a progress bar (tqdm when it
        is installed, else a counter on stderr); a callable is called as
        ``progress(done, total)`` after each chunk.
        """
        n = _threads(threads)
        asof_s = _asof(asof)
        subject_s = _opt_str(subject, "subject")
        each_s = _opt_str(each, "each")
        _each_check(each_s, self._core.inputs)
        records = _records(records)
        check = self._key_check(subject_s, strict, "key", 4)
        if strict:
            self._check_texts(records, subject_s, each_s, check)
        hook, close = _progress_hook(progress, len(records))
        try:
            return self._core.evaluate_many(records, asof_s, subject_s, each_s, n, strict, check,
                                            hook)
        finally:
            if close is not None:
                close()

    def evaluate_json(self, facts: Facts, asof: Optional[DateLike] = None,
                      subject: Optional[str] = None, each: Optional[str] = None,
                      strict: bool = False) -> Any:
        """As :meth:`evaluate`, but the report as the engine's compact JSON text (what
        ``carerules eval --format jsonl`` writes for the record); with ``each``, a list of
        such texts. ``json.loads(rs.evaluate_json(f)) == rs.evaluate(f)``."""
        facts = _facts(facts)
        subject_s = _opt_str(subject, "subject")
        each_s = _opt_str(each, "each")
        _each_check(each_s, self._core.inputs)
        check = self._key_check(subject_s, strict, "key", 4)
        if strict:
            self._check_texts([facts], subject_s, each_s, check)
        texts = self._core.evaluate_json([facts], _asof(asof), subject_s, each_s, 1, strict,
                                         check)
        return texts if each else texts[0]

    def evaluate_frame(self, df: Any, asof: Optional[DateLike] = None,
                       subject: Optional[str] = None, each: Optional[str] = None,
                       threads: int = 0, strict: bool = False, details: bool = False,
                       progress: Union[bool, Callable[[int, int], Any], None] = None) -> Any:
        """Evaluates each row of a pandas DataFrame; returns a DataFrame of results.

        Input columns are dotted paths (``facility.fire.accepted``; a MultiIndex column's
        levels are joined with dots); a NaN, None, NaT or pd.NA cell is a missing fact;
        datetime64 cells are dates; a list input is a column whose cells hold lists of dicts
        (or their JSON text). Columns that no input, the subject or ``each`` can reach are
        not read: one that is close to a declared input warns
        (:class:`UnknownInputWarning`), and with ``strict=True`` any of them raises
        :class:`UnknownInputError` (as do unknown keys inside cells that hold dicts).

        The result has one row per input row, with the same index and order, and the columns
        ``subject``, ``hazard.<id>`` (status, a categorical), ``score.<name>`` (total),
        ``score.<name>.<section>``, ``grade.<name>`` (an ordered categorical: the outcomes
        off the scale ``error < undetermined < none``, then the scale lowest first, e.g.
        ``blue < yellow < orange < red``) and ``errors`` (how many) — the columns of
        ``carerules eval --format csv``. ``details=True`` adds ``missing.<id>`` (the paths
        a hazard lacked, ``[]`` when it was decided), ``because.<grade>`` (the line that
        decided it, or None) and ``errors.messages`` (a list of ``"where: message"``).
        With ``each``, a row per list element instead, indexed by its input row's label
        (repeated). ``progress``: as in :meth:`evaluate_many`, counting input rows.
        """
        pd = _pandas()
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"evaluate_frame needs a pandas DataFrame, got {type(df).__name__}")
        asof_s = _asof(asof)
        subject_s = _opt_str(subject, "subject")
        each_s = _opt_str(each, "each")
        n = _threads(threads)
        _each_check(each_s, self._core.inputs)
        names = [_column_name(c) for c in df.columns]
        seen = set()
        for c in names:
            if c in seen:
                raise ValueError(f"column {c!r} appears twice")
            seen.add(c)
        list_inputs = {i["path"] for i in self._core.inputs
                       if i["type"].startswith("list") and "[]" not in i["path"]}
        wanted = self._wanted_columns(names, subject_s or "id", each_s)
        check = self._key_check(subject_s, strict, "key", 4)
        if each_s:
            if not wanted:
                near = _close_column(each_s, names)
                raise ValueError(f"each={each_s!r}: no column holds that list" +
                                 (f"; did you mean {near!r}?" if near else ""))
        else:
            taken = set(wanted)
            unread = [c for i, c in enumerate(names) if i not in taken]
            if strict and unread:
                check.fail(unread, "column")
            for c in unread:
                check.maybe_warn(c, "column", stacklevel=3)
        hook, close = _progress_hook(progress, len(df), "rows")
        try:
            if each_s:
                records = _frame_records(df, names, wanted, list_inputs | {each_s})
                cols_names, cols, row_of = self._core.evaluate_many_columns(
                    records, asof_s, subject_s, each_s, n, details, strict, check, hook)
                index = df.index.take(row_of)
            else:
                paths = [names[i] for i in wanted]
                specs = [_column_spec(df.iloc[:, i], names[i] in list_inputs) for i in wanted]
                cols_names, cols = self._core.evaluate_columns(
                    paths, specs, len(df), asof_s, subject_s, n, details, strict, check, hook)
                index = df.index
        finally:
            if close is not None:
                close()
        out = pd.DataFrame(dict(zip(cols_names, cols)), index=index, columns=cols_names)
        return _typed_frame(pd, out, self._core.hazards, self._core.grades)

    def _key_check(self, subject: str, strict: bool, what: str, stacklevel: int) -> _KeyCheck:
        if not isinstance(strict, bool):
            raise TypeError(f"strict must be a bool, got {type(strict).__name__}")
        return _KeyCheck(self._core.inputs, subject, strict, what, stacklevel)

    def _check_texts(self, records: Any, subject: str, each: str, check: _KeyCheck) -> None:
        """strict=True on records given as JSON text: their keys are checked too."""
        unknown: dict = {}
        for r in records:
            if not isinstance(r, (str, bytes)):
                continue
            try:
                d = _json.loads(r)
            except ValueError:
                continue  # the engine reports it in the record's errors
            if isinstance(d, dict):
                unknown.update(dict.fromkeys(self._core.unknown_keys(d, subject, each)))
        if unknown:
            check.fail(list(unknown))

    def _wanted_columns(self, names: list, subject: str, each: str) -> list:
        if each:
            targets = {each}
        else:
            targets = {i["path"] for i in self._core.inputs if "[]" not in i["path"]}
            targets.add(subject)

        def reaches(c: str) -> bool:
            return any(c == t or t.startswith(c + ".") or c.startswith(t + ".") for t in targets)

        return [i for i, c in enumerate(names) if reaches(c)]

    # ---- the rest ----

    def explain(self, facts: Facts, rule: str, asof: Optional[DateLike] = None,
                subject: Optional[str] = None) -> str:
        """What ``carerules explain`` prints: the declaration's condition, each value it read
        and the outcome, as text. ``rule`` names a hazard or item id, a let, a score or a
        grade; another name raises :class:`UnknownRuleError` (a KeyError and a ValueError)."""
        if not isinstance(rule, str):
            raise TypeError(f"rule must be a str, got {type(rule).__name__}")
        text = self._core.explain(_facts(facts), rule, _asof(asof),
                                  _opt_str(subject, "subject"))
        if text is None:
            raise UnknownRuleError(f"no hazard, item, let, score or grade is named {rule!r} "
                                   f"in ruleset {self.name!r}")
        return text

    def json_schema(self, strict: bool = False) -> dict:
        """The declared inputs as a JSON Schema (draft 2020-12) document, as a dict: a record
        that validates is one the engine reads without a record error. ``strict=True`` also
        refuses keys that no input declares, so a misspelt key fails validation."""
        return _json.loads(self._core.json_schema(strict))

    def run_tests(self) -> dict:
        """Runs the ruleset's own ``test`` blocks (not those of its imports).

        Returns ``{"passed": n, "failed": n, "cases": [...], "uncovered": [...]}``: each case
        a dict with ``name``, ``file``, ``line``, ``passed`` and ``failures`` (one line per
        failed expect, as ``carerules test`` prints it); ``uncovered`` lists the hazards,
        items and grade lines no test exercised.
        """
        run = self._core.run_tests()
        passed = sum(1 for c in run["cases"] if c["passed"])
        return {"passed": passed, "failed": len(run["cases"]) - passed,
                "cases": run["cases"], "uncovered": run["uncovered"]}

    # ---- Python protocol ----

    def __reduce__(self):
        return (_restore, (self._origin,))

    def __copy__(self) -> Ruleset:
        return self

    def __deepcopy__(self, memo: dict) -> Ruleset:
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ruleset):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def _identity(self) -> tuple:
        o = self._origin
        return (self.digest, o["name"], tuple(map(tuple, o["limits"])))

    def _repr_html_(self) -> str:
        return _html.ruleset_html(self)

    def __dask_tokenize__(self) -> tuple:
        # dask names tasks by their arguments: a ruleset is known by its digest, name, limits.
        return ("carerules.Ruleset",) + self._identity()

    def __repr__(self) -> str:
        return (f"<carerules.Ruleset {self.name!r} version {self.version!r} "
                f"({self._origin['name']}, {self.digest[:19]}…)>")


# -------------------------------------------------------------------------------- pandas


def _pandas():
    try:
        import pandas
    except ImportError as e:  # pragma: no cover - pandas is a system package here
        raise ImportError("evaluate_frame needs pandas (Debian: python3-pandas)") from e
    return pandas


def _column_name(c: Any) -> str:
    if isinstance(c, tuple):
        return ".".join(str(x) for x in c if str(x) != "")
    return str(c)


def _parse_json_cells(values: list) -> list:
    """JSON text cells of a list column become lists (text that does not parse stays as is,
    and the engine reports it)."""
    out = []
    for v in values:
        if isinstance(v, (str, bytes)):
            try:
                v = _json.loads(v)
            except ValueError:
                pass
        out.append(v)
    return out


def _column_spec(s: Any, is_list: bool) -> tuple:
    """A column as the engine's column binder takes it: (kind, data)."""
    import numpy as np
    pd = _pandas()
    dt = s.dtype
    if isinstance(dt, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)  # the local wall-clock date
        dt = s.dtype
    if isinstance(dt, np.dtype) and not is_list:
        if dt.kind == "b":
            return ("b", s.to_numpy())
        if dt.kind == "i" or (dt.kind == "u" and dt.itemsize < 8):
            return ("i", s.to_numpy(dtype=np.int64))
        if dt.kind == "f":
            return ("f", s.to_numpy(dtype=np.float64))
        if dt.kind == "M":
            return ("d", s.to_numpy().astype("datetime64[D]").astype(np.int64))
    values = s.astype(object).tolist() if not isinstance(dt, np.dtype) else s.tolist()
    if is_list:
        values = _parse_json_cells(values)
    return ("o", values)


def _frame_records(df: Any, names: list, wanted: list, list_paths: set) -> list:
    """Rows as nested dicts (the `each` path of evaluate_frame)."""
    pd = _pandas()
    cols = []
    for i in wanted:
        s = df.iloc[:, i]
        values = s.astype(object).tolist()
        if names[i] in list_paths:
            values = _parse_json_cells(values)
        cols.append((names[i].split("."), values))
    records = []
    for r in range(len(df)):
        rec: dict = {}
        for segs, values in cols:
            v = values[r]
            if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and v != v):
                continue
            d = rec
            for seg in segs[:-1]:
                d = d.setdefault(seg, {})
            d[segs[-1]] = v
        records.append(rec)
    return records
