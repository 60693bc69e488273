#!/usr/bin/env python3
"""A second, independent reading of the shipped rulesets, to check the engine against.

Re-implements in plain Python (Kleene logic, None = unknown) what institution.rules
(hazards, colour, level) and capability/gbt42195.rules (preliminary and final level) decide,
and compares it with the engine's reports, record by record:

    carerules eval -r rulesets/institution.rules examples/data/institutions.jsonl \
        --asof 2024-06-01 --format jsonl > /tmp/inst.jsonl
    python3 examples/data/reference.py inst examples/data/institutions.jsonl /tmp/inst.jsonl

    carerules eval -r rulesets/capability/gbt42195.rules --each residents \
        examples/data/institutions.jsonl --asof 2024-06-01 --format jsonl > /tmp/cap.jsonl
    python3 examples/data/reference.py cap examples/data/institutions.jsonl /tmp/cap.jsonl

Exit status 1 when any record differs. It follows the rulesets as shipped: change both
together. The asof date is 2024-06-01 unless --asof is given (as a 4th argument).
"""
import json, sys, datetime as dt
from fractions import Fraction as F
ASOF = dt.date(2024, 6, 1)
def AND(*xs):
    if any(x is False for x in xs): return False
    if any(x is None for x in xs): return None
    return True
def OR(*xs):
    if any(x is True for x in xs): return True
    if any(x is None for x in xs): return None
    return False
def NOT(x): return None if x is None else (not x)
def get(d, path, typ=None, enum=None, rng=None):
    for p in path.split("."):
        if not isinstance(d, dict) or p not in d or d[p] is None: return None
        d = d[p]
    return check(d, typ, enum, rng)
def check(v, typ, enum=None, rng=None):
    if v is None: return None
    if typ == "bool": return v if isinstance(v, bool) else None
    if typ == "date":
        if not isinstance(v, str) or len(v) != 10 or v[4] != "-" or v[7] != "-": return None
        try: return dt.date.fromisoformat(v)
        except ValueError: return None
    if typ == "str": return v if isinstance(v, str) else None
    if typ in ("int", "num"):
        if isinstance(v, bool) or not isinstance(v, (int, float)): return None
        if typ == "int" and v != int(v): return None
        v = F(str(v))
        if rng and not (rng[0] <= v <= rng[1]): return None
        if enum is not None and v not in [F(str(e)) for e in enum]: return None
        return v
    if enum is not None: return v if v in enum else None
    return v
def cmp(a, op, b):
    if a is None or b is None: return None
    return {"<": a < b, "<=": a <= b, ">=": a >= b, ">": a > b, "==": a == b}[op]
def IN(a, xs): return None if a is None else a in xs
def lst(d, path):
    for p in path.split("."):
        if not isinstance(d, dict) or p not in d or d[p] is None: return None
        d = d[p]
    return d if isinstance(d, list) and all(isinstance(e, dict) for e in d) else None
def ANY(xs, f):
    if xs is None: return None
    return OR(*[f(e) for e in xs]) if xs else False

def hazards(r):
    h = {}
    g = get(r, "facility.building.appraisal.grade", enum=["A","B","C","D","unappraised"])
    h["A4.1"] = OR(IN(g, ["C","D"]), get(r, "facility.building.structural_major_hazard", "bool"))
    h["A4.2"] = ANY(lst(r, "facility.fire.findings"), lambda f: AND(IN(check(f.get("by"), None, ["housing_dept","fire_rescue","third_party","other"]), ["housing_dept","fire_rescue","third_party"]), check(f.get("lacks_fire_safety_conditions"), "bool"), cmp(check(f.get("date"), "date"), "<=", ASOF)))
    h["A4.3"] = OR(get(r, "facility.building.combustible_sandwich_panels", "bool"), get(r, "facility.building.combustible_decoration", "bool"))
    # licensed_manufacture is optional: only a recorded false counts (exists() and not ...)
    h["A4.4"] = ANY(lst(r, "facility.special_equipment"), lambda u: OR(NOT(check(u.get("registered"), "bool")), check(u.get("licensed_manufacture"), "bool") is False, IN(check(u.get("inspection"), None, ["passed","failed","never"]), ["failed","never"]), cmp(check(u.get("next_inspection"), "date"), "<", ASOF), check(u.get("phased_out"), "bool"), check(u.get("scrapped"), "bool")))
    h["A5.1"] = AND(get(r, "facility.medical.exists", "bool"), NOT(OR(get(r, "facility.medical.filed", "bool"), AND(get(r, "facility.medical.licence.held", "bool"), cmp(get(r, "facility.medical.licence.valid_until", "date"), ">=", ASOF)))))
    h["A5.2"] = AND(get(r, "facility.canteen.exists", "bool"), NOT(AND(get(r, "facility.canteen.food_licence.held", "bool"), cmp(get(r, "facility.canteen.food_licence.valid_until", "date"), ">=", ASOF))))
    h["A5.3"] = ANY(lst(r, "facility.special_equipment_staff"), lambda p: AND(IN(check(p.get("duty"), None, ["safety_management","testing","other"]), ["safety_management","testing"]), NOT(AND(check(p.get("certified"), "bool"), cmp(check(p.get("certificate_valid_until"), "date"), ">=", ASOF)))))
    h["A3.5"] = get(r, "facility.other_hazard.found", "bool")
    return h
ORDER = ["blue", "yellow", "orange", "red"]
def cmax(*xs):
    if "red" in xs: return "red"
    if any(x is None for x in xs): return None
    return max(xs, key=ORDER.index)
def lec(D):
    if D is None: return None
    return "red" if D >= 320 else "orange" if D >= 160 else "yellow" if D >= 70 else "blue"
def mat(R):
    if R is None: return None
    return "red" if R >= 20 else "orange" if R >= 15 else "yellow" if R >= 9 else "blue"
def mul(*xs): 
    if any(x is None for x in xs): return None
    p = F(1)
    for x in xs: p *= x
    return p
def typ_of(path):
    k = path.rsplit(".", 1)[1]
    return {"L": ("num", [10,6,3,1,0.5,0.2,0.1]), "E": ("num", [10,6,3,2,1,0.5]), "C": ("num", [100,40,15,7,3,1]), "likelihood": ("int", None, (1,5)), "severity": ("int", None, (1,5))}[k]
def area(r, a):
    def v(k):
        t = typ_of("x." + k)
        return get(r, f"areas.{a}.{k}", *t)
    # exists(): a fact with an error reads as missing
    hl = any(v(k) is not None for k in "LEC"); hm = any(v(k) is not None for k in ("likelihood","severity"))
    bl = lec(mul(v("L"), v("E"), v("C"))); bm = mat(mul(v("likelihood"), v("severity")))
    if hl and not hm: return bl
    if hm and not hl: return bm
    return cmax(bl, bm)
def grade(lines):
    for val, cond in lines:
        if cond is None: return "undetermined"
        if cond: return val
    return "none"
def institution(r):
    h = hazards(r)
    anymajor = OR(*[True if s is True else (None if s is None else False) for s in h.values()])
    mh = grade([("有", anymajor), ("无", True)])
    w = cmax(*[area(r, a) for a in ("fire","food","facilities","emergency")])
    risk = grade([("red", OR(cmp(w, "==", "red") if w else None, anymajor)), ("orange", None if w is None else w == "orange"), ("yellow", None if w is None else w == "yellow"), ("blue", None if w is None else w == "blue")])
    secs = {k: get(r, f"rating.{k}", "num", rng=(0, m)) for k, m in (("environment",120),("facilities",130),("operations",150),("services",600))}
    if any(v is None for v in secs.values()): tot = None
    else: tot = sum(secs.values())
    def lv(t, s):
        return AND(cmp(tot, ">=", t), *[cmp(secs[k], ">=", F(str(s)) * m) for k, m in (("environment",120),("facilities",130),("operations",150),("services",600))])
    # first line: the veto, or scores known to miss 一级 (either decides `none` alone)
    level = grade([("none", OR(anymajor, NOT(lv(360, 0.4)))), ("五级", lv(900, 0.9)), ("四级", lv(780, 0.8)), ("三级", lv(570, 0.6)), ("二级", lv(450, 0.5)), ("一级", lv(360, 0.4))])
    st = {k: ("present" if v is True else "absent" if v is False else "undetermined") for k, v in h.items()}
    return st, mh, risk, level
ITEMS = [("self_care",["eating","grooming","bathing","dressing_upper","dressing_lower","bladder","bowel","toileting"],[4]*8),
 ("mobility",["bed_mobility","transfer","walking","stairs"],[4,4,4,3]),
 ("mental",["orientation_time","orientation_place","orientation_person","memory","comprehension","expression","aggression","depression","consciousness"],[4,4,4,4,4,4,1,1,2]),
 ("perception",["vision","hearing","daily_affairs","transport","social"],[2,2,4,3,4])]
def capability(r):
    vals = [get(r, f"{g}.{k}", "int", rng=(0, m)) for g, ks, ms in ITEMS for k, m in zip(ks, ms)]
    band = lambda t: 0 if t >= 90 else 1 if t >= 66 else 2 if t >= 46 else 3 if t >= 30 else 4
    maxes = [m for g, ks, ms in ITEMS for m in ms]
    lo = sum(0 if v is None else v for v in vals); hi = sum(m if v is None else v for v, m in zip(vals, maxes))
    pre = band(lo) if band(lo) == band(hi) else None     # decided when the bounds share a band
    diags = lst(r, "diagnoses"); evs = lst(r, "risk_events")
    dem = ANY(diags, lambda d: (lambda c: None if c is None else ("F00" <= c < "F04" or "f00" <= c < "f04"))(check(d.get("code"), "str")))
    psy = ANY(diags, lambda d: AND((lambda c: None if c is None else ("F04" <= c < "G" or "f04" <= c < "g"))(check(d.get("code"), "str")), check(d.get("by_psychiatrist"), "bool")))
    # events: >= 2 with a known date in the window raise; fewer with some date unknown: unknown
    if evs is None: evr = None
    else:
        ds = [check(e.get("date"), "date") for e in evs]
        certain = sum(1 for d in ds if d is not None and ASOF - dt.timedelta(30) < d <= ASOF)
        evr = True if certain >= 2 else (None if any(d is None for d in ds) else False)
    raised = OR(dem, psy, evr)
    coma = get(r, "coma", "bool")
    eq = lambda n: None if pre is None else pre == n
    fin = grade([("4", OR(coma, eq(4), AND(eq(3), raised))), ("3", OR(eq(3), AND(eq(2), raised))), ("2", OR(eq(2), AND(eq(1), raised))), ("1", OR(eq(1), AND(eq(0), raised))), ("0", eq(0))])
    preg = "undetermined" if pre is None else str(pre)
    return preg, fin
if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[1] not in ("inst", "cap"):
        sys.exit(__doc__)
    mode, facts, reports = sys.argv[1:4]
    if len(sys.argv) > 4:
        ASOF = dt.date.fromisoformat(sys.argv[4].removeprefix("--asof="))
    recs = [json.loads(l) for l in open(facts) if l.strip()]
    reps = [json.loads(l) for l in open(reports)]
    bad = 0
    if mode == "inst":
        for r, rep in zip(recs, reps):
            st, mh, risk, level = institution(r)
            got = ({h["id"]: h["status"] for h in rep["hazards"]}, rep["grades"]["major_hazard"]["value"], rep["grades"]["risk"]["value"], rep["grades"]["level"]["value"])
            if got != (st, mh, risk, level): bad += 1; print("DIFF", r["id"], got, (st, mh, risk, level))
        print(len(recs), "institutions,", bad, "differences")
    else:
        res = [x for r in recs for x in r.get("residents", [])]
        assert len(res) == len(reps)
        for r, rep in zip(res, reps):
            want = capability(r)
            got = (rep["grades"]["preliminary_level"]["value"], rep["grades"]["capability_level"]["value"])
            if got != want: bad += 1; print("DIFF", r["id"], got, want)
        print(len(res), "residents,", bad, "differences")
    sys.exit(1 if bad else 0)
