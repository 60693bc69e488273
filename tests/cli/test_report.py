"""`carerules report` (HTML pages and index.html) and the summary by group of `eval`.

Run with `/usr/bin/python3 -m pytest tests/cli/test_report.py`. Golden pages live in
tests/cli/report_golden/; regenerate them with CARERULES_UPDATE_GOLDEN=1 after a deliberate
change of the layout (and read the diff).
"""

import csv
import html
import html.parser
import io
import json
import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("CARERULES_BIN", str(ROOT / "build" / "bin" / "carerules"))
GOLDEN = pathlib.Path("tests/cli/report_golden")
SMALL_RULES = str(GOLDEN / "small.rules")
SMALL_FACTS = str(GOLDEN / "small.jsonl")
INSTITUTION = "rulesets/institution.rules"
SAMPLE = "examples/data/institutions.jsonl"
ASOF = "2024-06-01"


def run(*args, stdin=None):
    return subprocess.run([BIN, *args], cwd=ROOT, capture_output=True, text=True, input=stdin,
                          timeout=300)


def report(out, *args):
    return run("report", "--out", str(out), "--asof", ASOF, *args)


def normalized(text):
    # The engine's version changes with every release; nothing else may differ.
    return re.sub(r"carerules \d+\.\d+\.\d+", "carerules X.Y.Z", text)


def check_golden(page: pathlib.Path, golden_name: str):
    got = normalized(page.read_text(encoding="utf-8"))
    golden = ROOT / GOLDEN / golden_name
    if os.environ.get("CARERULES_UPDATE_GOLDEN"):
        golden.write_text(got, encoding="utf-8")
    assert got == golden.read_text(encoding="utf-8"), f"{page} differs from {golden}"


@pytest.fixture(scope="module")
def small_en(tmp_path_factory):
    out = tmp_path_factory.mktemp("small_en")
    r = report(out, "-r", SMALL_RULES, SMALL_FACTS, "--lang", "en", "--by", "region.district",
               "--name", "name")
    return out, r


# ---- golden pages -----------------------------------------------------------------------------


def test_golden_page_english_with_present_and_undetermined(small_en):
    out, r = small_en
    check_golden(out / "G-1.html", "G-1.en.html")


def test_golden_page_chinese_dangerous_building(tmp_path):
    r = report(tmp_path, "-r", INSTITUTION, "examples/data/cases/case2_dangerous_building.json",
               "--name", "name")
    assert r.returncode == 0, r.stderr
    pages = [p for p in tmp_path.glob("*.html") if p.name != "index.html"]
    assert len(pages) == 1
    check_golden(pages[0], "case2.zh.html")
    text = pages[0].read_text(encoding="utf-8")
    assert "停业整改" in text and "红（重大风险）" in text and "存在的隐患" in text


def test_golden_index_english(small_en):
    out, _ = small_en
    check_golden(out / "index.html", "index.en.html")


# ---- content ------------------------------------------------------------------------------------


def test_stdout_is_the_index_path_and_exit_1_when_a_record_has_errors(small_en):
    out, r = small_en
    assert r.stdout.strip() == str(out / "index.html")
    assert r.returncode == 1  # G-2 has a record error; its page is still written


def test_present_hazards_come_first_with_clause_action_and_no_due_for_others(small_en):
    out, _ = small_en
    text = (out / "G-1.html").read_text(encoding="utf-8")
    present = text.index("Hazards present")
    undetermined = text.index("Undetermined items")
    absent = text.index("Hazards absent")
    assert present < undetermined < absent
    assert "Art. 4(1)" in text[present:undetermined]
    assert "suspend operation until fixed" in text[present:undetermined]
    # H2 (undetermined, within 30 days) and H3 (absent, within 60 days) show no due date.
    assert "2024-07-01" not in text and "2024-07-31" not in text
    # Missing facts by their declared label.
    assert "Fire alarm works <code>facility.alarm</code>" in text[undetermined:absent]
    # The grade badge with its text and the reasoning in a <details> (as explain shows it).
    assert 'class="badge b-red" data-grade="risk"' in text and "red (major risk)" in text
    explain = run("explain", "-r", SMALL_RULES, "-", "--rule", "risk", "--asof", ASOF,
                  stdin=(ROOT / SMALL_FACTS).read_text().splitlines()[0])
    assert explain.returncode == 0, explain.stderr
    details = text[text.index("<details>"):text.index("</details>")]
    for line in explain.stdout.splitlines():
        assert html_escape(line) in details


def test_due_date_for_a_present_deadline_hazard(tmp_path):
    facts = {"id": "D-1", "facility": {"beds": 900, "grade": "A", "alarm": True},
             "rating": {"env": 10}}
    f = tmp_path / "d.json"
    f.write_text(json.dumps(facts))
    r = report(tmp_path / "out", "-r", SMALL_RULES, str(f), "--lang", "en")
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "out" / "D-1.html").read_text(encoding="utf-8")
    row = text[text.index("<strong>H3</strong>"):]
    row = row[:row.index("</tr>")]
    assert "2024-07-31" in row and "fix by a deadline" in row and "local item 3" in row


def html_escape(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def test_every_value_is_escaped(small_en):
    out, _ = small_en
    hostile = [p for p in out.glob("*.html") if "img" in p.name]
    assert len(hostile) == 1, sorted(p.name for p in out.glob("*"))
    for page in out.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text and "<img" not in text and "<b>" not in text, page
    text = hostile[0].read_text(encoding="utf-8")
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in text  # the subject, as text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in text  # the name, as text
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;West&lt;/b&gt;" in index


def test_a_record_with_errors_gets_its_page(small_en):
    out, _ = small_en
    text = (out / "G-2.html").read_text(encoding="utf-8")
    errors = text[text.index("Record errors"):]
    assert "<code>/facility/beds</code>" in errors
    assert "expected an int in 0..10000 for `facility.beds`, got &quot;many&quot;" in errors
    # and the undetermined item names the missing fact by its label
    assert "Number of beds <code>facility.beds</code>" in text


def test_unreadable_line_gets_a_page_too(tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_text('{"id": "OK-1", "facility": {"grade": "A", "alarm": true, "beds": 1}}\nnot json\n')
    r = report(tmp_path / "out", "-r", SMALL_RULES, str(f))
    assert r.returncode == 1
    names = sorted(p.name for p in (tmp_path / "out").glob("*.html"))
    assert names == ["OK-1.html", "index.html", "record-2.html"]
    text = (tmp_path / "out" / "record-2.html").read_text(encoding="utf-8")
    assert "line 2" in text


def test_english_and_chinese_labels(tmp_path):
    zh = report(tmp_path / "zh", "-r", SMALL_RULES, SMALL_FACTS)
    en = report(tmp_path / "en", "-r", SMALL_RULES, SMALL_FACTS, "--lang", "en")
    zh_text = (tmp_path / "zh" / "G-1.html").read_text(encoding="utf-8")
    en_text = (tmp_path / "en" / "G-1.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in zh_text and '<html lang="en">' in en_text
    for word in ["存在的隐患", "停业整改", "红（重大风险）", "重要设施设备", "缺少的资料", "评定理由"]:
        assert word in zh_text and word not in en_text
    for word in ["Hazards present", "suspend operation until fixed", "red (major risk)",
                 "facilities and equipment", "Missing facts", "Reasoning"]:
        assert word in en_text and word not in zh_text
    bad = report(tmp_path / "x", "-r", SMALL_RULES, SMALL_FACTS, "--lang", "fr")
    assert bad.returncode == 2 and "zh or en" in bad.stderr


def test_self_contained_print_css():
    out = ROOT / "build" / "test-report-selfcontained"
    r = report(out, "-r", SMALL_RULES, SMALL_FACTS, "--lang", "en")
    for page in out.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text.lower()
        assert not re.search(r"(src|href)=\"(https?:)?//", text), page
        assert "@media print" in text and "size:A4" in text


# ---- file names ---------------------------------------------------------------------------------


def test_file_names_are_safe_and_distinct(tmp_path):
    subjects = ["a/b", "a_b", "../../etc/passwd", "index", "INDEX", "X", "x", "X", "福州-1",
                ".hidden", "CON", "a" * 200, ""]
    lines = [json.dumps({"id": s, "facility": {"grade": "A", "alarm": True, "beds": 1}})
             for s in subjects]
    lines.append(json.dumps({"facility": {"grade": "A", "alarm": True, "beds": 1}}))  # no id
    f = tmp_path / "n.jsonl"
    f.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    r = report(out, "-r", SMALL_RULES, str(f))
    assert r.returncode == 0, r.stderr
    files = sorted(p.name for p in out.iterdir())
    # Every page is a plain file directly in DIR; one page per record plus index.html.
    assert len(files) == len(lines) + 1, files
    assert len({n.lower() for n in files}) == len(files)
    for n in files:
        assert "/" not in n and not n.startswith(".") and len(n.encode()) <= 80 + 9 + 5 + 4
    assert "福州-1.html" in files and "record-14.html" in files
    assert "X.html" in files and "x-2.html" in files and "X-3.html" in files
    assert any(re.fullmatch(r"a_b-[0-9a-f]{8}\.html", n) for n in files)  # a/b
    assert "a_b.html" in files
    assert any(re.fullmatch(r"index-[0-9a-f]{8}\.html", n) for n in files)
    assert any(re.fullmatch(r"CON-[0-9a-f]{8}\.html", n) for n in files)
    assert not (tmp_path / "etc").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "<h1>" in index  # index.html is the summary, not a subject's page


# ---- the summary by group ------------------------------------------------------------------------


class CountTables(html.parser.HTMLParser):
    """Reads the <table class="counts" data-grade=...> tables of index.html."""

    def __init__(self):
        super().__init__()
        self.tables, self.current, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "counts" in (a.get("class") or ""):
            self.current = a.get("data-grade", "hazards")
            self.tables[self.current] = []
        elif tag == "tr" and self.current is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None and self.current is not None:
            self.tables[self.current].append(self.row)
            self.row = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def test_index_numbers_equal_eval_summary_json(tmp_path):
    out = tmp_path / "out"
    r = report(out, "-r", INSTITUTION, SAMPLE, "--by", "region.district", "--lang", "en")
    assert r.returncode in (0, 1), r.stderr
    e = run("eval", "-r", INSTITUTION, SAMPLE, "--asof", ASOF, "--summary", "--by",
            "region.district", "--summary-format", "json", "--format", "jsonl")
    assert e.returncode in (0, 1)
    data = json.loads(e.stderr)
    assert data["by"] == "region.district"
    assert data["total"]["records"] == 200
    parser = CountTables()
    parser.feed((out / "index.html").read_text(encoding="utf-8"))
    groups = {g["group"]: g for g in data["groups"]}
    assert len(groups) > 5
    for grade in ["major_hazard", "risk", "level"]:
        rows = parser.tables[grade]
        values = list(data["total"]["grades"][grade].keys())
        assert len(rows[0]) == len(values) + 1
        seen = set()
        for row in rows[1:]:
            name, counts = row[0], [int(c) for c in row[1:]]
            want = data["total"] if name == "Total" else groups[name]
            assert counts == [want["grades"][grade][v] for v in values], (grade, name)
            seen.add(name)
        assert seen == set(groups) | {"Total"}
    hz = parser.tables["hazards"]
    header = hz[0][1:]
    for row in hz[1:]:
        hid = row[0].split()[0]
        for name, cell in zip(header, row[1:]):
            want = data["total"] if name == "Total" else groups[name]
            assert int(cell) == want["hazards"][hid]["present"]
    # The list of institutions with a present hazard links to their pages.
    index = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<a href="([^"]+)">', index)
    assert len(links) == data["total"]["with_present_hazard"]
    for link in links:
        assert (out / html.unescape(link)).is_file()
    assert index.count("<svg") >= 4


def test_summary_by_counts_against_reports():
    e = run("eval", "-r", INSTITUTION, SAMPLE, "--asof", ASOF, "--summary", "--by",
            "region.city", "--summary-format", "json", "--format", "jsonl")
    data = json.loads(e.stderr)
    reports = [json.loads(l) for l in e.stdout.splitlines()]
    facts = [json.loads(l) for l in (ROOT / SAMPLE).read_text().splitlines() if l.strip()]
    expect = {}
    for f, rep in zip(facts, reports):
        city = f.get("region", {}).get("city")
        g = expect.setdefault(city, {"records": 0, "red": 0, "A4.1": 0})
        g["records"] += 1
        g["red"] += rep["grades"]["risk"]["value"] == "red" if rep["grades"] else 0
        g["A4.1"] += any(h["id"] == "A4.1" and h["status"] == "present" for h in rep["hazards"])
    got = {g["group"]: g for g in data["groups"]}
    assert set(got) == set(expect)
    for city, want in expect.items():
        assert got[city]["records"] == want["records"]
        assert got[city]["grades"]["risk"]["red"] == want["red"]
        assert got[city]["hazards"]["A4.1"]["present"] == want["A4.1"]


def test_summary_by_csv_and_table_and_undeclared_path(tmp_path):
    base = ["eval", "-r", SMALL_RULES, SMALL_FACTS, "--asof", ASOF, "--format", "jsonl",
            "--summary", "--by", "region.district"]
    j = json.loads(run(*base, "--summary-format", "json").stderr)
    c = run(*base, "--summary-format", "csv")
    assert c.stderr.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(c.stderr.lstrip("\ufeff"))))
    assert rows[0][:5] == ["group", "records", "reports", "with_errors", "with_present_hazard"]
    assert [r[0] for r in rows[1:]] == [g["group"] for g in j["groups"]] + ["total"]
    col = rows[0].index("grade.risk.red")
    assert [int(r[col]) for r in rows[1:]] == \
        [g["grades"]["risk"]["red"] for g in j["groups"]] + [j["total"]["grades"]["risk"]["red"]]
    t = run(*base, "--summary-format", "table", "--lang", "zh")
    assert "合计" in t.stderr and "红（重大风险）" in t.stderr and "North" in t.stderr
    # A path that names no declared input, and records without it: a group of their own.
    n = json.loads(run("eval", "-r", SMALL_RULES, SMALL_FACTS, "--asof", ASOF, "--format",
                       "jsonl", "--summary", "--by", "nowhere.at_all",
                       "--summary-format", "json").stderr)
    assert [g["group"] for g in n["groups"]] == [None]
    assert n["groups"][0]["records"] == 3
    bad = run("eval", "-r", SMALL_RULES, SMALL_FACTS, "--by", "x")
    assert bad.returncode == 2 and "--summary" in bad.stderr


def test_plain_summary_unchanged_without_by():
    r = run("eval", "-r", SMALL_RULES, SMALL_FACTS, "--asof", ASOF, "--format", "jsonl",
            "--summary")
    assert r.stderr.startswith("summary\n  records")
    assert "grade risk" in r.stderr


def test_eval_csv_and_table_with_lang():
    plain = run("eval", "-r", SMALL_RULES, SMALL_FACTS, "--asof", ASOF, "--format", "csv")
    rows = list(csv.reader(io.StringIO(plain.stdout.lstrip("\ufeff"))))
    assert rows[0][0] == "subject" and rows[1][1] == "present"  # default: codes, unchanged
    zh = run("eval", "-r", SMALL_RULES, SMALL_FACTS, "--asof", ASOF, "--format", "csv",
             "--lang", "zh")
    rows = list(csv.reader(io.StringIO(zh.stdout.lstrip("\ufeff"))))
    assert rows[0][0] == "机构编号" and rows[0][1] == "H1 Dangerous building"
    assert rows[1][1] == "存在" and rows[1][2] == "无法判定" and rows[1][3] == "不存在"
    assert rows[1][rows[0].index("risk")] == "红（重大风险）"
    en = run("eval", "-r", SMALL_RULES, SMALL_FACTS, "--asof", ASOF, "--format", "table",
             "--lang", "en")
    assert "Subject" in en.stdout and "red (major risk)" in en.stdout


def test_progress_only_on_a_terminal(tmp_path):
    import pty
    lines = (ROOT / SAMPLE).read_text(encoding="utf-8").splitlines()
    big = tmp_path / "big.jsonl"
    with big.open("w", encoding="utf-8") as f:
        for i in range(3000):
            d = json.loads(lines[i % len(lines)])
            d["id"] = f'{d["id"]}-{i}'
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    master, slave = pty.openpty()
    p = subprocess.Popen([BIN, "report", "-r", INSTITUTION, str(big), "--out",
                          str(tmp_path / "tty"), "--asof", ASOF, "--threads", "1"],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    p.wait(timeout=300)
    os.close(master)
    assert b"pages written" in seen
    assert len(list((tmp_path / "tty").glob("*.html"))) == 3001
    piped = run("report", "-r", INSTITUTION, str(big), "--out", str(tmp_path / "pipe"),
                "--asof", ASOF, "--threads", "1")
    assert "pages written" not in piped.stderr


def test_usage_mistakes_and_help(tmp_path):
    r = run("report", "-r", SMALL_RULES, SMALL_FACTS)
    assert r.returncode == 2 and "--out" in r.stderr
    r = run("report", "--out", str(tmp_path), SMALL_FACTS)
    assert r.returncode == 2 and "-r RULES" in r.stderr
    r = run("report", "-r", SMALL_RULES, SMALL_FACTS, "--out", str(tmp_path), "--by", "")
    assert r.returncode == 2
    r = run("report", "-r", SMALL_RULES, SMALL_FACTS, "--out", str(tmp_path), "--asof", "2024-13-01")
    assert r.returncode == 2
    h = run("report", "--help")
    assert h.returncode == 0 and "--by PATH" in h.stdout and "docs/reports.md" in h.stdout
    assert "report" in run("--help").stdout
    missing = run("report", "-r", SMALL_RULES, str(tmp_path / "nope.jsonl"), "--out",
                  str(tmp_path / "o"))
    assert missing.returncode == 1 and "nope.jsonl" in missing.stderr
    blocked = tmp_path / "file"
    blocked.write_text("x")
    r = run("report", "-r", SMALL_RULES, SMALL_FACTS, "--out", str(blocked))
    assert r.returncode == 1 and "output directory" in r.stderr
