"""Batches: threads, order, a bad record, the GIL released, argument errors."""

import json
import threading
import time

import pytest

import carerules
from _binding import RECORD

ASOF = "2024-06-01"


def make_records(n):
    out = []
    for i in range(n):
        r = json.loads(json.dumps(RECORD))
        r["id"] = f"R-{i:05d}"
        r["facility"]["beds"] = i % 120
        r["facility"]["appraisal"] = "ABCD"[i % 4]
        r["facility"]["sprinklers"] = i % 3 == 0
        if i % 7 == 0:
            del r["facility"]["opened"]
        out.append(r)
    return out


def test_threads_give_the_serial_results_in_order(rs):
    records = make_records(500)
    serial = [rs.evaluate(r, asof=ASOF) for r in records]
    for threads in (0, 1, 2, 3, 8, 300):
        assert rs.evaluate_many(records, threads=threads, asof=ASOF) == serial, threads
    assert [r["subject"] for r in serial] == [f"R-{i:05d}" for i in range(500)]


def test_json_texts_and_mixed_batches(rs):
    records = make_records(20)
    texts = [json.dumps(r, ensure_ascii=False) for r in records]
    mixed = [t if i % 2 else r for i, (r, t) in enumerate(zip(records, texts))]
    want = rs.evaluate_many(records, asof=ASOF)
    assert rs.evaluate_many(texts, asof=ASOF) == want
    assert rs.evaluate_many(mixed, asof=ASOF, threads=2) == want


def test_iterables_are_accepted(rs):
    records = make_records(10)
    want = rs.evaluate_many(records, asof=ASOF)
    assert rs.evaluate_many(iter(records), asof=ASOF) == want
    assert rs.evaluate_many(tuple(records), asof=ASOF) == want
    assert rs.evaluate_many((r for r in records), asof=ASOF) == want
    assert rs.evaluate_many([], asof=ASOF) == []


def test_a_bad_record_does_not_stop_the_batch(rs):
    records = make_records(6)
    good = rs.evaluate_many(records, asof=ASOF)
    batch = list(records)
    batch[1] = [1, 2, 3]
    batch[2] = "{not json"
    batch[3] = 42
    batch[4] = None
    out = rs.evaluate_many(batch, asof=ASOF, threads=2)
    assert len(out) == 6
    assert out[0] == good[0] and out[5] == good[5]
    assert out[1]["errors"] == [{"path": "", "message": "record 1: expected a dict or JSON "
                                                       "text, got list"}]
    assert out[1]["subject"] is None
    assert out[1]["hazards"] == [] and out[1]["scores"] == {} and out[1]["grades"] == {}
    assert out[1]["ruleset"] == good[0]["ruleset"] and out[1]["asof"] == ASOF
    assert out[2]["errors"][0]["path"] == "" and "invalid JSON" in out[2]["errors"][0]["message"]
    assert "record 3" in out[3]["errors"][0]["message"] and "int" in out[3]["errors"][0]["message"]
    assert "NoneType" in out[4]["errors"][0]["message"]


def test_faulty_facts_stay_in_their_record(rs):
    records = make_records(3)
    records[1]["facility"]["beds"] = float("inf")
    out = rs.evaluate_many(records, asof=ASOF)
    assert not out[0]["errors"] and not out[2]["errors"]
    assert out[1]["errors"][0]["path"] == "/facility/beds"


def test_each_in_a_batch(rs):
    records = make_records(3)
    records[1]["residents"] = []
    records[2]["residents"].append({"id": "R3", "ability": 10})
    out = rs.evaluate_many(records, asof=ASOF, each="residents", threads=2)
    assert [r["subject"] for r in out] == ["R1", "R2", "R1", "R2", "R3"]
    texts = [json.dumps(r) for r in records]
    assert rs.evaluate_many(texts, asof=ASOF, each="residents") == out


def test_argument_errors(rs, record):
    with pytest.raises(ValueError, match="asof"):
        rs.evaluate(record, asof="2024-02-30")
    with pytest.raises(ValueError):
        rs.evaluate(record, asof="yesterday")
    with pytest.raises(ValueError):
        rs.evaluate_many([record], asof="2024-6-1")
    with pytest.raises(TypeError):
        rs.evaluate(record, asof=20240601)
    with pytest.raises(ValueError):
        rs.evaluate_many([record], threads=-1)
    with pytest.raises(TypeError):
        rs.evaluate_many([record], threads="2")
    with pytest.raises(TypeError):
        rs.evaluate_many([record], threads=1.5)
    with pytest.raises(TypeError):
        rs.evaluate([record])
    with pytest.raises(TypeError):
        rs.evaluate(42)
    with pytest.raises(TypeError):
        rs.evaluate(None)
    with pytest.raises(TypeError):
        rs.evaluate_many(record)
    with pytest.raises(TypeError):
        rs.evaluate_many('{"a": 1}')
    with pytest.raises(TypeError):
        rs.evaluate_many(42)
    with pytest.raises(TypeError):
        rs.evaluate(record, subject=3)
    with pytest.raises(TypeError):
        rs.evaluate(record, each=["residents"])


def test_a_bad_asof_is_rejected_before_any_work(rs):
    read = []

    def records():
        read.append(1)
        yield {}

    with pytest.raises(ValueError):
        rs.evaluate_many(records(), asof="bad")
    assert not read


# A ruleset whose evaluation costs much more than its binding: every let aggregates the
# whole list, so the engine works long on little data.
HEAVY = "ruleset heavy {\n title \"h\"\n version \"1\"\n input { xs : list { v : int } }\n" + \
    "".join(f"  let l{i} = count(x in xs where x.v * {i + 1} % 7 == {i % 7})\n" for i in range(120)) + \
    "  let total = " + " + ".join(f"l{i}" for i in range(120)) + "\n" + \
    "  hazard H \"h\" { cite \"c\" when total > 0 }\n}\n"


def test_the_gil_is_released_while_the_engine_works():
    heavy = carerules.compile(HEAVY, name="heavy.rules")
    records = [{"xs": [{"v": i} for i in range(400)]} for _ in range(4)]
    # size the batch so that evaluating it takes about half a second
    t0 = time.perf_counter()
    heavy.evaluate_many(records, threads=1)
    one = time.perf_counter() - t0
    records = records * max(1, min(100, int(0.5 / max(one, 1e-3))))

    counter = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            counter[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        time.sleep(0.1)
        c0, t0 = counter[0], time.perf_counter()
        time.sleep(0.2)  # the spinner's pace with the GIL free
        rate = (counter[0] - c0) / (time.perf_counter() - t0)
        c0, t0 = counter[0], time.perf_counter()
        heavy.evaluate_many(records, threads=1)
        elapsed = time.perf_counter() - t0
        spun = counter[0] - c0
    finally:
        stop.set()
        t.join()
    assert elapsed > 0.1
    # Holding the GIL would leave the spinner a few switch intervals (5 ms each) at most.
    assert spun > 0.25 * rate * elapsed, (spun, rate, elapsed)


def test_concurrent_python_threads_share_a_ruleset(rs):
    records = make_records(200)
    want = rs.evaluate_many(records, asof=ASOF)
    results = [None] * 4

    def work(k):
        results[k] = rs.evaluate_many(records, asof=ASOF, threads=2)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == want for r in results)


def test_batches_longer_than_a_chunk_keep_order(rs):
    """Batches are bound, evaluated and converted in chunks of 4096 records."""
    n = 9000
    records = [{"id": f"C{i}", "facility": {"beds": i % 1000, "appraisal": "ABCD"[i % 4]},
                "residents": [{"id": f"C{i}-{k}"} for k in range(i % 3)]} for i in range(n)]
    out = rs.evaluate_many(records, asof=ASOF, threads=2)
    assert [r["subject"] for r in out] == [f"C{i}" for i in range(n)]
    assert out[8191] == rs.evaluate(records[8191], asof=ASOF)
    each = rs.evaluate_many(records, asof=ASOF, each="residents")
    assert [r["subject"] for r in each] == [f"C{i}-{k}" for i in range(n) for k in range(i % 3)]
