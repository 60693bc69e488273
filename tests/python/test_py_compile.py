"""Compiling: load/compile, metadata, CompileError, FileNotFoundError, limits, imports."""

import pickle

import pytest

import carerules
from _binding import REPO, RULES


def test_version():
    assert carerules.__version__ == "0.1.0"
    assert carerules.engine == "carerules 0.1.0"
    assert carerules._core.version == carerules.__version__


def test_metadata(rs):
    assert rs.name == "binding_test"
    assert rs.title == "绑定测试: 养老机构"
    assert rs.version == "1.0"
    assert rs.source == "tests/python"
    assert rs.effective == "2024-01-01"
    assert rs.digest.startswith("sha256:") and len(rs.digest) == 7 + 64
    assert rs.info == {"name": "binding_test", "title": "绑定测试: 养老机构", "version": "1.0",
                       "source": "tests/python", "effective": "2024-01-01",
                       "digest": rs.digest}
    assert rs.path is None
    assert "binding_test" in repr(rs)


def test_digest_is_sha256_of_the_text(rs):
    import hashlib
    assert rs.digest == "sha256:" + hashlib.sha256(RULES.encode()).hexdigest()


def test_inputs(rs):
    inputs = {i["path"]: i for i in rs.inputs}
    assert list(inputs)[:3] == ["id", "facility.beds", "facility.ratio"]
    assert inputs["id"] == {"path": "id", "type": "string"}
    assert inputs["facility.beds"] == {"path": "facility.beds", "type": "int",
                                       "label": "核定床位数", "range": [0, 1000]}
    assert inputs["facility.ratio"]["default"] == 0.5
    assert inputs["facility.appraisal"]["type"] == "enum"
    assert inputs["facility.appraisal"]["values"] == ["A", "B", "C", "D"]
    assert inputs["facility.opened"]["type"] == "date"
    assert inputs["codes"]["type"] == "list<string>"
    assert inputs["residents"]["type"] == "list"
    assert inputs["residents[].ability"]["range"] == [0, 90]
    assert inputs["residents[].wanders"]["default"] is False
    assert "facility.名称" in inputs
    # a fresh list each time: mutating it changes nothing
    rs.inputs.clear()
    assert len(rs.inputs) == len(inputs)


def test_load_file_and_path(tmp_path):
    f = tmp_path / "t.rules"
    f.write_text(RULES, encoding="utf-8")
    rs = carerules.load(f)  # os.PathLike
    assert rs.name == "binding_test"
    assert rs.path == str(f)
    rs2 = carerules.load(str(f))
    assert rs2.digest == rs.digest
    report = rs.evaluate({"facility": {"appraisal": "C"}}, asof="2024-06-01")
    assert report["grades"]["risk"]["because"].startswith(str(f) + ":")


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        carerules.load(tmp_path / "nope.rules")
    assert e.value.filename == str(tmp_path / "nope.rules")


def test_directory_is_an_os_error(tmp_path):
    with pytest.raises(IsADirectoryError):
        carerules.load(tmp_path)


BAD = """ruleset bad {
  title "t"
  version "1"
  input { x : int }
  hazard H1 "h" { when y > 1 }
  hazard H2 "h" { when zz > 1 }
}
"""


def test_compile_error_fields():
    with pytest.raises(carerules.CompileError) as info:
        carerules.compile(BAD, name="bad.rules")
    e = info.value
    assert isinstance(e, Exception)
    assert e.diagnostics, "every diagnostic is kept"
    first = next(d for d in e.diagnostics if d.severity == "error")
    assert (e.file, e.line, e.column, e.message) == (first.file, first.line, first.column,
                                                      first.message)
    assert e.file == "bad.rules"
    assert e.line >= 5 and e.column >= 1
    assert str(e) == f"bad.rules:{e.line}:{e.column}: error: {e.message}"
    for d in e.diagnostics:
        assert d.file == "bad.rules"
        assert isinstance(d.line, int) and isinstance(d.column, int)
        assert d.severity in ("error", "warning", "note")
        assert d.message
        # both an object and a mapping
        assert d["line"] == d.line and d["message"] == d.message
        assert set(dict(d)) == {"file", "line", "column", "severity", "message"}
        assert "^" in d.rendered
    assert "bad.rules:" in e.rendered


def test_compile_error_lists_every_error():
    with pytest.raises(carerules.CompileError) as info:
        carerules.compile(BAD, name="bad.rules")
    errors = [d for d in info.value.diagnostics if d.severity == "error"]
    assert len(errors) >= 2
    assert any(d.line == 5 for d in errors) and any(d.line == 6 for d in errors)


def test_compile_error_in_a_file_names_it(tmp_path):
    f = tmp_path / "bad.rules"
    f.write_text(BAD)
    with pytest.raises(carerules.CompileError) as info:
        carerules.load(f)
    assert info.value.file == str(f)
    assert str(info.value).startswith(f"{f}:{info.value.line}:")


def test_compile_error_column_counts_code_points():
    text = 'ruleset 测试 {\n  title "标题"\n  version "1"\n  input { 床位 : int }\n  let 甲 = 床位 + 乙\n}\n'
    with pytest.raises(carerules.CompileError) as info:
        carerules.compile(text, name="cjk.rules")
    e = info.value
    assert e.line == 5
    assert e.column == len("  let 甲 = 床位 + ") + 1


def test_compile_error_pickles():
    with pytest.raises(carerules.CompileError) as info:
        carerules.compile(BAD, name="bad.rules")
    e2 = pickle.loads(pickle.dumps(info.value))
    assert str(e2) == str(info.value)
    assert [dict(d) for d in e2.diagnostics] == [dict(d) for d in info.value.diagnostics]


def test_missing_import_is_a_compile_error(tmp_path):
    f = tmp_path / "top.rules"
    f.write_text('ruleset top {\n  title "t"\n  version "1"\n  import "nope.rules"\n}\n')
    with pytest.raises(carerules.CompileError) as info:
        carerules.load(f)
    assert "nope.rules" in info.value.message


def test_import_roots(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "common.rules").write_text(
        'ruleset common {\n  title "c"\n  version "1"\n  input { x : int }\n'
        '  hazard C1 "c" { cite "c" when x > 1 }\n}\n')
    text = ('ruleset top {\n  title "t"\n  version "1"\n  import "lib/common.rules"\n'
            '  hazard T1 "t" { cite "t" when x > 5 }\n}\n')
    rs = carerules.compile(text, name="top.rules", import_roots=[tmp_path])
    assert [h["id"] for h in rs.evaluate({"x": 3})["hazards"]] == ["C1", "T1"]
    # a single root may be given as a str
    rs2 = carerules.compile(text, name="top.rules", import_roots=str(tmp_path))
    assert rs2.digest == rs.digest


def test_limits(tmp_path):
    deep = "ruleset d {\n title \"t\"\n version \"1\"\n input { x : int }\n let a = " + \
        "(" * 40 + "x" + ")" * 40 + "\n}\n"
    carerules.compile(deep)
    with pytest.raises(carerules.CompileError) as info:
        carerules.compile(deep, limits={"depth": 10})
    assert "depth" in info.value.message


def test_limit_json_depth_applies_to_facts(rs):
    carerules_rs = carerules.compile(RULES, name="binding.rules", limits={"json_depth": 3})
    nested = {"facility": {"x": {"y": {"z": {}}}}}
    report = carerules_rs.evaluate(nested, asof="2024-06-01")
    assert report["errors"] and "json_depth" in report["errors"][0]["message"]
    assert not rs.evaluate(nested, asof="2024-06-01")["errors"]


def test_bad_limits():
    with pytest.raises(ValueError, match="unknown limit"):
        carerules.compile(RULES, limits={"nope": 1})
    with pytest.raises(ValueError):
        carerules.compile(RULES, limits={"depth": -1})
    with pytest.raises(TypeError):
        carerules.compile(RULES, limits={"depth": "10"})
    with pytest.raises(TypeError):
        carerules.compile(RULES, limits={"depth": True})
    with pytest.raises(TypeError):
        carerules.compile(RULES, limits=[("depth", 10)])


def test_wrong_argument_kinds():
    with pytest.raises(TypeError):
        carerules.compile(42)
    with pytest.raises(TypeError):
        carerules.compile(RULES, name=3)
    with pytest.raises(TypeError):
        carerules.load(42)
    with pytest.raises(TypeError):
        carerules.compile(RULES, import_roots=42)
    with pytest.raises(TypeError):
        carerules.Ruleset()


def test_warnings_are_kept():
    text = ('ruleset w {\n  title "t"\n  version "1"\n  input { x : int }\n'
            '  hazard H1 "no cite" { when x > 1 }\n}\n')
    rs = carerules.compile(text, name="w.rules")
    assert any(w.severity == "warning" and w.line == 5 for w in rs.warnings)


def test_shipped_rulesets_load():
    root = REPO / "rulesets"
    top = root / "institution.rules"
    if not top.exists():
        pytest.skip("rulesets/institution.rules not there yet")
    rs = carerules.load(top, import_roots=[root])
    assert rs.name and rs.version
    run = rs.run_tests()
    assert run["failed"] == 0, run
