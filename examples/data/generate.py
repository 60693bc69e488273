#!/usr/bin/env python3
"""Generate realistic sample institutions (with residents) for the shipped rulesets.

    python3 examples/data/generate.py                       # 200 institutions, seed 42,
                                                           # -> examples/data/institutions.jsonl
    python3 examples/data/generate.py --count 5000 --seed 7 --out /tmp/big.jsonl
    python3 examples/data/generate.py --out - | head -1     # standard output

One JSON object per line. Every field a shipped ruleset reads is at the path its input table
gives (docs/rulesets.md): `facility.*` (hazards/mca_2023.rules, and the three fields of the
illustrative hazards/local_example.rules), `areas.*` (risk/four_color.rules), `rating.*`
(levels/gbt37276.rules), and `residents`, a list whose elements carry the inputs of
capability/gbt42195.rules (evaluate them with `--each residents`). The optional
`licensed_manufacture` of a special-equipment unit is not generated. Other fields (name,
region, beds, a resident's sex and birth date) are context that the rulesets ignore.

The data are synthetic, drawn from plausible distributions; they describe no real
institution or person. Defects are rare, as in real inspections, and so are gaps in the data:

  * missing facts: about 1.5 % of the institution's facts and of a resident's health
    facts (coma, diagnoses, risk events) are left out, and about 0.2 % of the 26 item scores;
  * bad values: about 1.5 % of institutions and 1 % of residents carry one bad value (out of
    range, outside an enum, a date that does not exist, or the wrong JSON type).

All dates are relative to --asof (default 2024-06-01); evaluate with the same --asof.
Only the Python standard library is used; the output depends only on the arguments.
"""

import argparse
import datetime as dt
import json
import math
import os
import random
import sys

# --------------------------------------------------------------------------- constants

REGIONS = [
    ("FJ", "XM", "福建省", "厦门市", ["思明区", "湖里区", "集美区", "海沧区", "同安区", "翔安区"]),
    ("FJ", "SM", "福建省", "三明市", ["三元区", "沙县区", "永安市", "明溪县", "将乐县"]),
    ("FJ", "FZ", "福建省", "福州市", ["鼓楼区", "台江区", "仓山区", "晋安区", "长乐区"]),
    ("LN", "SY", "辽宁省", "沈阳市", ["和平区", "沈河区", "皇姑区", "铁西区", "浑南区"]),
    ("GD", "QY", "广东省", "清远市", ["清城区", "清新区", "英德市", "连州市"]),
]
NAME_WORDS = ["福寿", "康乐", "颐和", "松鹤", "夕阳红", "安康", "长青", "仁爱", "怡然", "慈晖",
              "银龄", "椿萱", "乐龄", "同心", "永乐", "瑞祥"]
NAME_SUFFIX = ["养老院", "颐养中心", "老年公寓", "护理院", "社会福利中心", "敬老院", "康养中心"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀英华玉兰桂珍建国志红平海燕"

LEC_L = [(10, 0.02), (6, 0.05), (3, 0.20), (1, 0.38), (0.5, 0.22), (0.2, 0.10), (0.1, 0.03)]
LEC_E = [(10, 0.04), (6, 0.33), (3, 0.30), (2, 0.16), (1, 0.11), (0.5, 0.06)]
LEC_C = [(100, 0.01), (40, 0.04), (15, 0.20), (7, 0.35), (3, 0.30), (1, 0.10)]
MATRIX_L = [(1, 0.30), (2, 0.35), (3, 0.22), (4, 0.10), (5, 0.03)]
MATRIX_S = [(1, 0.15), (2, 0.30), (3, 0.30), (4, 0.18), (5, 0.07)]

# GB/T 42195-2022 items: (group, field, maximum), in the order of the assessment form.
ITEMS = [
    ("self_care", "eating", 4), ("self_care", "grooming", 4), ("self_care", "bathing", 4),
    ("self_care", "dressing_upper", 4), ("self_care", "dressing_lower", 4),
    ("self_care", "bladder", 4), ("self_care", "bowel", 4), ("self_care", "toileting", 4),
    ("mobility", "bed_mobility", 4), ("mobility", "transfer", 4), ("mobility", "walking", 4),
    ("mobility", "stairs", 3),
    ("mental", "orientation_time", 4), ("mental", "orientation_place", 4),
    ("mental", "orientation_person", 4), ("mental", "memory", 4), ("mental", "comprehension", 4),
    ("mental", "expression", 4), ("mental", "aggression", 1), ("mental", "depression", 1),
    ("mental", "consciousness", 2),
    ("perception", "vision", 2), ("perception", "hearing", 2), ("perception", "daily_affairs", 4),
    ("perception", "transport", 3), ("perception", "social", 4),
]
DEMENTIA_CODES = ["F00.1", "F00.9", "F01.3", "F01.9", "F02.3", "F03"]
MENTAL_CODES = ["F06.7", "F20.0", "F31.3", "F32.1", "F33.1", "F41.1"]
PHYSICAL_CODES = ["I10", "E11.9", "I63.9", "J44.9", "I25.1", "M81.0", "N18.3", "G20"]
EVENT_KINDS = [("fall", 0.45), ("fall_from_bed", 0.08), ("choking", 0.12), ("missing", 0.07),
               ("self_harm", 0.03), ("harm_to_others", 0.04), ("scald", 0.04),
               ("mistaken_ingestion", 0.04), ("pressure_ulcer", 0.08), ("activity_accident", 0.03),
               ("other", 0.02)]

P_MISSING_FACT = 0.015     # an institution's fact, a resident's health fact
P_MISSING_ITEM = 0.002     # one of the 26 item scores
P_BAD_INSTITUTION = 0.015  # an institution carries one bad value
P_BAD_RESIDENT = 0.01      # a resident carries one bad value


# --------------------------------------------------------------------------- helpers

def weighted(rng, pairs):
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def iso(d):
    return d.isoformat()


def days(rng, asof, lo, hi):
    """A date between asof+lo and asof+hi days (inclusive)."""
    return asof + dt.timedelta(days=rng.randint(lo, hi))


def half_points(x):
    """Round to half points, as assessors' sheets are kept; integral values as int."""
    v = round(x * 2) / 2
    return int(v) if v == int(v) else v


def person_name(rng):
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))


# --------------------------------------------------------------------------- an institution

def building(rng, asof):
    grade = weighted(rng, [("A", 0.45), ("B", 0.35), ("C", 0.025), ("D", 0.005),
                           ("unappraised", 0.17)])
    b = {"appraisal": {"grade": grade}}
    if grade != "unappraised":
        b["appraisal"]["issuer"] = rng.choice(["市房屋安全鉴定中心", "建筑工程质量检测中心",
                                               "房屋安全鉴定所", "建设工程检测有限公司"])
        b["appraisal"]["date"] = iso(days(rng, asof, -8 * 365, -30))
    b["structural_major_hazard"] = rng.random() < 0.005
    b["combustible_sandwich_panels"] = rng.random() < 0.01
    b["combustible_decoration"] = rng.random() < 0.008
    return b


def fire_findings(rng, asof):
    out = []
    for _ in range(weighted(rng, [(0, 0.35), (1, 0.45), (2, 0.20)])):
        out.append({
            "by": weighted(rng, [("fire_rescue", 0.50), ("third_party", 0.30),
                                 ("housing_dept", 0.15), ("other", 0.05)]),
            "date": iso(days(rng, asof, -3 * 365, -5)),
            "lacks_fire_safety_conditions": rng.random() < 0.015,
        })
    return out


def special_equipment(rng, asof, beds, has_medical, inst_id):
    units = []
    lifts = 0 if beds < 40 else rng.randint(1, 2) if beds < 150 else rng.randint(2, 4)
    kinds = ["电梯"] * lifts
    if rng.random() < 0.2:
        kinds.append("锅炉")
    if has_medical and rng.random() < 0.5:
        kinds.append("氧气管道")
    if rng.random() < 0.1:
        kinds.append("压力容器")
    for n, kind in enumerate(kinds, 1):
        inspection = weighted(rng, [("passed", 0.994), ("failed", 0.003), ("never", 0.003)])
        unit = {
            "id": f"{inst_id}-SE{n}",
            "kind": kind,
            "registration_no": f"{'梯' if kind == '电梯' else '容'}11{rng.randint(10000, 99999)}",
            "registered": rng.random() < 0.997,
            "inspection": inspection,
        }
        if inspection == "passed":
            # lifts are inspected yearly; about 1 % are used past the date on the certificate
            if rng.random() < 0.01:
                unit["next_inspection"] = iso(days(rng, asof, -120, -1))
            else:
                unit["next_inspection"] = iso(days(rng, asof, 0, 364))
        unit["phased_out"] = rng.random() < 0.002
        unit["scrapped"] = rng.random() < 0.002
        units.append(unit)
    return units


def equipment_staff(rng, asof, units):
    if not units:
        return []
    staff = []
    for _ in range(rng.randint(1, 2)):
        certified = rng.random() < 0.99
        p = {"name": person_name(rng), "duty": "safety_management", "certified": certified}
        if certified:
            expired = rng.random() < 0.01
            p["certificate_valid_until"] = iso(days(rng, asof, -200, -1) if expired
                                               else days(rng, asof, 30, 4 * 365))
        staff.append(p)
    if rng.random() < 0.3:
        staff.append({"name": person_name(rng), "duty": "other", "certified": rng.random() < 0.8})
    return staff


def medical(rng, asof, beds):
    exists = rng.random() < (0.25 if beds < 80 else 0.6)
    m = {"exists": exists}
    if not exists:
        return m
    r = rng.random()
    if r < 0.72:        # licensed clinic
        expired = rng.random() < 0.015
        m["licence"] = {"held": True, "number": f"PDY{rng.randint(10000000, 99999999)}",
                        "valid_until": iso(days(rng, asof, -150, -1) if expired
                                           else days(rng, asof, 1, 5 * 365))}
        m["filed"] = False
    elif r < 0.985:     # filed clinic (诊所备案)
        m["licence"] = {"held": False}
        m["filed"] = True
    else:               # neither: the hazard of 第五条第(一)项
        m["licence"] = {"held": False}
        m["filed"] = False
    return m


def canteen(rng, asof):
    if rng.random() >= 0.85:
        return {"exists": False}
    held = rng.random() < 0.985
    lic = {"held": held}
    if held:
        expired = rng.random() < 0.01
        lic["number"] = f"JY1{rng.randint(10**13, 10**14 - 1)}"
        lic["valid_until"] = iso(days(rng, asof, -90, -1) if expired else days(rng, asof, 1, 5 * 365))
    return {"exists": True, "food_licence": lic}


def area(rng):
    if rng.random() < 0.55:
        return {"L": weighted(rng, LEC_L), "E": weighted(rng, LEC_E), "C": weighted(rng, LEC_C)}
    return {"likelihood": weighted(rng, MATRIX_L), "severity": weighted(rng, MATRIX_S)}


def rating(rng):
    q = min(0.98, max(0.25, rng.gauss(0.72, 0.12)))
    out = {}
    for name, top in (("environment", 120), ("facilities", 130), ("operations", 150),
                      ("services", 600)):
        share = min(1.0, max(0.0, q + rng.gauss(0, 0.05)))
        out[name] = half_points(top * share)
    return out


# --------------------------------------------------------------------------- a resident

def resident(rng, asof, rid):
    profile = weighted(rng, [("able", 0.30), ("mild", 0.30), ("moderate", 0.18),
                             ("severe", 0.12), ("total", 0.10)])
    base = {"able": 0.97, "mild": 0.82, "moderate": 0.6, "severe": 0.42, "total": 0.15}[profile]
    cognitive = rng.random() < {"able": 0.05, "mild": 0.15, "moderate": 0.3, "severe": 0.45,
                                "total": 0.6}[profile]
    r = {"id": rid, "sex": rng.choice(["男", "女"]),
         "birth_date": iso(dt.date(asof.year - rng.randint(62, 99), rng.randint(1, 12),
                                   rng.randint(1, 28)))}
    for group, field, top in ITEMS:
        level = base + rng.gauss(0, 0.04 if profile == "able" else 0.1)
        if group == "mental" and cognitive:
            level -= 0.35
        if field in ("aggression", "depression"):
            score = 0 if rng.random() < (0.25 if cognitive else 0.05) else 1
        elif field == "consciousness":   # awake, unless in the lowest profiles
            score = 2 if profile not in ("severe", "total") or rng.random() < 0.7 else 1
        else:
            score = int(round(top * min(1.0, max(0.0, level))))
        r.setdefault(group, {})[field] = score
    r["coma"] = profile == "total" and rng.random() < 0.1
    diagnoses = []
    if cognitive and rng.random() < 0.7:
        diagnoses.append({"code": rng.choice(DEMENTIA_CODES), "by_psychiatrist": rng.random() < 0.4})
    if rng.random() < 0.08:
        diagnoses.append({"code": rng.choice(MENTAL_CODES), "by_psychiatrist": rng.random() < 0.7})
    for code in rng.sample(PHYSICAL_CODES, rng.choice([0, 1, 1, 2, 2, 3])):
        diagnoses.append({"code": code, "by_psychiatrist": False})
    r["diagnoses"] = diagnoses
    rate = {"able": 0.2, "mild": 0.5, "moderate": 1.0, "severe": 1.6, "total": 1.2}[profile]
    events = []
    for _ in range(poisson(rng, rate)):   # events of the last 180 days
        events.append({"date": iso(days(rng, asof, -179, 0)), "kind": weighted(rng, EVENT_KINDS)})
    events.sort(key=lambda e: e["date"])
    r["risk_events"] = events
    return r


def poisson(rng, lam):
    n, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p < limit:
            return n
        n += 1


# --------------------------------------------------------------------------- gaps and errors

def drop_facts(rng, obj, p, keep=()):
    """Remove each leaf fact (and each list as a whole) with probability p."""
    for key in list(obj.keys()):
        if key in keep:
            continue
        val = obj[key]
        if isinstance(val, dict):
            drop_facts(rng, val, p, keep)
        elif rng.random() < p:
            del obj[key]


def spoil_institution(rng, rec):
    """Put one bad value somewhere a ruleset reads."""
    choice = rng.randrange(6)
    if choice == 0:
        rec["rating"]["services"] = rng.choice([612, -5, "五百"])
    elif choice == 1:
        rec["areas"]["fire"] = {"L": rng.choice([5, 2, 0]), "E": 6, "C": 7}
    elif choice == 2:
        rec["areas"]["food"] = {"likelihood": rng.choice([0, 6, 3.5]), "severity": 2}
    elif choice == 3:
        rec["facility"]["building"]["appraisal"]["grade"] = rng.choice(["E", "c", "危房"])
    elif choice == 4:
        rec["facility"]["canteen"] = {"exists": True,
                                      "food_licence": {"held": True,
                                                       "valid_until": rng.choice(["2024-02-30",
                                                                                  "2025/01/01",
                                                                                  "明年"])}}
    else:
        rec["facility"]["other_hazard"]["found"] = rng.choice(["否", 0, "false"])


def spoil_resident(rng, r):
    group, field, top = rng.choice(ITEMS)
    r[group][field] = rng.choice([top + 1, -1, str(top), top - 0.5])


# --------------------------------------------------------------------------- main

def institution(rng, asof, seq):
    prov, city_code, province, city, districts = rng.choice(REGIONS)
    district = rng.choice(districts)
    inst_id = f"{prov}-{city_code}-{seq:04d}"
    beds = rng.choice([rng.randint(20, 60), rng.randint(60, 150), rng.randint(150, 400)])
    occupied = int(beds * min(0.98, max(0.2, rng.gauss(0.65, 0.15))))
    has_medical_rec = medical(rng, asof, beds)
    units = special_equipment(rng, asof, beds, has_medical_rec["exists"], inst_id)
    needed = math.ceil(occupied / 30)
    night = max(0, needed + (-1 if rng.random() < 0.08 else rng.choice([0, 0, 1, 2])))
    rec = {
        "id": inst_id,
        "name": city.rstrip("市") + district.rstrip("区县市") + rng.choice(NAME_WORDS)
                + rng.choice(NAME_SUFFIX),
        "region": {"province": province, "city": city, "district": district},
        "beds": beds,
        "facility": {
            "building": building(rng, asof),
            "fire": {"findings": fire_findings(rng, asof), "exits_blocked": rng.random() < 0.03},
            "special_equipment": units,
            "special_equipment_staff": equipment_staff(rng, asof, units),
            "medical": has_medical_rec,
            "canteen": canteen(rng, asof),
            "other_hazard": {"found": False},
            "residents": {"count": occupied},
            "staff": {"night_carers": night},
        },
        "areas": {name: area(rng) for name in ("fire", "food", "facilities", "emergency")},
        "rating": rating(rng),
    }
    if rng.random() < 0.01:
        rec["facility"]["other_hazard"] = {"found": True, "description": rng.choice(
            ["地下室违规存放大量氧气钢瓶", "厨房液化气瓶与明火同室", "电动自行车在楼道内充电"])}
    # a sample of the residents (the assessed ones), to keep the file small
    rec["residents"] = [resident(rng, asof, f"{inst_id}-R{n:02d}")
                        for n in range(1, min(occupied, rng.randint(3, 16)) + 1)]

    drop_facts(rng, rec["facility"], P_MISSING_FACT, keep=("issuer", "number", "id", "kind",
                                                           "registration_no", "name"))
    drop_facts(rng, rec["areas"], P_MISSING_FACT)
    drop_facts(rng, rec["rating"], P_MISSING_FACT)
    for r in rec["residents"]:
        for group in ("self_care", "mobility", "mental", "perception"):
            drop_facts(rng, r[group], P_MISSING_ITEM)
        for key in ("coma", "diagnoses", "risk_events"):
            if rng.random() < P_MISSING_FACT:
                del r[key]
        if rng.random() < P_BAD_RESIDENT:
            spoil_resident(rng, r)
    if rng.random() < P_BAD_INSTITUTION:
        try:
            spoil_institution(rng, rec)
        except KeyError:     # the spoiled path was dropped above: leave it missing
            pass
    return rec


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    ap.add_argument("--count", type=int, default=200, help="number of institutions (default 200)")
    ap.add_argument("--out", default=os.path.join(here, "institutions.jsonl"),
                    help="output .jsonl file, '-' for standard output "
                         "(default: institutions.jsonl beside this script)")
    ap.add_argument("--asof", default="2024-06-01",
                    help="the date every generated date is relative to (default 2024-06-01)")
    args = ap.parse_args(argv)
    if args.count < 0:
        ap.error("--count must be >= 0")
    try:
        asof = dt.date.fromisoformat(args.asof)
    except ValueError:
        ap.error("--asof must be YYYY-MM-DD")
    rng = random.Random(args.seed)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8", newline="\n")
    try:
        for seq in range(1, args.count + 1):
            out.write(json.dumps(institution(rng, asof, seq), ensure_ascii=False,
                                 separators=(",", ":")) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
