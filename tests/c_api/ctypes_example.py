"""Runs the Python ctypes example of docs/integration.md against the freshly built
libcarerules.so.0, so that the documented calls stay true to the header.
Usage: ctypes_example.py SOURCE_DIR LIBRARY"""
import json
import re
import sys
from pathlib import Path

source_dir, library = Path(sys.argv[1]), sys.argv[2]
doc = (source_dir / "docs/integration.md").read_text(encoding="utf-8")
section = doc[doc.index("## Python (ctypes)"):]
code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
# The example loads the installed library by its SONAME; here it is the one just built.
assert '"libcarerules.so.0"' in code, "the example no longer loads libcarerules.so.0"
code = code.replace('"libcarerules.so.0"', repr(library))
code = code.replace('b"rulesets/institution.rules"',
                    repr(str(source_dir / "rulesets/institution.rules").encode()))
scope = {}
exec(compile(code, "docs/integration.md (Python ctypes)", "exec"), scope)
report = scope["report"]
assert report["subject"] == "A-1", report["subject"]
assert report["asof"] == "2024-06-01", report["asof"]
# The example's facts give nothing but an id: every hazard and grade waits for facts.
assert report["hazards"] and all(h["status"] == "undetermined" for h in report["hazards"])
assert set(report["grades"]) >= {"risk", "level"}
assert all(g["value"] == "undetermined" for g in report["grades"].values()), report["grades"]
assert scope["lib"].cr_engine_version().decode().startswith("carerules ")
print("the ctypes example of docs/integration.md ran:", json.dumps(report["grades"]["risk"]))
