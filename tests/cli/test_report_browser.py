"""The HTML reports in a real browser: headless Chromium renders an institution's page and
index.html to PNG and to PDF. Checks: no console errors, the PDF is 1-3 A4 pages, and the
grade badges have the right colours (read back from the PNG's pixels).

Skipped when Chromium is not installed (scripts/install-deps.sh installs it).
"""

import os
import pathlib
import re
import shutil
import struct
import subprocess
import zlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("CARERULES_BIN", str(ROOT / "build" / "bin" / "carerules"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or \
    shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

# The badge colours of the style sheet (lib/html/style.cpp).
RED, ORANGE, YELLOW, BLUE = (0xC8, 0x1E, 0x1E), (0xF0, 0x7C, 0x00), (0xF5, 0xC4, 0x00), \
    (0x1F, 0x5F, 0xBF)


def chromium(tmp, *args):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", "--enable-logging=stderr", "--v=0",
           f"--user-data-dir={tmp / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def console_errors(stderr):
    # Chromium logs page console messages as "CONSOLE(line)" lines; any uncaught error or
    # failed load of the page itself shows up there or as "Failed to load".
    return [l for l in stderr.splitlines()
            if "CONSOLE" in l or "Uncaught" in l or "Failed to load resource" in l]


def read_png(path):
    """Decodes an 8-bit RGB or RGBA, non-interlaced PNG: (width, height, rows of pixels)."""
    data = pathlib.Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and colour in (2, 6) and interlace == 0
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def count_colour(png, rgb, tolerance=3):
    width, height, channels, rows = png
    n = 0
    for row in rows:
        for x in range(0, width * channels, channels):
            if all(abs(row[x + k] - rgb[k]) <= tolerance for k in range(3)):
                n += 1
    return n


def pdf_pages(pdf):
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    return pages, float(size.group(1)), float(size.group(2))


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    out = tmp / "out"
    r = subprocess.run([BIN, "report", "-r", "rulesets/institution.rules",
                        "examples/data/institutions.jsonl", "--out", str(out), "--asof",
                        "2024-06-01", "--by", "region.city", "--name", "name"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert (out / "index.html").is_file(), r.stderr
    return tmp, out


def page_with(out, cls):
    for p in sorted(out.glob("*.html")):
        if p.name != "index.html" and f'class="badge {cls}" data-grade="risk"' in p.read_text(
                encoding="utf-8"):
            return p
    raise AssertionError(f"no page with a {cls} risk badge")


@pytest.mark.parametrize("cls,rgb", [("b-red", RED), ("b-orange", ORANGE), ("b-yellow", YELLOW),
                                     ("b-blue", BLUE)])
def test_badge_colour_pixels(pages, cls, rgb):
    tmp, out = pages
    page = page_with(out, cls)
    png = tmp / f"{cls}.png"
    r = chromium(tmp, f"--screenshot={png}", "--window-size=1000,900", page.as_uri())
    assert png.is_file(), r.stderr
    assert console_errors(r.stderr) == []
    decoded = read_png(png)
    assert decoded[0] == 1000
    # The badge is about 150 x 35 px: well over 1000 pixels of its colour; the other colours
    # appear nowhere on the page.
    assert count_colour(decoded, rgb) > 1000
    for other in (RED, ORANGE, YELLOW, BLUE):
        if other != rgb:
            assert count_colour(decoded, other) < 50, (cls, other)


def test_institution_page_prints_on_one_to_three_a4_pages(pages):
    tmp, out = pages
    page = page_with(out, "b-red")
    pdf = tmp / "page.pdf"
    r = chromium(tmp, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri())
    assert pdf.is_file(), r.stderr
    assert console_errors(r.stderr) == []
    n, w, h = pdf_pages(pdf)
    assert 1 <= n <= 3
    assert abs(w - 595.28) < 2 and abs(h - 841.89) < 2  # A4 portrait


def test_index_renders_without_errors(pages):
    tmp, out = pages
    png = tmp / "index.png"
    r = chromium(tmp, f"--screenshot={png}", "--window-size=1000,1400",
                 (out / "index.html").as_uri())
    assert png.is_file() and console_errors(r.stderr) == []
    decoded = read_png(png)
    assert count_colour(decoded, RED) > 100  # the red bars of the colour chart
    dom = chromium(tmp, "--dump-dom", (out / "index.html").as_uri())
    assert dom.stdout.count("<svg") >= 4 and "region.city" in dom.stdout
    pdf = tmp / "index.pdf"
    r = chromium(tmp, f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
                 (out / "index.html").as_uri())
    assert pdf.is_file(), r.stderr
    n, w, h = pdf_pages(pdf)
    assert n >= 1 and abs(w - 595.28) < 2


def test_the_console_check_sees_a_script_error(tmp_path):
    # The "no console errors" checks above mean something only if an error would show.
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>nonexistent()</script>x</body></html>")
    r = chromium(tmp_path, f"--screenshot={tmp_path / 'bad.png'}", "--window-size=200,200",
                 bad.as_uri())
    assert any("nonexistent" in l for l in console_errors(r.stderr))
