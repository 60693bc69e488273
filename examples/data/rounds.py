#!/usr/bin/env python3
"""Three inspection rounds of the same sample institutions, for the ledger demo.

    python3 examples/data/rounds.py --out build/rounds    # round1.jsonl .. round3.jsonl

Round 1 is examples/data/institutions.jsonl as it is (as of 2024-06-01). Round 2 (2024-09-01):
most defects found in round 1 are put right, some stay, and a few institutions' fire or
building data are not reported (their hazards become undetermined, which must not close
them). Round 3 (2024-12-01): the missing data are back, most remaining defects are put right,
and a few defects fixed in round 2 come back (rebounds). Between rounds most institutions
renew what has a date (equipment inspections, licences, certificates) before it lapses or
once it has; a few let it lapse, which is how new findings appear. Synthetic and seeded: the
same arguments give the same files.
"""

import argparse
import copy
import json
import pathlib
import random

HERE = pathlib.Path(__file__).resolve().parent
DATES = ["2024-06-01", "2024-09-01", "2024-12-01"]


def defects(rec):
    """(getter, setter) pairs for each defect flag this record can carry."""
    f = rec.get("facility", {})
    out = []
    b = f.get("building")
    if isinstance(b, dict):
        for k in ("structural_major_hazard", "combustible_sandwich_panels",
                  "combustible_decoration"):
            if b.get(k) is True:
                out.append((b, k, False))
    fire = f.get("fire")
    if isinstance(fire, dict):
        if fire.get("exits_blocked") is True:
            out.append((fire, "exits_blocked", False))
        for finding in fire.get("findings") or []:
            if isinstance(finding, dict) and finding.get("lacks_fire_safety_conditions") is True:
                out.append((finding, "lacks_fire_safety_conditions", False))
    canteen = f.get("canteen")
    if isinstance(canteen, dict) and isinstance(canteen.get("food_licence"), dict):
        if canteen["food_licence"].get("held") is False:
            out.append((canteen["food_licence"], "held", True))
    other = f.get("other_hazard")
    if isinstance(other, dict) and other.get("found") is True:
        out.append((other, "found", False))
    return out


def renew(rec, asof, rng, share):
    """Each dated paper of the record that has lapsed by `asof` (equipment inspection, licence,
    certificate) is renewed for a year from `asof` with probability `share`."""
    f = rec.get("facility")
    if not isinstance(f, dict):
        return
    dated = []
    for u in f.get("special_equipment") or []:
        if isinstance(u, dict):
            dated.append((u, "next_inspection"))
    for p in f.get("special_equipment_staff") or []:
        if isinstance(p, dict):
            dated.append((p, "certificate_valid_until"))
    for part in ("medical", "canteen"):
        lic = (f.get(part) or {}).get("licence" if part == "medical" else "food_licence")
        if isinstance(lic, dict):
            dated.append((lic, "valid_until"))
    year_on = f"{int(asof[:4]) + 1}{asof[4:]}"
    for obj, key in dated:
        when = obj.get(key)
        if isinstance(when, str) and when < asof and rng.random() < share:
            obj[key] = year_on


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(HERE / "institutions.jsonl"))
    ap.add_argument("--out", required=True, help="directory for round1.jsonl .. round3.jsonl")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    r1 = [json.loads(l) for l in open(args.data, encoding="utf-8") if l.strip()]
    r2, r3 = [], []
    for rec in r1:
        two = copy.deepcopy(rec)
        fixed = []
        if isinstance(two.get("facility"), dict):
            for obj, key, good in defects(two):
                if rng.random() < 0.7:
                    bad = obj[key]
                    obj[key] = good
                    fixed.append((key, bad))
        renew(two, DATES[1], rng, 0.8)
        three = copy.deepcopy(two)
        renew(three, DATES[2], rng, 0.8)
        if isinstance(two.get("facility"), dict) and rng.random() < 0.06:
            two["facility"].pop(rng.choice(["fire", "building"]), None)  # not reported
        if isinstance(three.get("facility"), dict):
            for obj, key, good in defects(three):
                if rng.random() < 0.5:
                    obj[key] = good
            if fixed and rng.random() < 0.6:  # a rectified defect comes back
                key, bad = fixed[0]
                for obj, k, _ in [(o, k, g) for o, k, g in _flags(three) if k == key]:
                    obj[k] = bad
                    break
        r2.append(two)
        r3.append(three)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for n, rows in enumerate((r1, r2, r3), 1):
        with open(out / f"round{n}.jsonl", "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    for n, d in enumerate(DATES, 1):
        print(f"round{n}.jsonl {d}")


def _flags(rec):
    """Every defect flag of the record, set or not (to put a fixed one back)."""
    f = rec.get("facility", {})
    out = []
    b = f.get("building")
    if isinstance(b, dict):
        out += [(b, k, False) for k in ("structural_major_hazard", "combustible_sandwich_panels",
                                         "combustible_decoration") if k in b]
    fire = f.get("fire")
    if isinstance(fire, dict):
        if "exits_blocked" in fire:
            out.append((fire, "exits_blocked", False))
        out += [(x, "lacks_fire_safety_conditions", False) for x in fire.get("findings") or []
                if isinstance(x, dict)]
    canteen = f.get("canteen")
    if isinstance(canteen, dict) and isinstance(canteen.get("food_licence"), dict):
        out.append((canteen["food_licence"], "held", True))
    other = f.get("other_hazard")
    if isinstance(other, dict):
        out.append((other, "found", False))
    return out


if __name__ == "__main__":
    main()
