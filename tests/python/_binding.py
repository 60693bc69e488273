"""Shared data of the Python binding tests: an inline ruleset, a record, the CLI's path."""

import os
import pathlib
import shutil

import carerules

REPO = pathlib.Path(__file__).resolve().parents[2]

# A small ruleset that touches every kind of input and every part of a report.
RULES = """
ruleset binding_test {
  title   "绑定测试: 养老机构"
  version "1.0"
  source  "tests/python"
  effective @2024-01-01

  input {
    id                  : string
    facility.beds       : int in 0..1000 "核定床位数"
    facility.ratio      : number = 0.5
    facility.appraisal  : enum("A", "B", "C", "D")
    facility.opened     : date
    facility.sprinklers : bool
    facility.colour     : color
    facility.名称        : string
    codes               : list<string>
    residents : list {
      id      : string
      ability : int in 0..90
      wanders : bool = false
    }
  }

  let old = days_since(facility.opened) > 3650

  hazard H1 "建筑设施属于C级、D级危房" {
    category facilities
    cite     "第四条第(一)项"
    when     facility.appraisal in ["C", "D"]
    rectify  suspend within 90 days
    advice   "停止使用危房"
  }

  hazard H2 "床位多而无喷淋" {
    severity general
    when     not facility.sprinklers and facility.beds > 50
  }

  hazard H3 "名称为空" {
    severity general
    when     facility.名称 == ""
  }

  score quality max 100 {
    section env max 60 {
      item E1 "床位" 10 when facility.beds >= 10
      item E2 "比例" (facility.ratio * 20)
    }
    deduct D1 "老旧" 5 when old
  }

  grade risk : color {
    red    when any(h in hazards where h.severity == "major")
    yellow when count(r in residents where r.ability < 30) > 0
    blue   otherwise
  }

  test "a C building is a major hazard" {
    asof  @2024-06-01
    given {"facility": {"appraisal": "C"}}
    expect hazard H1
    expect risk == red
  }

  test "an A building is not" {
    asof  @2024-06-01
    given {"facility": {"appraisal": "A"}}
    expect not hazard H1
  }
}
"""

# A record with something for every input.
RECORD = {
    "id": "FJ-XM-0007",
    "facility": {
        "beds": 60,
        "ratio": 0.25,
        "appraisal": "C",
        "opened": "2010-05-01",
        "sprinklers": False,
        "colour": "orange",
        "名称": "厦门思明养老院",
    },
    "codes": ["甲", "乙"],
    "residents": [
        {"id": "R1", "ability": 20, "wanders": True},
        {"id": "R2", "ability": 80},
    ],
}



def cli_path():
    """The CLI of the same build, when there is one (for comparisons with its JSON)."""
    env = os.environ.get("CARERULES_CLI") or os.environ.get("CARERULES_BIN")
    if env:
        return env
    here = pathlib.Path(carerules.__file__).resolve().parents[2]  # <build>/python/carerules
    for p in (here / "bin" / "carerules", REPO / "build" / "bin" / "carerules"):
        if p.exists():
            return str(p)
    return shutil.which("carerules")
