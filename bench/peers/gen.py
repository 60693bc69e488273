#!/usr/bin/python3
"""The side-by-side workload: N institutions as JSON lines, and what each must give.

    /usr/bin/python3 bench/peers/gen.py --n 100000 --out /tmp/carerules-peers-data

writes OUT/records.jsonl (one institution per line) and OUT/expected.txt (one result line per
record, `id|hazards|colour`, from the plain Python decisions below). Every harness writes the
same lines and is checked against this file record by record.

The decisions, as of 2024-06-01: eight major hazards (A4.1 a C/D building or one the housing
department named a major hazard; A4.2 fire safety not compliant; A4.3 flammable sandwich
panels; A4.4 special equipment unlicensed or past its inspection; A5.1 a clinic neither
licensed nor filed; A5.2 a canteen without food licence; A5.3 unqualified equipment staff; A2
another major hazard found by the inspector), four area colours (fire and food by LEC,
D = L*E*C; facilities and emergency by the risk matrix, R = likelihood*severity) and the
institution's colour: red when any hazard is present, else the worst area colour.
"""

import argparse
import datetime
import json
import pathlib
import random

ASOF = "2024-06-01"
HAZARDS = ["A4.1", "A4.2", "A4.3", "A4.4", "A5.1", "A5.2", "A5.3", "A2"]
COLOURS = ["blue", "yellow", "orange", "red"]
L_VALUES = [0.5, 1, 3, 6, 10]        # exact in binary floating point, as are the products
E_VALUES = [0.5, 1, 2, 3, 6, 10]
C_VALUES = [1, 3, 7, 15, 40, 100]


def lec_colour(a):
    d = a["L"] * a["E"] * a["C"]
    return 3 if d >= 320 else 2 if d >= 160 else 1 if d >= 70 else 0


def matrix_colour(a):
    r = a["likelihood"] * a["severity"]
    return 3 if r >= 20 else 2 if r >= 15 else 1 if r >= 9 else 0


def decide(rec):
    b, clinic, canteen = rec["building"], rec["clinic"], rec["canteen"]
    present = {
        "A4.1": b["appraisal"] in ("C", "D") or b["major_hazard"],
        "A4.2": not rec["fire"]["compliant"],
        "A4.3": rec["panels_flammable"],
        "A4.4": any(not e["licensed"] or e["valid_until"] < ASOF for e in rec["equipment"]),
        "A5.1": clinic["exists"] and not clinic["licensed"] and not clinic["filed"],
        "A5.2": canteen["exists"] and not canteen["food_licence"],
        "A5.3": rec["staff_unqualified"],
        "A2": rec["other_major"],
    }
    hazards = [h for h in HAZARDS if present[h]]
    areas = rec["areas"]
    worst = max(lec_colour(areas["fire"]), lec_colour(areas["food"]),
                matrix_colour(areas["facilities"]), matrix_colour(areas["emergency"]))
    colour = "red" if hazards else COLOURS[worst]
    return f"{rec['id']}|{','.join(hazards)}|{colour}"


def chance(rng, p):
    return rng.random() < p


def record(rng, i):
    # Most areas are low risk: small values are the likely ones.
    def lec():
        return {"L": rng.choices(L_VALUES, weights=[40, 30, 20, 7, 3])[0],
                "E": rng.choices(E_VALUES, weights=[25, 30, 25, 12, 6, 2])[0],
                "C": rng.choices(C_VALUES, weights=[40, 30, 18, 8, 3, 1])[0]}

    def matrix():
        w = [40, 30, 18, 8, 4]
        return {"likelihood": rng.choices(range(1, 6), weights=w)[0],
                "severity": rng.choices(range(1, 6), weights=w)[0]}

    def equipment():
        # Mostly valid for a long while; about 1 % expired, 0.5 % due on the evaluation date
        # itself (still valid), 1 % unlicensed.
        r = rng.random()
        days = rng.randint(-400, -1) if r < 0.01 else 0 if r < 0.015 else rng.randint(1, 1500)
        until = datetime.date.fromisoformat(ASOF) + datetime.timedelta(days=days)
        return {"licensed": not chance(rng, 0.01), "valid_until": until.isoformat()}

    clinic_exists = chance(rng, 0.3)
    canteen_exists = chance(rng, 0.8)
    return {
        "id": f"I{i:06d}",
        "name": f"养老院 {i}",
        "building": {"appraisal": None if chance(rng, 0.1) else
                     rng.choices("ABCD", weights=[60, 37, 2, 1])[0],
                     "major_hazard": chance(rng, 0.005)},
        "fire": {"compliant": not chance(rng, 0.03)},
        "panels_flammable": chance(rng, 0.02),
        "equipment": [equipment() for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 4]))],
        "clinic": {"exists": clinic_exists, "licensed": not chance(rng, 0.05),
                   "filed": not chance(rng, 0.5)},
        "canteen": {"exists": canteen_exists, "food_licence": not chance(rng, 0.025)},
        "staff_unqualified": chance(rng, 0.015),
        "other_major": chance(rng, 0.01),
        "areas": {"fire": lec(), "food": lec(), "facilities": matrix(), "emergency": matrix()},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--out", default="/tmp/carerules-peers-data")
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    counts = {h: 0 for h in HAZARDS}
    colours = {c: 0 for c in COLOURS}
    with open(out / "records.jsonl", "w", encoding="utf-8") as rf, \
            open(out / "expected.txt", "w", encoding="utf-8") as ef:
        for i in range(1, args.n + 1):
            rec = record(rng, i)
            rf.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
            line = decide(rec)
            ef.write(line + "\n")
            _, hz, colour = line.split("|")
            for h in filter(None, hz.split(",")):
                counts[h] += 1
            colours[colour] += 1
    print(json.dumps({"n": args.n, "hazards": counts, "colours": colours}, ensure_ascii=False))


if __name__ == "__main__":
    main()
