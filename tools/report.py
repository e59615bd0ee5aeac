"""Render every package's ``result.json`` into one report: ``index.html`` and ``README.md``.

    python tools/report.py REPORTS_DIR

Reads ``REPORTS_DIR/<package>/result.json`` (schema 1 of ARCHITECTURE.md) and, when present,
``REPORTS_DIR/runs.json`` (which packages ran, how long, whether they wrote a result). Knows nothing
about any package: tables, claims and figures are rendered as the result describes them. Figures
are embedded in the HTML, so the page is one self-contained file. Standard library only.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import os
import sys
import tempfile
from pathlib import Path

CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;
background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c6ccd8}main{max-width:1100px;margin:0 auto;padding:16px 32px 48px}
section{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:16px 22px;margin:18px 0}
h2{margin:0 0 6px;font-size:19px}h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13.5px}
th,td{border:1px solid #dde1e8;padding:4px 9px;text-align:left;vertical-align:top}
th{background:#eef1f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.holds{color:#0b6b2b;font-weight:600}.fails{color:#b3261e;font-weight:600}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12.5px;font-weight:600}
.ok{background:#dff3e4;color:#0b6b2b}.bad{background:#fbe3e1;color:#b3261e}
.scroll{overflow-x:auto}.meta{color:#5b6475;font-size:12.5px}figure{margin:10px 0}
figure img{max-width:100%;
border:1px solid #dde1e8}figcaption{color:#5b6475;font-size:13px}
"""


def _load(reports: Path) -> tuple[list[dict], dict]:
    runs_file = reports / "runs.json"
    runs = json.loads(runs_file.read_text()) if runs_file.is_file() else {"runs": []}
    by_name = {r["package"]: r for r in runs.get("runs", [])}
    names = sorted({p.parent.name for p in reports.glob("*/result.json")} | set(by_name))
    entries = []
    for name in names:
        path = reports / name / "result.json"
        result = json.loads(path.read_text()) if path.is_file() else None
        entries.append({"name": name, "result": result, "run": by_name.get(name)})
    return entries, runs


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3e}"
        return f"{value:.4g}"
    if value is None:
        return "—"
    return str(value)


def _claims_counts(result: dict | None) -> tuple[int, int]:
    claims = (result or {}).get("claims", [])
    return sum(1 for c in claims if c.get("holds") is True), len(claims)


def _html_table(columns: list, rows: list) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for value in row:
            cls = ' class="num"' if isinstance(value, int | float) else ""
            cells.append(f"<td{cls}>{html.escape(_fmt(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<div class=scroll><table><tr>{head}</tr>{''.join(body)}</table></div>"


def _embed(path: Path) -> str | None:
    if not path.is_file():
        return None
    kind = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg"}.get(
        path.suffix.lower(), "application/octet-stream"
    )
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"


def render_html(reports: Path) -> str:
    entries, runs = _load(reports)
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = runs.get("mode", "")
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>sciml monorepo: reproduction report</title><style>{CSS}</style></head><body>",
        "<header><h1>Reproduction report</h1>",
        f"<p>Every method package's <code>reproduce {html.escape(mode)}</code>, {now}</p></header>",
        "<main>",
    ]
    if not entries:
        parts.append(
            "<section><h2>No method package yet</h2><p>The monorepo has no method package "
            "with a <code>reproduce</code> command yet, so there is nothing to report.</p>"
            "</section>"
        )
    else:
        rows = []
        for e in entries:
            held, total = _claims_counts(e["result"])
            ok = e["result"] is not None
            status = (
                "<span class='badge ok'>ran</span>"
                if ok
                else "<span class='badge bad'>failed</span>"
            )
            version = html.escape(str((e["result"] or {}).get("version", "—")))
            wall = (e["run"] or {}).get("wall_s", (e["result"] or {}).get("meta", {}).get("wall_s"))
            claims = f"{held} / {total} hold" if total else "—"
            rows.append(
                f"<tr><td><a href='#{e['name']}'>{html.escape(e['name'])}</a></td>"
                f"<td>{version}</td>"
                f"<td>{status}</td><td>{claims}</td><td class=num>{_fmt(wall)}</td></tr>"
            )
        parts.append(
            "<section><h2>Summary</h2><table><tr><th>package</th><th>version</th><th>run</th>"
            "<th>claims</th><th>wall time (s)</th></tr>" + "".join(rows) + "</table></section>"
        )
    for e in entries:
        parts.append(_html_package(reports, e))
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _html_package(reports: Path, entry: dict) -> str:
    name, result = entry["name"], entry["result"]
    out = [f"<section id='{html.escape(name)}'><h2>{html.escape(name)}</h2>"]
    if result is None:
        log = (entry["run"] or {}).get("log")
        tail = ""
        if log and (reports / log).is_file():
            tail = "\n".join((reports / log).read_text(errors="replace").splitlines()[-25:])
        out.append("<p class=fails>reproduce did not write a result.</p>")
        if tail:
            out.append(f"<pre>{html.escape(tail)}</pre>")
        return "".join(out) + "</section>"
    meta = result.get("meta", {})
    facts = ", ".join(
        f"{k} {html.escape(_fmt(meta.get(k)))}"
        for k in ("seed", "device", "threads", "torch", "python", "wall_s", "quick")
        if k in meta
    )
    out.append(f"<p class=meta>version {html.escape(str(result.get('version')))} · {facts}</p>")
    claims = result.get("claims", [])
    if claims:
        out.append(
            "<h3>Claims</h3><table><tr><th>claim</th><th>expected</th><th>observed</th><th>holds</th></tr>"
        )
        for c in claims:
            cls, mark = (
                ("holds", "✔ holds") if c.get("holds") is True else ("fails", "✘ does not hold")
            )
            out.append(
                f"<tr><td>{html.escape(str(c.get('name')))}</td><td>{html.escape(_fmt(c.get('expected')))}</td>"
                f"<td>{html.escape(_fmt(c.get('observed')))}</td><td class={cls}>{mark}</td></tr>"
            )
        out.append("</table>")
    for table in result.get("tables", []):
        out.append(f"<h3>{html.escape(str(table.get('title', table.get('id'))))}</h3>")
        out.append(_html_table(table.get("columns", []), table.get("rows", [])))
    for fig in result.get("figures", []):
        src = _embed(reports / name / fig.get("file", ""))
        caption = html.escape(str(fig.get("caption", "")))
        if src is None:
            out.append(f"<p class=fails>figure {html.escape(str(fig.get('file')))} is missing</p>")
        else:
            out.append(
                f"<figure><img src='{src}' alt='{caption}'>"
                f"<figcaption>{caption}</figcaption></figure>"
            )
    return "".join(out) + "</section>"


def _md_escape(value: object) -> str:
    return _fmt(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(reports: Path) -> str:
    entries, runs = _load(reports)
    lines = [
        "# Reproduction report",
        "",
        f"Every method package's `reproduce {runs.get('mode', '')}`.",
        "",
    ]
    if not entries:
        lines += ["No method package with a `reproduce` command exists yet: nothing to report.", ""]
        return "\n".join(lines)
    lines += ["| package | version | run | claims |", "|---|---|---|---|"]
    for e in entries:
        held, total = _claims_counts(e["result"])
        version = (e["result"] or {}).get("version", "—")
        ran = "ran" if e["result"] is not None else "**failed**"
        lines.append(f"| {e['name']} | {version} | {ran} | {held} / {total} hold |")
    for e in entries:
        lines += ["", f"## {e['name']}", ""]
        result = e["result"]
        if result is None:
            lines.append("reproduce did not write a result.")
            continue
        if result.get("claims"):
            lines += ["| claim | expected | observed | holds |", "|---|---|---|---|"]
            for c in result["claims"]:
                mark = "yes" if c.get("holds") is True else "**no**"
                lines.append(
                    f"| {_md_escape(c.get('name'))} | {_md_escape(c.get('expected'))} | "
                    f"{_md_escape(c.get('observed'))} | {mark} |"
                )
        for table in result.get("tables", []):
            lines += ["", f"**{_md_escape(table.get('title', table.get('id')))}**", ""]
            columns = table.get("columns", [])
            lines.append("| " + " | ".join(_md_escape(c) for c in columns) + " |")
            lines.append("|" + "---|" * len(columns))
            for row in table.get("rows", []):
                lines.append("| " + " | ".join(_md_escape(v) for v in row) + " |")
        for fig in result.get("figures", []):
            lines += ["", f"![{_md_escape(fig.get('caption'))}]({e['name']}/{fig.get('file')})"]
    return "\n".join(lines) + "\n"


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str]) -> int:
    reports = Path(argv[0] if argv else "reports").resolve()
    reports.mkdir(parents=True, exist_ok=True)
    _atomic_write(reports / "index.html", render_html(reports))
    _atomic_write(reports / "README.md", render_markdown(reports))
    entries, _ = _load(reports)
    failed = [e["name"] for e in entries if e["result"] is None]
    print(f"report: {reports / 'index.html'} ({len(entries)} package(s), {len(failed)} failed)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
