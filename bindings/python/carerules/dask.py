"""carerules on dask: national batches partition by partition, on any dask scheduler.

    >>> import dask.dataframe as dd, carerules, carerules.dask
    >>> rs = carerules.load("rulesets/capability/gbt42195.rules")
    >>> ddf = dd.read_parquet("residents/")                 # one row per resident
    >>> out = carerules.dask.evaluate(ddf, rs, asof="2024-06-01")
    >>> out["grade.final_level"].value_counts().compute()

A dask DataFrame is evaluated as :meth:`carerules.Ruleset.evaluate_frame` evaluates a pandas
one, partition by partition (``map_partitions``); the result's columns and dtypes (``meta``)
are worked out from the ruleset and the input's own meta, so nothing is computed to infer
them. A dask Bag of dicts (or JSON texts) is evaluated as
:meth:`carerules.Ruleset.evaluate_many`: a Bag of report dicts.

The ruleset travels to the workers pickled: its source text and the bytes of every file it
imports, so workers need neither the ruleset files nor a shared disk; each worker compiles
it once. Every report names the ruleset's digest, which proves every worker ran the same
version. Results equal those of the single-process calls, row for row.
"""

from __future__ import annotations

from typing import Any

import carerules

__all__ = ["evaluate"]

_FRAME_ARGS = {"asof", "subject", "each", "threads", "strict", "details"}
_BAG_ARGS = {"asof", "subject", "each", "threads", "strict"}


def evaluate(collection: Any, rs: "carerules.Ruleset", **kw: Any) -> Any:
    """Evaluates a dask DataFrame (as ``evaluate_frame``, a dask DataFrame back) or a dask
    Bag of dicts or JSON texts (as ``evaluate_many``, a Bag of report dicts) with ruleset
    ``rs``. Keyword arguments are those of the single-process call (``asof``, ``subject``,
    ``each``, ``threads``, ``strict``, and ``details`` for frames); ``threads`` is per
    partition and defaults to 1 (dask already runs partitions in parallel).

    Arguments are checked here, on the client: a bad ``asof``, an ``each=`` that is not a
    list, and with ``strict=True`` a column that matches no input raise at once, before any
    partition runs. ``asof`` defaults to the client's date, so every partition states one
    date even when the workers' clocks or time zones differ.
    """
    if not isinstance(rs, carerules.Ruleset):
        raise TypeError(f"rs must be a carerules.Ruleset, got {type(rs).__name__}")
    kw = dict(kw)
    kw.setdefault("threads", 1)
    if kw.get("asof") is None:
        kw["asof"] = carerules._core.today()
    kind = _kind(collection)
    allowed = _FRAME_ARGS if kind == "frame" else _BAG_ARGS
    unknown = sorted(set(kw) - allowed)
    if unknown:
        hint = ("; dask shows progress itself (dask.diagnostics.ProgressBar, or the "
                "distributed dashboard)" if "progress" in unknown else "")
        raise TypeError(f"carerules.dask.evaluate got unexpected argument(s) {unknown} for a "
                        f"dask {'DataFrame' if kind == 'frame' else 'Bag'}{hint}")
    if kind == "frame":
        return _evaluate_frame(collection, rs, kw)
    return _evaluate_bag(collection, rs, kw)


def _kind(collection: Any) -> str:
    try:
        import dask.bag as db
        import dask.dataframe as dd
    except ImportError as e:  # pragma: no cover - dask is a system package here
        raise ImportError("carerules.dask needs dask (Debian: python3-dask)") from e
    if isinstance(collection, dd.DataFrame):
        return "frame"
    if isinstance(collection, db.Bag):
        return "bag"
    raise TypeError("collection must be a dask DataFrame or a dask Bag, got "
                    f"{type(collection).__name__}")


def _frame_partition(part: Any, rs: "carerules.Ruleset", kw: dict) -> Any:
    import warnings
    with warnings.catch_warnings():
        # Near-miss columns were reported once on the client; not once per partition.
        warnings.simplefilter("ignore", carerules.UnknownInputWarning)
        return rs.evaluate_frame(part, **kw)


def _evaluate_frame(ddf: Any, rs: "carerules.Ruleset", kw: dict) -> Any:
    # The meta: the same call on the input's empty meta frame (columns and dtypes, no rows),
    # which also checks the arguments and the columns here, on the client, before any work.
    meta = rs.evaluate_frame(ddf._meta, **kw)
    meta = _widen(meta)
    return ddf.map_partitions(_frame_partition, rs, kw, meta=meta)


def _widen(meta: Any) -> Any:
    """An empty result's columns hold no values to type them: give each the dtype its
    values will have (scores may be fractional, so float; counts int; text object)."""
    import pandas as pd
    out = {}
    for c in meta.columns:
        s = meta[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[c] = s
        elif c == "errors":
            out[c] = s.astype("int64")
        elif c.startswith("score."):
            out[c] = s.astype("float64")
        else:
            out[c] = s.astype(object)
    return pd.DataFrame(out, index=meta.index, columns=meta.columns)


def _bag_partition(part: Any, rs: "carerules.Ruleset", kw: dict) -> list:
    return rs.evaluate_many(list(part), **kw)


def _evaluate_bag(bag: Any, rs: "carerules.Ruleset", kw: dict) -> Any:
    # Check the arguments once here (asof, each, strict's type) with an empty batch.
    rs.evaluate_many([], **kw)
    return bag.map_partitions(_bag_partition, rs, kw)
