"""`carerules serve`: every route and error code, reload (by request and SIGHUP) while clients
run, SIGTERM during a batch and while clients connect, slow and oversize clients, a thousand
connections opened and dropped. Each test starts its own server on an ephemeral loopback port
and stops it."""

import http.client
import json
import os
import pathlib
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("CARERULES_BIN", str(ROOT / "build" / "bin" / "carerules"))
SAMPLE = ROOT / "examples" / "data" / "institutions.jsonl"

TINY = """ruleset tiny {{
  title   "tiny"
  version "{version}"
  input {{
    id   : string
    beds : int "床位数"
  }}
  hazard B1 "床位超限" {{
    category other
    severity general
    cite     "条款二"
    when     beds > {beds}
  }}
  grade risk : color {{
    yellow when present(B1)
    blue   otherwise
  }}
}}
"""


class Server:
    def __init__(self, directory, *extra):
        self.proc = subprocess.Popen(
            [BIN, "serve", "--rulesets", str(directory), "--listen", "127.0.0.1:0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not m:
            self.proc.kill()
            raise AssertionError("no listening line: " + line + self.proc.stderr.read())
        self.port = int(m.group(1))

    def request(self, method, path, body=None, headers=None, timeout=60):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if isinstance(body, str):
                body = body.encode("utf-8")
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read().decode("utf-8")
        finally:
            c.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.returncode != 0:
            # Shown by pytest with the failure: a sanitizer's report, or the server's last words.
            sys.stderr.write(self.proc.stderr.read())
        return self.proc.returncode


@pytest.fixture
def served(tmp_path):
    """The shipped bundle (with its imports) and the tiny ruleset, in one directory."""
    d = tmp_path / "rulesets"
    shutil.copytree(ROOT / "rulesets", d)
    (d / "tiny.rules").write_text(TINY.format(version="1", beds=100), encoding="utf-8")
    s = Server(d, "--threads", "2")
    yield s, d
    s.stop()


def cli_eval(rules, facts_text, *extra, suffix=".jsonl", tmp):
    f = tmp / ("facts" + suffix)
    f.write_text(facts_text, encoding="utf-8")
    p = subprocess.run([BIN, "eval", "-r", str(rules), str(f), *extra], capture_output=True,
                       text=True, encoding="utf-8", timeout=120)
    return p.stdout


def test_rulesets_info_schema_and_health(served):
    s, d = served
    code, headers, body = s.request("GET", "/v1/rulesets")
    assert code == 200 and headers["Content-Type"] == "application/json"
    listed = {r["name"]: r for r in json.loads(body)}
    assert set(listed) == {"institution", "tiny"}
    inst = listed["institution"]
    assert inst["version"] == "1.0" and inst["digest"].startswith("sha256:")
    # The top file by its name in the directory, as `file` says: not the server's path.
    assert inst["files"][0]["file"] == inst["file"] == "institution.rules"
    assert len(inst["files"]) > 1
    code, _, body = s.request("GET", "/v1/rulesets/institution")
    assert code == 200 and json.loads(body) == inst
    code, _, body = s.request("GET", "/v1/rulesets/tiny/schema")
    schema = json.loads(body)
    assert code == 200 and "integer" in schema["properties"]["beds"]["type"]
    assert s.request("GET", "/healthz")[2].strip() == '{"status":"ok"}'


def test_evaluate_gives_what_the_cli_gives(served, tmp_path):
    s, d = served
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:40]
    one = lines[0]
    code, headers, body = s.request("POST", "/v1/rulesets/institution/evaluate?asof=2024-06-01",
                                    one, {"Content-Type": "application/json"})
    assert code == 200
    expected = cli_eval(d / "institution.rules", one + "\n", "--asof", "2024-06-01",
                        "--format", "jsonl", tmp=tmp_path)
    assert body == expected  # byte for byte the CLI's report
    assert headers["X-Carerules-Digest"] == json.loads(body)["ruleset"]["digest"]
    # A batch as JSON lines: one report per line, in order, as `eval --format jsonl`.
    batch = "\n".join(lines) + "\n"
    code, headers, body = s.request("POST", "/v1/rulesets/institution/evaluate?asof=2024-06-01",
                                    batch, {"Content-Type": "application/x-ndjson"})
    assert code == 200 and headers["Content-Type"] == "application/x-ndjson"
    assert body == cli_eval(d / "institution.rules", batch, "--asof", "2024-06-01", "--format",
                            "jsonl", tmp=tmp_path)
    assert len(body.splitlines()) == 40
    # each= and subject= as the CLI's --each and --subject.
    code, _, body = s.request(
        "POST", "/v1/rulesets/institution/evaluate?asof=2024-06-01&subject=name", one,
        {"Content-Type": "application/json"})
    assert json.loads(body)["subject"] == json.loads(one)["name"]
    code, _, body = s.request("POST", "/v1/rulesets/tiny/evaluate?each=homes&asof=2024-06-01",
                              json.dumps({"homes": [{"id": "a", "beds": 150},
                                                    {"id": "b", "beds": 10}]}),
                              {"Content-Type": "application/json"})
    reports = json.loads(body)
    assert code == 200 and [r["subject"] for r in reports] == ["a", "b"]
    assert [r["hazards"][0]["status"] for r in reports] == ["present", "absent"]


def test_one_bad_line_is_its_own_reports_error_and_bad_bodies_are_400(served):
    s, _ = served
    body = '{"id": "a", "beds": 150}\n[1,\n\n{"id": "c", "beds": "many"}\n{"id": "d", "beds": 5}\n'
    code, headers, text = s.request("POST", "/v1/rulesets/tiny/evaluate?asof=2024-06-01", body,
                                    {"Content-Type": "application/x-ndjson"})
    reports = [json.loads(x) for x in text.splitlines()]
    assert code == 200 and len(reports) == 4  # the blank line gets none
    assert reports[0]["hazards"][0]["status"] == "present"
    assert reports[1]["subject"] is None and "line 2" in reports[1]["errors"][0]["message"]
    assert reports[2]["errors"][0]["path"] == "/beds"
    assert reports[3]["hazards"][0]["status"] == "absent" and reports[3]["errors"] == []
    assert headers["X-Carerules-Record-Errors"] == "2"
    for bad_body in ('{"id": "a", "beds": 1', "[1, 2]", '{"id": "a"}\n{"id": "b"}', ""):
        code, _, text = s.request("POST", "/v1/rulesets/tiny/evaluate", bad_body,
                                  {"Content-Type": "application/json"})
        assert code == 400 and "not one JSON object" in json.loads(text)["error"], bad_body
    # A record whose facts are wrong is not a bad body: it gets its report, with the error.
    code, _, text = s.request("POST", "/v1/rulesets/tiny/evaluate", '{"id": "a", "beds": "x"}',
                              {"Content-Type": "application/json"})
    assert code == 200 and json.loads(text)["errors"][0]["path"] == "/beds"


@pytest.mark.parametrize("method,path,code,words", [
    ("POST", "/v1/rulesets/tiny/evaluate?asof=2024-13-01", 400, "asof"),
    ("POST", "/v1/rulesets/tiny/evaluate?asof=", 400, "asof"),
    ("POST", "/v1/rulesets/tiny/evaluate?colour=red", 400, "unknown query parameter"),
    ("POST", "/v1/rulesets/tiny/evaluate?each=a..b", 400, "each"),
    ("POST", "/v1/rulesets/tiny/evaluate?subject=%zz", 400, "percent"),
    ("POST", "/v1/rulesets/nope/evaluate", 404, "no ruleset named `nope`"),
    ("GET", "/v1/rulesets/..%2F..%2Fetc%2Fpasswd", 404, "no ruleset named"),
    ("GET", "/v1/rulesets/tiny/source", 404, "no route"),
    ("GET", "/", 404, "no route"),
    ("GET", "/v1/rulesets/%C3%28", 404, "no ruleset named `\ufffd(`"),
    ("GET", "/v1/rulesets/tiny/evaluate", 405, "use POST"),
    ("DELETE", "/v1/rulesets", 405, "use GET"),
    ("GET", "/v1/reload", 405, "use POST"),
])
def test_error_codes_say_what_is_wrong(served, method, path, code, words):
    s, _ = served
    got, headers, text = s.request(method, path, '{"id": "a", "beds": 1}' if method == "POST"
                                   else None, {"Content-Type": "application/json"})
    assert got == code and words in json.loads(text)["error"]
    if code == 405:
        assert headers["Allow"] in ("GET", "POST")


def test_bodies_over_max_body_get_413_and_heads_over_64k_431(tmp_path):
    (tmp_path / "tiny.rules").write_text(TINY.format(version="1", beds=100), encoding="utf-8")
    s = Server(tmp_path, "--max-body", "1K")
    try:
        big = '{"id": "a", "beds": 1, "pad": "' + "x" * 2000 + '"}'
        code, _, text = s.request("POST", "/v1/rulesets/tiny/evaluate", big,
                                  {"Content-Type": "application/json"})
        assert code == 413 and "--max-body" in json.loads(text)["error"]
        # Chunked, with no length announced: stopped at the limit all the same, and the answer
        # reaches a client that is still sending.
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=30)
        sock.sendall(b"POST /v1/rulesets/tiny/evaluate HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(50):
                sock.sendall(b"7d0\r\n" + b"x" * 2000 + b"\r\n")
        except OSError:
            pass  # the server stopped reading: expected
        assert sock.recv(4096).startswith(b"HTTP/1.1 413")
        sock.close()
        code, _, _ = s.request("GET", "/healthz", headers={"X-Pad": "y" * 70000})
        assert code == 431
        assert s.request("GET", "/healthz")[0] == 200  # and it keeps serving
    finally:
        assert s.stop() == 0


def test_reload_swaps_atomically_and_refuses_a_broken_directory(served):
    s, d = served
    digest1 = json.loads(s.request("GET", "/v1/rulesets/tiny")[2])["digest"]
    (d / "tiny.rules").write_text(TINY.format(version="2", beds=10), encoding="utf-8")
    code, _, text = s.request("POST", "/v1/reload")
    assert code == 200 and json.loads(text)["status"] == "reloaded"
    info = json.loads(s.request("GET", "/v1/rulesets/tiny")[2])
    assert info["version"] == "2" and info["digest"] != digest1
    code, _, text = s.request("POST", "/v1/rulesets/tiny/evaluate", '{"id": "a", "beds": 50}',
                              {"Content-Type": "application/json"})
    assert json.loads(text)["hazards"][0]["status"] == "present"  # the new threshold
    # A file that does not compile: refused with its diagnostics, version 2 keeps serving.
    (d / "broken.rules").write_text("ruleset broken {\n  hazard X {\n}\n", encoding="utf-8")
    code, _, text = s.request("POST", "/v1/reload")
    answer = json.loads(text)
    assert code == 422 and "broken.rules" in answer["error"]
    assert answer["diagnostics"] and answer["diagnostics"][0]["file"].endswith("broken.rules")
    assert json.loads(s.request("GET", "/v1/rulesets/tiny")[2])["version"] == "2"
    # SIGHUP reloads too.
    (d / "broken.rules").unlink()
    (d / "tiny.rules").write_text(TINY.format(version="3", beds=10), encoding="utf-8")
    s.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 20
    while json.loads(s.request("GET", "/v1/rulesets/tiny")[2])["version"] != "3":
        assert time.time() < deadline, "SIGHUP did not reload"
        time.sleep(0.05)
    metrics = s.request("GET", "/metrics")[2]
    assert 'carerules_reloads_total{result="ok"} 2' in metrics
    assert 'carerules_reloads_total{result="refused"} 1' in metrics


def test_reload_while_clients_run_loses_no_request(served):
    s, d = served
    digests = {}
    for v in ("1", "2"):
        digests[v] = None
    results, failures = [], []
    stop = threading.Event()

    def client():
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        while not stop.is_set():
            try:
                c.request("POST", "/v1/rulesets/tiny/evaluate", '{"id": "a", "beds": 50}',
                          {"Content-Type": "application/json"})
                r = c.getresponse()
                text = r.read().decode()
                if r.status != 200:
                    failures.append((r.status, text))
                else:
                    rep = json.loads(text)
                    results.append((rep["ruleset"]["version"], rep["ruleset"]["digest"],
                                    rep["hazards"][0]["status"]))
            except Exception as e:  # noqa: BLE001 - any failure is the test's finding
                failures.append(repr(e))
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        c.close()

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(10):
        version, beds = ("2", 10) if i % 2 == 0 else ("1", 100)
        (d / "tiny.rules").write_text(TINY.format(version=version, beds=beds), encoding="utf-8")
        assert s.request("POST", "/v1/reload")[0] == 200
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join()
    assert failures == []
    assert len(results) > 20
    # Every report comes from exactly one version: its digest and its decision agree.
    by_version = {}
    for version, digest, status in results:
        by_version.setdefault(version, set()).add((digest, status))
    assert set(by_version) == {"1", "2"}
    assert by_version["1"] == {(next(iter(by_version["1"]))[0], "absent")}
    assert by_version["2"] == {(next(iter(by_version["2"]))[0], "present")}


def test_sigterm_during_a_batch_finishes_it_then_exits_0(served, tmp_path):
    s, _ = served
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    batch = ("\n".join(lines) + "\n") * max(1, 6000 // len(lines))
    n = len(batch.splitlines())
    got = {}

    def post():
        try:
            got["answer"] = s.request("POST", "/v1/rulesets/institution/evaluate?asof=2024-06-01",
                                      batch, {"Content-Type": "application/x-ndjson"},
                                      timeout=120)
        except Exception as e:  # noqa: BLE001 - reported below
            got["answer"] = (None, None, repr(e))

    t = threading.Thread(target=post)
    t.start()
    deadline = time.time() + 30
    # In flight: the batch, and the metrics request asking.
    while "carerules_requests_in_flight 2" not in s.request("GET", "/metrics")[2]:
        assert time.time() < deadline and t.is_alive(), "the batch was never in flight"
        time.sleep(0.01)
    s.proc.send_signal(signal.SIGTERM)
    t.join()
    code, _, body = got["answer"]
    assert code == 200, body
    assert len(body.splitlines()) == n  # finished, not cut
    assert s.proc.wait(timeout=30) == 0
    assert "draining" in s.proc.stderr.read()
    with pytest.raises(OSError):  # nothing listens any more
        socket.create_connection(("127.0.0.1", s.port), timeout=2)


def test_sigterm_and_sighup_while_clients_keep_connecting_exit_0(tmp_path):
    # Connections arriving while the signals are handled: under ThreadSanitizer (`make tsan`)
    # this caught the acceptor being closed by the SIGTERM handler on one thread while the
    # accept handler ran on the other.
    (tmp_path / "tiny.rules").write_text(TINY.format(version="1", beds=100), encoding="utf-8")
    for pause in (0.3, 0.45, 0.6):
        s = Server(tmp_path, "--threads", "2")
        stop = threading.Event()
        answered = []

        def hammer():
            while not stop.is_set():
                try:
                    c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
                    c.close()
                except OSError:
                    pass

        def ask():
            while not stop.is_set():
                try:
                    answered.append(s.request("GET", "/healthz", timeout=5)[0])
                except OSError:
                    pass

        threads = [threading.Thread(target=hammer) for _ in range(2)]
        threads.append(threading.Thread(target=ask))
        for t in threads:
            t.start()
        try:
            time.sleep(pause / 2)
            s.proc.send_signal(signal.SIGHUP)  # a reload while accepting
            time.sleep(pause / 2)
            s.proc.send_signal(signal.SIGTERM)
            rc = s.proc.wait(timeout=60)
        finally:
            stop.set()
            for t in threads:
                t.join()
        err = s.proc.stderr.read()
        assert rc == 0, err
        assert "draining" in err and "stopped" in err
        assert answered and set(answered) <= {200, 503}
        with pytest.raises(OSError):  # nothing listens any more
            socket.create_connection(("127.0.0.1", s.port), timeout=2)


def test_slow_clients_are_cut_off(tmp_path):
    (tmp_path / "tiny.rules").write_text(TINY.format(version="1", beds=100), encoding="utf-8")
    s = Server(tmp_path, "--header-timeout", "1", "--body-timeout", "1")
    try:
        # One byte every 0.2 s of a request head: closed after about a second.
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        start = time.time()
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"y" * 100
        closed = False
        for byte in head:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.2)
            sock.setblocking(False)
            try:
                if sock.recv(1) == b"":
                    closed = True
                    break
            except BlockingIOError:
                pass
            except OSError:
                closed = True
                break
            finally:
                sock.setblocking(True)
        assert closed and time.time() - start < 5
        sock.close()
        # A body that stops halfway: the connection is closed after the body timeout.
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        start = time.time()
        sock.sendall(b"POST /v1/rulesets/tiny/evaluate HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\"")
        assert sock.recv(4096) == b"" and time.time() - start < 5
        sock.close()
        assert s.request("GET", "/healthz")[0] == 200
    finally:
        assert s.stop() == 0


def test_a_thousand_connections_opened_and_dropped(served):
    s, _ = served
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    socks = []
    for i in range(1000):
        socks.append(socket.create_connection(("127.0.0.1", s.port), timeout=10))
        if i % 3 == 0:  # some send half a request first
            socks[-1].sendall(b"POST /v1/rulesets/tiny/evaluate HTTP/1.1\r\nContent-Le")
    code, _, metrics = s.request("GET", "/metrics")
    assert code == 200
    assert int(re.search(r"carerules_connections (\d+)", metrics).group(1)) >= 900
    for sock in socks:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()  # a reset, as a dropped client does
    deadline = time.time() + 20
    while True:
        metrics = s.request("GET", "/metrics")[2]
        if int(re.search(r"carerules_connections (\d+)", metrics).group(1)) <= 1:
            break
        assert time.time() < deadline, "connections were not released"
        time.sleep(0.05)
    code, _, text = s.request("POST", "/v1/rulesets/tiny/evaluate", '{"id": "a", "beds": 150}',
                              {"Content-Type": "application/json"})
    assert code == 200 and json.loads(text)["hazards"][0]["status"] == "present"
    assert s.proc.poll() is None


def test_over_the_connection_cap_is_503_and_metrics_count_routes(tmp_path):
    (tmp_path / "tiny.rules").write_text(TINY.format(version="1", beds=100), encoding="utf-8")
    s = Server(tmp_path, "--max-connections", "3")
    try:
        held = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(3)]
        time.sleep(0.2)
        extra = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        assert extra.recv(4096).decode().startswith("HTTP/1.1 503")
        extra.close()
        for h in held:
            h.close()
        # The service sees the closed connections when it reads them: wait until it has (a
        # loaded machine may take longer than a moment), then three requests are answered.
        deadline = time.time() + 10
        while True:
            try:  # still over the cap: a canned 503, or the connection reset
                code, _, metrics = s.request("GET", "/metrics")
            except (ConnectionError, http.client.HTTPException):
                code = 0
            if code == 200 and int(re.search(r"carerules_connections (\d+)", metrics).group(1)) <= 1:
                break
            assert time.time() < deadline, "connections were not released"
            time.sleep(0.05)
        for _ in range(3):
            code = s.request("POST", "/v1/rulesets/tiny/evaluate", '{"id": "a", "beds": "x"}',
                             {"Content-Type": "application/json"})[0]
            assert code == 200
        # A request is counted once its answer is written: the count may trail the client.
        want = 'carerules_requests_total{route="/v1/rulesets/{name}/evaluate",code="200"} 3'
        deadline = time.time() + 10
        while want not in (metrics := s.request("GET", "/metrics")[2]):
            assert time.time() < deadline, metrics
            time.sleep(0.05)
        assert "carerules_records_evaluated_total 3" in metrics
        assert "carerules_record_errors_total 3" in metrics
        assert re.search(r'carerules_ruleset_info\{name="tiny",version="1",digest="sha256:', metrics)
        assert 'carerules_request_duration_seconds_bucket{le="+Inf"}' in metrics
    finally:
        assert s.stop() == 0


def test_a_directory_that_does_not_compile_is_not_served(tmp_path):
    (tmp_path / "broken.rules").write_text("ruleset broken {\n  hazard X {\n}\n", encoding="utf-8")
    p = subprocess.run([BIN, "serve", "--rulesets", str(tmp_path), "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "broken.rules" in p.stderr
    p = subprocess.run([BIN, "serve", "--rulesets", str(tmp_path), "--listen", "10.0.0.300:1"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "--listen" in p.stderr


def test_pipelined_and_chunked_requests_on_one_connection(served):
    s, _ = served
    def req(body):
        return (b"POST /v1/rulesets/tiny/evaluate?asof=2024-06-01 HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
                b"\r\n\r\n" + body)
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=30)
    # Three requests in one send: each body ends where its length says, the next follows.
    sock.sendall(req(b'{"id": "p1", "beds": 150}') + req(b'{"id": "p2", "beds": 5}') +
                 b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while data.count(b"HTTP/1.1 200") < 3 or not data.endswith(b'{"status":"ok"}\n'):
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    subjects = re.findall(rb'"subject":"(p\d)"', data)
    assert subjects == [b"p1", b"p2"]
    sock.close()
    # A chunked body (no length announced) is read through to its end.
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    c.request("POST", "/v1/rulesets/tiny/evaluate?asof=2024-06-01",
              body=iter([b'{"id": "ch', b'unked", "beds"', b': 150}']),
              headers={"Content-Type": "application/json"}, encode_chunked=True)
    r = c.getresponse()
    rep = json.loads(r.read())
    assert r.status == 200 and rep["subject"] == "chunked"
    assert rep["hazards"][0]["status"] == "present"
    c.close()


def raw_exchange(port, data, wait=2.0):
    """Sends raw bytes and returns what comes back until the server closes or goes quiet."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=wait)
    sock.sendall(data)
    got = b""
    try:
        while chunk := sock.recv(65536):
            got += chunk
    except socket.timeout:
        pass
    sock.close()
    return got


def test_a_bad_chunked_body_gets_400_and_head_gets_the_head_only(served):
    s, d = served
    bad = raw_exchange(s.port, b"POST /v1/rulesets/tiny/evaluate HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"zz\r\n{}\r\n0\r\n\r\n")
    assert bad.startswith(b"HTTP/1.1 400 ") and b'{"error":"bad request body' in bad
    # HEAD where GET works: the GET's head (its Content-Length), no body, and the connection
    # goes on with the next request.
    both = raw_exchange(s.port, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    head, rest = both.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 ") and b"Content-Length: 16" in head
    assert rest.startswith(b"HTTP/1.1 200 ") and rest.endswith(b'\r\n\r\n{"status":"ok"}\n')
    missing = raw_exchange(s.port, b"HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n")
    assert missing.startswith(b"HTTP/1.1 404 ") and missing.endswith(b"\r\n\r\n")
    post_only = raw_exchange(s.port, b"HEAD /v1/reload HTTP/1.1\r\nHost: x\r\n\r\n")
    assert post_only.startswith(b"HTTP/1.1 405 ") and post_only.endswith(b"\r\n\r\n")
    # A *.rules entry that cannot be read (a dangling link) refuses the reload, not skipped.
    (d / "gone.rules").symlink_to(d / "nowhere.rules")
    code, _, body = s.request("POST", "/v1/reload")
    assert code == 422 and "gone.rules (not a readable file)" in body


def test_a_body_nested_a_million_deep_or_with_bad_utf8_gets_its_report_as_eval_would(served):
    # A body of one record is checked for being one JSON object when its report has errors;
    # that check recursed once per level without a bound, and a million levels crashed the
    # service (stack overflow).
    s, _ = served
    deep = b'{"id": "d", "x": ' + b"[" * 1_000_000
    code, _, body = s.request("POST", "/v1/rulesets/tiny/evaluate?asof=2024-06-01", deep,
                              {"Content-Type": "application/json"})
    assert code == 200 and "limit json_depth" in body
    code, _, body = s.request("POST", "/v1/rulesets/tiny/evaluate?asof=2024-06-01",
                              b'{"id": "\xff\xfe", "beds": 5}',
                              {"Content-Type": "application/json"})
    assert code == 200 and json.loads(body)["errors"][0]["path"] == "/id"
    # A lone surrogate escape and an exponent past every range: faults of the record too.
    for fault in (b'{"id": "s", "beds": "\\ud800"}', b'{"id": "e", "beds": 1e99999999999}'):
        code, _, body = s.request("POST", "/v1/rulesets/tiny/evaluate?asof=2024-06-01", fault,
                                  {"Content-Type": "application/json"})
        assert code == 200 and json.loads(body)["errors"][0]["path"] == "/beds", (fault, body)
    assert s.request("GET", "/healthz")[0] == 200  # still serving
    # application/ndjson (the newer name) is a batch, as application/x-ndjson is.
    code, _, body = s.request("POST", "/v1/rulesets/tiny/evaluate?asof=2024-06-01",
                              '{"id": "n1", "beds": 5}\n{"id": "n2", "beds": 500}\n',
                              {"Content-Type": "application/ndjson"})
    assert code == 200 and [json.loads(l)["subject"] for l in body.splitlines()] == ["n1", "n2"]
    # Text that is not one object is still a bad body.
    for bad in (b'{"id": "a"} {"id": "b"}', b'[1, 2]', b'{"id": '):
        assert s.request("POST", "/v1/rulesets/tiny/evaluate", bad,
                         {"Content-Type": "application/json"})[0] == 400, bad


def test_bytes_that_are_not_utf8_in_a_path_still_get_a_json_answer(served):
    s, _ = served
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=30)
    sock.sendall(b"GET /m\xff\xfeetrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404")
    assert json.loads(body.decode("utf-8"))["error"].startswith("no route /m\ufffd\ufffdetrics")
    # A query value that is not UTF-8 reaches the report as U+FFFD, never as raw bytes.
    code, _, text = s.request("POST", "/v1/rulesets/tiny/evaluate?each=h%FFomes",
                              '{"id": "a", "beds": 1}', {"Content-Type": "application/json"})
    [report] = json.loads(text)
    assert code == 200 and report["errors"][0]["path"] == "/h\ufffdomes"
