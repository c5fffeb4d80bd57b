"""``report.html``: one self-contained page (no CDN, no network) to read a labelled batch.

It shows the label profile of the whole batch, a table of articles, and each article's full
text with its argument units highlighted by label (hover a unit for its scores). Boilerplate the
segmenter dropped stays visible in grey, so a reader can see what was left out.
"""

from __future__ import annotations

import html
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .schema import LABELS, PredictedUnit, atomic_write

COLORS = {"pro-enforcement": "#e4572e", "civil-liberties": "#2e86ab", "fiscal": "#f3a712", "federalism": "#57a773"}
LIGHT = {"pro-enforcement": "#f9d3c8", "civil-liberties": "#c6e2ef", "fiscal": "#fbe4b0", "federalism": "#cfe8d2"}
NONE_COLOR = "#b8b8b8"

CSS = """
body{font:15px/1.55 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f2933;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#cbd2d9}main{max-width:1100px;margin:0 auto;padding:16px 32px}
.legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:12px;height:12px;
border-radius:2px;margin-right:5px;vertical-align:-1px}
table{border-collapse:collapse;width:100%;font-size:13px;background:#fff}th,td{padding:4px 8px;
border-bottom:1px solid #e4e7eb;text-align:right}th:first-child,td:first-child{text-align:left}
th{background:#f0f4f8;position:sticky;top:0}
article{background:#fff;border:1px solid #e4e7eb;border-radius:6px;margin:22px 0;padding:14px 22px}
article h2{font-size:17px;margin:4px 0 8px}.meta{color:#616e7c;font-size:13px}
.text{white-space:pre-wrap;margin-top:10px}.drop{color:#9aa5b1}
.u{border-radius:3px;padding:1px 0;cursor:help}.u.none{border-bottom:2px dotted #b8b8b8}
.u:hover{outline:2px solid #1f2933}
.profile{display:flex;gap:26px;align-items:flex-start;flex-wrap:wrap}
"""


def _bars(shares: dict[str, float], width: int = 260) -> str:
    """A small horizontal bar chart (inline SVG) of the share of units carrying each label."""
    rows = [*LABELS, "none"]
    h = 18 * len(rows) + 4
    parts = [f'<svg width="{width + 150}" height="{h}" role="img" aria-label="label profile">']
    for i, label in enumerate(rows):
        v = shares.get(label, 0.0)
        y = 4 + 18 * i
        color = COLORS.get(label, NONE_COLOR)
        parts.append(f'<text x="0" y="{y + 11}" font-size="12">{label}</text>')
        parts.append(f'<rect x="110" y="{y}" width="{width}" height="13" fill="#eef1f4"/>')
        parts.append(f'<rect x="110" y="{y}" width="{v * width:.1f}" height="13" fill="{color}"/>')
        parts.append(f'<text x="{116 + width}" y="{y + 11}" font-size="12">{v:.0%}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _style(labels: list[str]) -> str:
    if not labels:
        return ""
    if len(labels) == 1:
        return f' style="background:{LIGHT[labels[0]]}"'
    step = 100 / len(labels)
    stops = ",".join(f"{LIGHT[lab]} {i * step:.0f}% {(i + 1) * step:.0f}%" for i, lab in enumerate(labels))
    return f' style="background:linear-gradient(180deg,{stops})"'


def _article_html(art: dict, units: list[PredictedUnit]) -> str:
    text = art.get("text", "")
    pieces, pos = [], 0
    for u in units:
        if u.start > pos:
            pieces.append(f'<span class="drop">{html.escape(text[pos:u.start])}</span>')
        tip = " | ".join(f"{lab} {u.scores[lab]:.2f}" for lab in LABELS)
        tip = f"{', '.join(u.labels) or 'no label'} — {tip}"
        cls = "u" if u.labels else "u none"
        pieces.append(f'<span class="{cls}" title="{html.escape(tip)}"{_style(u.labels)}>'
                      f"{html.escape(text[u.start:u.end])}</span>")
        pos = u.end
    if pos < len(text):
        pieces.append(f'<span class="drop">{html.escape(text[pos:])}</span>')
    shares = {lab: art.get(f"share_{lab}", 0.0) for lab in LABELS} | {"none": art.get("share_none", 0.0)}
    balance = art.get("stance_balance", "")
    stance = art.get("stance", "")
    return (
        f'<article id="{html.escape(art["doc_id"])}"><h2>{html.escape(art["doc_id"])}</h2>'
        f'<div class="meta">{html.escape(art.get("source", ""))} · {art["n_units"]} units · dominant: '
        f'{html.escape(art["dominant_label"])} · stance: <b>{html.escape(stance or "n/a")}</b> '
        f'(balance {balance if balance != "" else "n/a"})</div>'
        f'<div class="profile">{_bars(shares)}</div><div class="text">{"".join(pieces)}</div></article>'
    )


def write_report(
    path: Path, articles: Iterable[tuple[dict, list[PredictedUnit]]], *, n_errors: int = 0, model_name: str = ""
) -> None:
    """Stream the articles into a temporary body, then write the page with the batch summary first."""
    totals = {lab: 0 for lab in LABELS} | {"none": 0}
    n_units = n_articles = 0
    rows = []
    with tempfile.TemporaryFile("w+", encoding="utf-8") as body:
        for art, units in articles:
            body.write(_article_html(art, units))
            n_articles += 1
            n_units += len(units)
            for u in units:
                for lab in u.labels:
                    totals[lab] += 1
                totals["none"] += not u.labels
            d = html.escape(art["doc_id"])
            rows.append(
                f'<tr><td><a href="#{d}">{d}</a></td><td>{art["n_units"]}</td>'
                + "".join(f'<td>{art.get(f"share_{lab}", 0):.0%}</td>' for lab in LABELS)
                + f'<td>{html.escape(art["dominant_label"])}</td><td>{html.escape(art.get("stance", ""))}</td>'
                + f'<td>{art.get("stance_balance", "")}</td></tr>'
            )
        shares = {k: v / n_units if n_units else 0.0 for k, v in totals.items()}
        legend = "".join(f'<span><i class="sw" style="background:{LIGHT[lab]};border:1px solid {COLORS[lab]}">'
                         f"</i>{lab}</span>" for lab in LABELS)
        head = (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>Argument units: {n_articles} articles</title><style>{CSS}</style></head><body>"
            f"<header><h1>Argument units in {n_articles} articles</h1><p>{n_units} units labelled"
            f"{' by ' + html.escape(model_name) if model_name else ''}"
            f"{f' · {n_errors} inputs failed (see errors.jsonl)' if n_errors else ''}</p></header><main>"
            f'<p class="legend">{legend}<span><i class="sw" style="border:2px dotted {NONE_COLOR}"></i>no label'
            "</span><span class='drop'>grey: not a unit (boilerplate)</span></p>"
            f"<h2>Label profile of the batch</h2><div class='profile'>{_bars(shares)}</div>"
            "<h2>Articles</h2><table><thead><tr><th>article</th><th>units</th>"
            + "".join(f"<th>{lab}</th>" for lab in LABELS)
            + "<th>dominant</th><th title='pro, against or mixed: see docs/RESULTS.md'>stance</th>"
            + "<th title='(pro-enforcement - civil-liberties) / (both), over units'>stance balance</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>"
        )
        body.seek(0)
        with atomic_write(path) as f:
            f.write(head)
            while chunk := body.read(1 << 16):
                f.write(chunk)
            f.write("</main></body></html>\n")
