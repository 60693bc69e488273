"""The reference manual's examples are real: every ruleset marked `<!-- checked -->` in
docs/reference/*.md passes its own test blocks, and every report marked `<!-- generated: … -->`
is what the engine writes for the files shown beside it.
"""

import json
import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("CARERULES_BIN", str(ROOT / "build" / "bin" / "carerules"))
DOCS = sorted((ROOT / "docs" / "reference").glob("*.md"))

CHECKED = re.compile(r"<!-- checked -->\n```rules\n(.*?)```", re.S)
GENERATED = re.compile(r"<!-- generated: carerules (.*?) -->\n(.*?)(?=\n## |\Z)", re.S)
NAMED_BLOCK = re.compile(r"`([\w.]+)`:\n\n```\w+\n(.*?)```", re.S)
LAST_JSON = re.compile(r"```json\n(.*?)```", re.S)


def checked_examples():
    for doc in DOCS:
        for i, text in enumerate(CHECKED.findall(doc.read_text(encoding="utf-8"))):
            yield pytest.param(text, id=f"{doc.name}#{i + 1}")


def generated_examples():
    for doc in DOCS:
        for i, (command, body) in enumerate(GENERATED.findall(doc.read_text(encoding="utf-8"))):
            yield pytest.param(command, body, id=f"{doc.name}#{i + 1}")


def test_the_manual_has_examples():
    assert len(list(checked_examples())) >= 4
    assert len(list(generated_examples())) >= 1


@pytest.mark.parametrize("text", checked_examples())
def test_checked_example_passes_its_tests(text, tmp_path):
    f = tmp_path / "example.rules"
    f.write_text(text, encoding="utf-8")
    p = subprocess.run([BIN, "test", str(f)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    passed = re.search(r"(\d+) passed, 0 failed", p.stdout)
    assert passed and int(passed.group(1)) >= 1, p.stdout


@pytest.mark.parametrize("command,body", generated_examples())
def test_generated_report_is_what_the_engine_writes(command, body, tmp_path):
    files = dict(NAMED_BLOCK.findall(body))
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    shown = LAST_JSON.findall(body)[-1]
    p = subprocess.run([BIN, *command.split()], capture_output=True, text=True, cwd=tmp_path,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == json.loads(shown)
    # the field order the page shows is the order the engine writes
    assert list(json.loads(p.stdout)) == list(json.loads(shown))
