"""Compact HTML views for Jupyter: a report's grades as badges and its hazards that are not
absent; a ruleset's identity, files and declarations.

Reports stay plain dicts (``rs.evaluate(d) == json.loads(cli_json)``, types included), so
they cannot carry a ``_repr_html_`` of their own: importing carerules inside IPython
registers :func:`report_html` as the HTML formatter of dicts that are carerules reports
(any other dict is left to IPython's own display). :func:`report_html` also works alone.
Everything taken from a report or a ruleset is escaped.
"""

from __future__ import annotations

import html
import sys
from typing import Any, Mapping

# The four colours of the risk scale; any other grade value gets a neutral badge.
_COLOURS = {
    "blue": ("#1c64c8", "#fff"),
    "yellow": ("#f2c300", "#222"),
    "orange": ("#ef7d00", "#fff"),
    "red": ("#d2222d", "#fff"),
}
_NEUTRAL = ("#e8e8e8", "#222")
_STATUS = {"present": "#d2222d", "undetermined": "#8a6d00", "error": "#7a1fa2"}

# Rows and missing paths shown before "… N more": the view stays a glance, not a page.
_MAX_ROWS = 15
_MAX_MISSING = 5

_STYLE = ("font-family:system-ui,sans-serif;font-size:13px;line-height:1.4;"
          "border:1px solid #ddd;border-radius:6px;padding:8px 10px;max-width:60em")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _badge(label: str, value: Any, colour_of: Any = None) -> str:
    """A pill: `label: value` (or the value alone when label is empty), coloured by the
    value when it is one of the four colours."""
    bg, fg = _COLOURS.get(str(value if colour_of is None else colour_of), _NEUTRAL)
    text = f"{_e(label)}: <b>{_e(value)}</b>" if label else f"<b>{_e(value)}</b>"
    return (f'<span style="display:inline-block;margin:0 6px 4px 0;padding:1px 8px;'
            f'border-radius:10px;background:{bg};color:{fg}">{text}</span>')


def is_report(obj: Any) -> bool:
    """Whether `obj` looks like a carerules report (the dict evaluate returns)."""
    return (isinstance(obj, Mapping) and isinstance(obj.get("engine"), str)
            and obj["engine"].startswith("carerules ") and isinstance(obj.get("hazards"), list)
            and isinstance(obj.get("ruleset"), Mapping))


def report_html(report: Mapping) -> str:
    """A report as a small HTML block: subject, ruleset and date; each grade as a badge and
    each score's total; the hazards that are present, undetermined or in error (with what
    was missing); the record's errors."""
    rs = report.get("ruleset") or {}
    head = (f'<div><b>{_e(report.get("subject") or "(no subject)")}</b> · '
            f'{_e(rs.get("name"))} {_e(rs.get("version"))} · asof {_e(report.get("asof"))} · '
            f'<span style="color:#777" title="{_e(rs.get("digest"))}">'
            f'{_e(str(rs.get("digest", ""))[:15])}…</span></div>')
    badges = "".join(_badge(name, g.get("value", "")) for name, g in
                     (report.get("grades") or {}).items())
    for name, s in (report.get("scores") or {}).items():
        mark = " (provisional)" if s.get("provisional") else ""
        badges += _badge(name, f'{s.get("total")}{mark}', "")
    hazards = report.get("hazards") or []
    shown = [h for h in hazards if h.get("status") != "absent"]
    rows = []
    for h in shown[:_MAX_ROWS]:
        colour = _STATUS.get(h.get("status"), "#222")
        lacking = list(h.get("missing") or [])
        missing = ", ".join(lacking[:_MAX_MISSING])
        if len(lacking) > _MAX_MISSING:
            missing += f", … {len(lacking) - _MAX_MISSING} more"
        rows.append(
            f'<tr><td style="padding:1px 6px"><code>{_e(h.get("id"))}</code></td>'
            f'<td style="padding:1px 6px;color:{colour}">{_e(h.get("status"))}</td>'
            f'<td style="padding:1px 6px">{_e(h.get("severity"))}</td>'
            f'<td style="padding:1px 6px">{_e(h.get("title"))}'
            + (f'<br><small style="color:#777">missing: {_e(missing)}</small>' if missing else "")
            + "</td></tr>")
    if len(shown) > _MAX_ROWS:
        rows.append(f'<tr><td colspan="4" style="padding:1px 6px;color:#777">… '
                    f'{len(shown) - _MAX_ROWS} more</td></tr>')
    absent = len(hazards) - len(shown)
    table = (f'<table style="border-collapse:collapse;margin-top:4px">{"".join(rows)}</table>'
             if rows else "")
    counts = {st: sum(1 for h in hazards if h.get("status") == st)
              for st in ("present", "undetermined", "error")}
    counts["absent"] = absent
    summary = (f'<div style="color:#555">{len(hazards)} hazards: ' +
               ", ".join(f"{n} {st}" for st, n in counts.items() if n) + "</div>")
    errors = report.get("errors") or []
    err = ""
    if errors:
        items = "".join(
            f'<li>{_e(x.get("rule") or "")} {_e(x.get("path") or "")} {_e(x.get("message"))}</li>'
            for x in errors[:10])
        more = f"<li>… {len(errors) - 10} more</li>" if len(errors) > 10 else ""
        err = (f'<div style="color:#7a1fa2">{len(errors)} error(s)<ul style="margin:0">'
               f'{items}{more}</ul></div>')
    return (f'<div class="carerules-report" style="{_STYLE}">{head}<div style="margin-top:4px">'
            f'{badges}</div>{summary}{table}{err}</div>')


def ruleset_html(rs: Any) -> str:
    """A ruleset as a small HTML block: name, title, version, digest, its files and what it
    declares (hazards, scores, grades with their scales)."""
    core = rs._core
    files = "".join(
        f'<tr><td style="padding:1px 6px"><code>{_e(f["file"])}</code></td>'
        f'<td style="padding:1px 6px">{_e(f["name"])}</td>'
        f'<td style="padding:1px 6px">{_e(f["version"])}</td>'
        f'<td style="padding:1px 6px;color:#777" title="{_e(f["digest"])}">'
        f'{_e(f["digest"][:15])}…</td></tr>' for f in core.files)
    grades = "".join(
        f'<div>{_e(g["name"])}: ' + " &lt; ".join(_badge("", v) for v in g["values"]) + "</div>"
        for g in core.grades)
    hazards = core.hazards
    major = sum(1 for h in hazards if h["severity"] == "major")
    scores = ", ".join(_e(s["name"]) for s in core.scores)
    return (f'<div class="carerules-ruleset" style="{_STYLE}">'
            f'<div><b>{_e(rs.name)}</b> {_e(rs.version)} · {_e(rs.title)}</div>'
            f'<div style="color:#777">{_e(rs.digest)}</div>'
            f'<div>{len(core.inputs)} inputs · {len(hazards)} hazards ({major} major) · '
            f'scores: {scores or "none"}</div>{grades}'
            f'<table style="border-collapse:collapse;margin-top:4px">{files}</table></div>')


def register_ipython() -> None:
    """Shows carerules reports as HTML in IPython and Jupyter (when IPython is running)."""
    ipython_mod = sys.modules.get("IPython")
    if ipython_mod is None:
        return
    try:
        ip = ipython_mod.get_ipython()
        if ip is None:
            return
        formatter = ip.display_formatter.formatters["text/html"]
        previous = formatter.lookup_by_type(dict) if dict in formatter.type_printers else None
    except Exception:  # an IPython without these parts: plain display
        return

    def show(obj: Any) -> Any:
        if is_report(obj):
            return report_html(obj)
        return previous(obj) if previous is not None else None

    formatter.for_type(dict, show)
