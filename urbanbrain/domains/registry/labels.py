"""Printable QR label sheets (二维码标签): A4 pages of 3 × 8 labels, each a QR code of the facility's landing
page (``<public_url>/f/<code>``) with its name, kind and code, as one SVG a browser prints at true size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

import segno

PAGE_W, PAGE_H = 210.0, 297.0  # mm, A4
COLS, ROWS = 3, 8
MARGIN_X, MARGIN_Y = 8.0, 10.5
LABEL_W, LABEL_H = (PAGE_W - 2 * MARGIN_X) / COLS, (PAGE_H - 2 * MARGIN_Y) / ROWS
QR_MM = 26.0
PER_PAGE = COLS * ROWS


@dataclass(frozen=True)
class Label:
    code: str
    name: str
    kind_name: str
    owner: str


def _qr_path(text: str, x: float, y: float, size: float) -> str:
    """The QR code's dark modules as one SVG path (one rectangle per run of dark modules in a row)."""
    matrix = segno.make(text, error="m", micro=False).matrix
    n = len(matrix)
    quiet = 2  # modules of quiet zone on each side, inside ``size``
    cell = size / (n + 2 * quiet)
    parts = []
    for r, row in enumerate(matrix):
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                parts.append(
                    f"M{x + (start + quiet) * cell:.3f} {y + (r + quiet) * cell:.3f}"
                    f"h{(c - start) * cell:.3f}v{cell:.3f}h{-(c - start) * cell:.3f}z"
                )
            else:
                c += 1
    return f'<path d="{"".join(parts)}" fill="#000"/>'


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sheet(labels: Sequence[Label], base_url: str, title: str) -> str:
    """An SVG of as many A4 pages as the labels need, stacked; millimetre units so it prints at size."""
    pages = max(1, -(-len(labels) // PER_PAGE))
    height = PAGE_H * pages
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{PAGE_W}mm" height="{height}mm" '
        f'viewBox="0 0 {PAGE_W} {height}" font-family="sans-serif">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{PAGE_W}" height="{height}" fill="#fff"/>',
    ]
    for i, label in enumerate(labels):
        page, slot = divmod(i, PER_PAGE)
        row, col = divmod(slot, COLS)
        x = MARGIN_X + col * LABEL_W
        y = page * PAGE_H + MARGIN_Y + row * LABEL_H
        url = f"{base_url.rstrip('/')}/f/{label.code}"
        tx = x + QR_MM + 1.5
        out.append(
            f'<g><rect x="{x + 0.5:.2f}" y="{y + 0.5:.2f}" width="{LABEL_W - 1:.2f}" height="{LABEL_H - 1:.2f}" '
            f'rx="2" fill="none" stroke="#888" stroke-width="0.2" stroke-dasharray="1 1"/>'
            + _qr_path(url, x + 1.0, y + (LABEL_H - QR_MM) / 2, QR_MM)
            + f'<text x="{tx:.2f}" y="{y + 8:.2f}" font-size="3.2" font-weight="bold">{escape(_fit(label.kind_name, 8))}</text>'
            f'<text x="{tx:.2f}" y="{y + 13:.2f}" font-size="2.4">{escape(_fit(label.name, 14))}</text>'
            f'<text x="{tx:.2f}" y="{y + 18:.2f}" font-size="2.2" fill="#333">{escape(_fit(label.owner, 16))}</text>'
            f'<text x="{tx:.2f}" y="{y + 24:.2f}" font-size="2.6" font-family="monospace">{escape(label.code)}</text>'
            f'<text x="{tx:.2f}" y="{y + 29.5:.2f}" font-size="2.3">扫码报修 Scan to report</text></g>'
        )
    out.append("</svg>")
    return "".join(out)
