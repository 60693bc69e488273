"""The reference manual's examples are real. In docs/reference/*.md:

- a ```rules block right after `<!-- checked -->` is a whole ruleset whose own test blocks
  must all pass under `carerules test`;
- a block introduced by a line `` `NAME`: `` is a file of that name: the examples after it on
  the same page may use it (a later block of the same name replaces it);
- a ```console block is a terminal session: each `$ ` line is run by bash in a directory
  holding the page's files, with `carerules` the binary under test, and what it prints
  (standard output and standard error together) must be the lines that follow it;
- a ```pycon block is a Python session run by doctest with the page's files at hand;
- `<!-- generated: carerules ARGS -->` runs ARGS on the files named after it and compares the
  last ```json block of its section with the report written.

A ```rules block that is neither checked nor a named file would be an unchecked example, so
the page may not have one; syntax outlines use unlabelled fences.
"""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("CARERULES_BIN", str(ROOT / "build" / "bin" / "carerules"))
DOCS = sorted((ROOT / "docs" / "reference").glob("*.md"))

FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)
NAMED = re.compile(r"`([\w.-]+)`:\n\n$")
CHECKED = "<!-- checked -->\n"
GENERATED = re.compile(r"<!-- generated: carerules (.*?) -->\n(.*?)(?=\n## |\Z)", re.S)
# A line no example prints, marking the end of one command's output in a session.
END = "@@ end of command @@"


def blocks(doc):
    """Every fenced block of a page: (position, language, text, file name or None, checked)."""
    text = doc.read_text(encoding="utf-8")
    for m in FENCE.finditer(text):
        before = text[max(0, m.start() - 200):m.start()]
        named = NAMED.search(before)
        yield m.start(), m.group(1), m.group(2), named.group(1) if named else None, \
            before.endswith(CHECKED)


def files_before(doc, position):
    files = {}
    for at, _, text, name, _ in blocks(doc):
        if name and at < position:
            files[name] = text
    return files


def write_files(files, where):
    for name, text in files.items():
        (where / name).write_text(text, encoding="utf-8")


def examples(kind):
    for doc in DOCS:
        n = 0
        for at, lang, text, _, checked in blocks(doc):
            if lang == kind and (kind != "rules" or checked):
                n += 1
                yield pytest.param(doc, at, text, id=f"{doc.name}:{kind}#{n}")


def generated_examples():
    for doc in DOCS:
        for i, (command, body) in enumerate(GENERATED.findall(doc.read_text(encoding="utf-8"))):
            yield pytest.param(command, body, id=f"{doc.name}#{i + 1}")


def normalised(output):
    """What a reader compares: no byte-order mark (CSV starts with one), LF line ends, no
    trailing spaces (an editor drops them), no trailing blank lines."""
    output = output.replace("\ufeff", "").replace("\r\n", "\n")
    return "\n".join(line.rstrip() for line in output.split("\n")).strip("\n")


def session(text):
    """The commands of a console block and the output shown after each."""
    steps = []
    for line in text.rstrip("\n").split("\n"):
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"output before the first command:\n{text}"
            steps[-1][1].append(line)
    return [(command, normalised("\n".join(shown))) for command, shown in steps]


def test_the_manual_has_enough_checked_examples():
    counted = [list(examples("rules")), list(examples("console")), list(examples("pycon")),
               list(generated_examples())]
    assert sum(len(c) for c in counted) >= 15, [len(c) for c in counted]
    assert all(counted), "every kind of example is used at least once"


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_every_rules_block_is_checked(doc):
    for _, lang, text, name, checked in blocks(doc):
        if lang == "rules":
            assert checked or name, f"{doc.name}: a rules block nothing checks:\n{text[:200]}"


@pytest.mark.parametrize("doc,at,text", examples("rules"))
def test_checked_ruleset_passes_its_tests(doc, at, text, tmp_path):
    f = tmp_path / "example.rules"
    f.write_text(text, encoding="utf-8")
    p = subprocess.run([BIN, "test", str(f)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    passed = re.search(r"(\d+) passed, 0 failed", p.stdout)
    assert passed and int(passed.group(1)) >= 1, p.stdout


@pytest.mark.parametrize("doc,at,text", examples("console"))
def test_console_session_prints_what_the_page_shows(doc, at, text, tmp_path):
    write_files(files_before(doc, at), tmp_path)
    bindir = tmp_path / ".bin"
    bindir.mkdir()
    (bindir / "carerules").symlink_to(BIN)
    steps = session(text)
    # One shell for the session, so `echo $?` sees the previous command's status.
    script = "".join(f"{command}\n__rc=$?; printf '\\n{END}\\n'; (exit $__rc)\n"
                     for command, _ in steps)
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", LC_ALL="C.UTF-8")
    p = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    outputs = p.stdout.decode("utf-8").split(END + "\n")
    assert len(outputs) == len(steps) + 1, p.stdout.decode("utf-8")
    for (command, shown), got in zip(steps, outputs):
        assert normalised(got) == shown, f"$ {command}"


@pytest.mark.parametrize("doc,at,text", examples("pycon"))
def test_python_session_prints_what_the_page_shows(doc, at, text, tmp_path):
    write_files(files_before(doc, at), tmp_path)
    (tmp_path / "session.txt").write_text(text, encoding="utf-8")
    runner = ("import doctest, sys\n"
              "r = doctest.testfile('session.txt', module_relative=False,\n"
              "                     optionflags=doctest.NORMALIZE_WHITESPACE)\n"
              "sys.exit(1 if r.failed or not r.attempted else 0)\n")
    # The session runs in tmp_path, so a relative PYTHONPATH (build/python) must be made
    # absolute to still find the module under test.
    path = os.pathsep.join(os.path.abspath(p) for p in
                           os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
    p = subprocess.run([sys.executable, "-c", runner], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, PYTHONPATH=path))
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("command,body", generated_examples())
def test_generated_report_is_what_the_engine_writes(command, body, tmp_path):
    files = dict(re.findall(r"`([\w.]+)`:\n\n```\w+\n(.*?)```", body, re.S))
    write_files(files, tmp_path)
    shown = re.findall(r"```json\n(.*?)```", body, re.S)[-1]
    p = subprocess.run([BIN, *command.split()], capture_output=True, text=True, cwd=tmp_path,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == json.loads(shown)
    # the field order the page shows is the order the engine writes
    assert list(json.loads(p.stdout)) == list(json.loads(shown))
