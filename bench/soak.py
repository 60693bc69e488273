#!/usr/bin/env python3
"""Soak: streams N generated records (default 10 000 000) through `carerules eval - --format
jsonl` and checks one report per input line, in input order, while sampling the process's
resident memory every second. Not a test: run it by hand and read the figures.

    /usr/bin/python3 bench/soak.py [--records N] [--threads T] [--bin build/bin/carerules]

Every 97th record is broken on purpose (not JSON, a wrong type, a bad date) so that error
reports are part of the stream too. Prints records/s and the RSS samples' min, max and last;
"flat" means the second half's peak stays within 10 % of the warmed-up first half's.
"""

import argparse
import json
import pathlib
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def records(n):
    good = ('{"id": "S%d", "facility": {"building": {"appraisal": {"grade": "%s"}, '
            '"structural_major_hazard": false}, "medical": {"exists": false}, '
            '"canteen": {"exists": false}, "other_hazard": {"found": false}}, '
            '"areas": {"fire": {"L": 3, "E": 6, "C": 7}}}\n')
    bad = ['not json %d\n', '{"id": "S%d", "facility": {"building": {"appraisal": {"grade": 7}}}}\n',
           '{"id": "S%d", "facility": {"medical": {"exists": true, "licence": {"valid_until": "2024-02-30"}}}}\n']
    grades = "ABCD"
    for i in range(n):
        if i % 97 == 96:
            yield (bad[(i // 97) % 3] % i).encode()
        else:
            yield (good % (i, grades[i % 4])).encode()


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--bin", default=str(ROOT / "build" / "bin" / "carerules"))
    a = ap.parse_args()
    proc = subprocess.Popen([a.bin, "eval", "-r", str(ROOT / "rulesets" / "institution.rules"),
                             "-", "--format", "jsonl", "--asof", "2024-06-01",
                             "--threads", str(a.threads)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=1 << 20)
    samples = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            r = rss_kib(proc.pid)
            if r:
                samples.append(r)
            time.sleep(1)

    def feed():
        for chunk in records(a.records):
            proc.stdin.write(chunk)
        proc.stdin.close()

    start = time.time()
    threading.Thread(target=sample, daemon=True).start()
    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    count = 0
    out_of_order = 0
    for line in proc.stdout:
        rep = json.loads(line) if count % 1000 == 0 else None  # parse a sample: checking costs
        if rep is not None:
            expected = f"S{count}" if count % 97 != 96 else None
            got = rep["subject"]
            if count % 97 != 96 and got != expected:
                out_of_order += 1
        count += 1
    proc.wait()
    done.set()
    elapsed = time.time() - start
    # flat: the peak of the second half is within 10 % (and 2 MiB) of the peak of the first
    # half once warmed up (the first fifth, start-up and the first chunks, is left out)
    warm = samples[len(samples) // 5:len(samples) // 2] or samples
    later = samples[len(samples) // 2:] or samples
    flat = bool(samples) and max(later) <= max(warm) * 1.10 + 2048
    print(f"records in {a.records}, reports out {count}, sampled reports out of order "
          f"{out_of_order}, exit {proc.returncode}")
    print(f"{a.records / elapsed:,.0f} records/s over {elapsed:.0f} s")
    if samples:
        print(f"RSS KiB: min {min(samples)}, max {max(samples)}, last {samples[-1]} "
              f"({len(samples)} samples); flat: {flat}")
        print("RSS KiB each second: " + " ".join(str(x) for x in samples))
    ok = count == a.records and out_of_order == 0 and proc.returncode == 1 and flat
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
