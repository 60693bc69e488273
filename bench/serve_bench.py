#!/usr/bin/python3
"""How fast `carerules serve` answers on loopback (a benchmark, not a test).

Starts the server on an ephemeral loopback port, then measures
  1. single-record requests over --connections keep-alive connections (one client process
     each, raw sockets, so that the client costs little): requests/s, p50 and p99 latency;
  2. --batch-record application/x-ndjson batches over --batch-connections connections:
     records/s and the batch latencies;
  3. the CLI on the same records (`carerules eval --format jsonl` to /dev/null): records/s;
and prints one table, with the machine's core count. Run:

  /usr/bin/python3 bench/serve_bench.py --bin build-release/bin/carerules
"""

import argparse
import json
import multiprocessing as mp
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def read_response(sock, buf):
    """Reads one HTTP response with a Content-Length; returns (status, body, rest of buffer).
    The body is received into one preallocated buffer, so that reading megabytes costs the
    client little."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
    if len(buf) >= length:
        return status, buf[:length], buf[length:]
    body = bytearray(length)
    view = memoryview(body)
    view[: len(buf)] = buf
    got = len(buf)
    while got < length:
        n = sock.recv_into(view[got:], length - got)
        if n == 0:
            raise ConnectionError("closed")
        got += n
    return status, body, b""


def request_bytes(path, body, content_type):
    return (f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def client(port, requests, seconds, queue):
    """Sends the prepared requests round-robin for `seconds`; puts its latencies."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    latencies, failed, records = [], 0, 0
    buf = b""
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end:
        req, n = requests[i % len(requests)]
        i += 1
        t0 = time.perf_counter()
        sock.sendall(req)
        status, _, buf = read_response(sock, buf)
        latencies.append(time.perf_counter() - t0)
        if status != 200:
            failed += 1
        records += n
    sock.close()
    queue.put((latencies, failed, records))


def run_clients(port, requests, connections, seconds):
    queue = mp.Queue()
    procs = [mp.Process(target=client, args=(port, requests, seconds, queue))
             for _ in range(connections)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    latencies = sorted(x for r in results for x in r[0])
    failed = sum(r[1] for r in results)
    records = sum(r[2] for r in results)

    def pct(q):
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {"requests": len(latencies), "failed": failed, "records": records,
            "seconds": min(wall, seconds + 1.0), "p50_ms": pct(0.50), "p99_ms": pct(0.99)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=str(ROOT / "build-release" / "bin" / "carerules"))
    ap.add_argument("--rulesets", default=str(ROOT / "rulesets"))
    ap.add_argument("--ruleset", default="institution")
    ap.add_argument("--facts", default=str(ROOT / "examples" / "data" / "institutions.jsonl"))
    ap.add_argument("--asof", default="2024-06-01")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--batch-connections", type=int, default=2)
    ap.add_argument("--threads", default="0", help="the server's --threads")
    args = ap.parse_args()

    lines = [x for x in pathlib.Path(args.facts).read_text(encoding="utf-8").splitlines() if x]
    path = f"/v1/rulesets/{args.ruleset}/evaluate?asof={args.asof}"
    singles = [(request_bytes(path, x.encode(), "application/json"), 1) for x in lines]
    batch_lines = (lines * (args.batch // len(lines) + 1))[: args.batch]
    batch_body = ("\n".join(batch_lines) + "\n").encode()
    batches = [(request_bytes(path, batch_body, "application/x-ndjson"), args.batch)]

    server = subprocess.Popen([args.bin, "serve", "--rulesets", args.rulesets, "--listen",
                               "127.0.0.1:0", "--threads", args.threads],
                              stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    port = int(re.search(r":(\d+)$", line.strip()).group(1))
    try:
        # Warm up (the first records fill the threads' caches).
        run_clients(port, singles, 2, 1.0)
        single = run_clients(port, singles, args.connections, args.seconds)
        batch = run_clients(port, batches, args.batch_connections, args.seconds)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    # The CLI on the same records, as many as the batch test evaluated (at least 20 000).
    n = max(20_000, batch["records"])
    with tempfile.TemporaryDirectory() as tmp:
        f = pathlib.Path(tmp) / "facts.jsonl"
        f.write_text("\n".join((lines * (n // len(lines) + 1))[:n]) + "\n", encoding="utf-8")
        rules = pathlib.Path(args.rulesets) / f"{args.ruleset}.rules"
        t0 = time.perf_counter()
        subprocess.run([args.bin, "eval", "-r", str(rules), str(f), "--asof", args.asof,
                        "--format", "jsonl"], stdout=subprocess.DEVNULL, check=False)
        cli_rate = n / (time.perf_counter() - t0)

    single_rate = single["requests"] / single["seconds"]
    batch_rate = batch["records"] / batch["seconds"]
    print(f"carerules serve on loopback: {os.cpu_count()} core(s), server --threads "
          f"{args.threads}, ruleset {args.ruleset}, {len(lines)} distinct records")
    print()
    print("| workload | requests | failed | records/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| single record, {args.connections} keep-alive connections | {single['requests']} | "
          f"{single['failed']} | {single_rate:,.0f} | {single['p50_ms']:.2f} | "
          f"{single['p99_ms']:.2f} |")
    print(f"| {args.batch}-record ndjson batches, {args.batch_connections} connections | "
          f"{batch['requests']} | {batch['failed']} | {batch_rate:,.0f} | "
          f"{batch['p50_ms']:.1f} | {batch['p99_ms']:.1f} |")
    print(f"| CLI `eval --format jsonl`, {n} records | – | – | {cli_rate:,.0f} | – | – |")
    print()
    print(f"batches / CLI: {batch_rate / cli_rate:.2f}")
    return 0 if single["failed"] == 0 and batch["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
