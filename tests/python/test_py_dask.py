"""carerules.dask on a real distributed cluster: two worker processes, 100 000 records.

The ruleset imports another file and is compiled from a temporary directory that is deleted
before anything is computed, so the workers can only have the ruleset from its pickle.
Skipped (only) when dask or distributed cannot be imported.
"""

import pathlib
import random
import shutil
import tempfile

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
db = pytest.importorskip("dask.bag")
distributed = pytest.importorskip("distributed")

import dask  # noqa: E402

import carerules  # noqa: E402
import carerules.dask  # noqa: E402

ASOF = "2024-06-01"
N = 100_000

BASE = """\
ruleset base {
  title "基础"
  version "1.1"
  input {
    id      : string
    ability : int in 0..90
    wanders : bool = false
    ward    : enum("A", "B", "C")
  }
  hazard B1 "能力低" { cite "b" when ability < 30 }
}
"""

TOP = """\
ruleset top {
  title "顶层"
  version "2.0"
  import "lib/base.rules"
  hazard T1 "走失风险" { severity general cite "t" when wanders and ability < 60 }
  score care max 90 {
    item C1 "能力" ability
    deduct D1 "走失" 5 when wanders
  }
  grade risk : color {
    red    when any(h in hazards where h.severity == "major")
    yellow when any(h in hazards where h.severity == "general")
    blue   otherwise
  }
}
"""


@pytest.fixture(scope="module")
def ruleset():
    """A ruleset with an import, whose files are gone by the time it is used."""
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="carerules-dask-"))
    (tmp / "lib").mkdir()
    (tmp / "lib" / "base.rules").write_text(BASE, encoding="utf-8")
    (tmp / "top.rules").write_text(TOP, encoding="utf-8")
    rs = carerules.load(tmp / "top.rules")
    shutil.rmtree(tmp)
    assert not tmp.exists() and len(rs.files) == 2
    return rs


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None, silence_logs=50) as cluster:
        with distributed.Client(cluster) as c:
            yield c


def generated_frame(n=N, seed=7):
    rng = random.Random(seed)
    ability = [rng.randint(0, 90) for _ in range(n)]
    ability = [None if i % 97 == 0 else a for i, a in enumerate(ability)]
    if n > 12345:
        ability[12345] = "bad"  # a record with an error, in the middle of a partition
    df = pd.DataFrame({
        "id": [f"R{i:06d}" for i in range(n)],
        "ability": pd.Series(ability, dtype=object),
        "wanders": [rng.random() < 0.2 for _ in range(n)],
        "ward": [rng.choice("ABC") for _ in range(n)],
    })
    df.index = pd.RangeIndex(1000, 1000 + n)
    return df


def test_frame_on_a_cluster_equals_the_single_process_frame(ruleset, client):
    df = generated_frame()
    ddf = dd.from_pandas(df, npartitions=8)
    lazy = carerules.dask.evaluate(ddf, ruleset, asof=ASOF, details=True)
    single = ruleset.evaluate_frame(df, asof=ASOF, details=True)
    assert list(lazy.columns) == list(single.columns)
    got = lazy.compute()
    pd.testing.assert_frame_equal(got, single)
    # the bad record stays in its row, with its error, and its neighbours are untouched
    row = got.loc[1000 + 12345]
    assert row["subject"] == "R012345" and row["errors"] == 1
    assert row["errors.messages"][0].startswith("/ability: ")
    assert got.loc[1000 + 12344, "errors"] == 0
    assert (got["errors"] > 0).sum() == 1
    assert got["grade.risk"].value_counts().sum() == N


def test_bag_on_a_cluster_equals_evaluate_many(ruleset, client):
    df = generated_frame(20_000, seed=3)
    records = [{k: v for k, v in r.items() if v is not None} for r in df.to_dict("records")]
    bag = db.from_sequence(records, npartitions=6)
    got = carerules.dask.evaluate(bag, ruleset, asof=ASOF).compute()
    assert got == ruleset.evaluate_many(records, asof=ASOF)
    # every report names the one ruleset version every worker ran
    assert {r["ruleset"]["digest"] for r in got} == {ruleset.digest}
    bad = got[12345]
    assert bad["subject"] == "R012345" and bad["errors"][0]["path"] == "/ability"


def test_workers_compiled_the_ruleset_from_the_pickle(ruleset, client):
    ddf = dd.from_pandas(generated_frame(2000), npartitions=2)
    carerules.dask.evaluate(ddf, ruleset, asof=ASOF).compute()

    def restored():
        import carerules as c
        return sorted(rs.digest for rs in c._restored.values())

    per_worker = client.run(restored)
    assert len(per_worker) == 2
    assert all(digests == [ruleset.digest] for digests in per_worker.values())


SINGLE_MACHINE = pytest.mark.filterwarnings("ignore:Running on a single-machine scheduler")


@SINGLE_MACHINE
def test_meta_is_built_without_computing(ruleset):
    def boom():
        raise AssertionError("a partition was computed to infer meta")

    meta = generated_frame(1).iloc[:0]
    ddf = dd.from_delayed([dask.delayed(boom)()], meta=meta)
    lazy = carerules.dask.evaluate(ddf, ruleset, asof=ASOF)
    assert list(lazy.columns) == list(ruleset.evaluate_frame(meta, asof=ASOF).columns)
    assert lazy["errors"].dtype == np.int64
    assert lazy["grade.risk"].dtype.ordered
    with pytest.raises(AssertionError, match="computed"):
        lazy.compute(scheduler="sync")


def test_reachable_as_an_attribute_of_the_package():
    import subprocess
    import sys
    code = ("import sys, carerules; assert 'dask' not in sys.modules; "
            "print(carerules.dask.evaluate.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "carerules.dask", out.stderr


def test_bad_arguments_raise_on_the_client(ruleset):
    ddf = dd.from_pandas(generated_frame(10), npartitions=2)
    with pytest.raises(ValueError):
        carerules.dask.evaluate(ddf, ruleset, asof="2024-13-01")
    with pytest.raises(KeyError, match="did you mean 'ability'"):
        carerules.dask.evaluate(ddf.rename(columns={"ability": "abilty"}), ruleset, strict=True)
    with pytest.raises(TypeError):
        carerules.dask.evaluate(generated_frame(10), ruleset)
    with pytest.raises(TypeError, match="details"):
        carerules.dask.evaluate(db.from_sequence([{}]), ruleset, details=True)


@SINGLE_MACHINE
def test_local_schedulers_give_the_same_answer(ruleset):
    df = generated_frame(3000)
    ddf = dd.from_pandas(df, npartitions=3)
    single = ruleset.evaluate_frame(df, asof=ASOF)
    for scheduler in ("sync", "threads"):
        got = carerules.dask.evaluate(ddf, ruleset, asof=ASOF).compute(scheduler=scheduler)
        pd.testing.assert_frame_equal(got, single)
