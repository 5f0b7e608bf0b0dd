"""The daily brief as a PDF (fpdf2, pure Python), drawn from the same data as the HTML page, with a CJK font
embedded (subset) so the Chinese text is real text, and the charts drawn with the PDF's own lines and
rectangles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF

from urbanbrain.core.errors import UrbanBrainError, register_messages

register_messages(
    {
        "insight.no_cjk_font": (
            503,
            "服务器上没有中文字体，无法生成 PDF 简报；请安装 fonts-wqy-microhei 或 Noto Sans CJK。",
            "No Chinese font on the server, so the PDF brief cannot be drawn: install fonts-wqy-microhei or "
            "Noto Sans CJK.",
        ),
    }
)

# Where Debian and most Linux distributions put a CJK font; the first found is used.
FONT_GLOBS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/**/NotoSansCJK*.ttc",
    "/usr/share/fonts/**/SourceHanSans*.otf",
    "/usr/share/fonts/**/*[Ww][Qq][Yy]*.tt[cf]",
)


def find_font() -> Path | None:
    for pattern in FONT_GLOBS:
        hits = sorted(Path("/").glob(pattern.lstrip("/")))
        if hits:
            return hits[0]
    return None


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.1f}%"


class _Brief(FPDF):
    def section(self, title: str) -> None:
        self.ln(4)
        self.set_font("cjk", size=13)
        self.set_text_color(20, 60, 110)
        self.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(200, 200, 200)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(2)
        self.set_text_color(0, 0, 0)
        self.set_font("cjk", size=10)

    def bars(self, rows: list[tuple[str, float]], fmt: str = "{:.0f}") -> None:
        if not rows:
            return
        top = max(v for _, v in rows) or 1
        label_w, full = 50, self.w - self.l_margin - self.r_margin - 70
        for label, v in rows:
            y = self.get_y()
            self.set_xy(self.l_margin, y)
            self.cell(label_w, 5, label[:18], align="R")
            self.set_fill_color(46, 134, 193)
            self.rect(self.l_margin + label_w + 2, y + 0.8, max(full * v / top, 0.3), 3.6, style="F")
            self.set_xy(self.l_margin + label_w + 4 + full * v / top, y)
            self.cell(20, 5, fmt.format(v))
            self.ln(6)

    def trend(self, seen: list[int], ahead: list[dict[str, Any]]) -> None:
        n = len(seen) + len(ahead)
        if n < 2:
            return
        x0, y0 = self.l_margin + 8, self.get_y() + 2
        w, h = self.w - self.l_margin - self.r_margin - 16, 45
        top = max([*seen, *(p["upper"] for p in ahead), 1]) * 1.1

        def px(i: int) -> float:
            return x0 + i * w / (n - 1)

        def py(v: float) -> float:
            return y0 + h - v * h / top

        self.set_draw_color(150, 150, 150)
        self.line(x0, y0 + h, x0 + w, y0 + h)
        self.set_font("cjk", size=8)
        self.set_xy(self.l_margin, y0 - 3)
        self.cell(20, 4, str(int(top / 1.1)))
        k = len(seen) - 1
        if ahead:
            band = [(px(k + 1 + i), py(p["upper"])) for i, p in enumerate(ahead)]
            band += [(px(k + 1 + i), py(p["lower"])) for i, p in reversed(list(enumerate(ahead)))]
            self.set_fill_color(245, 203, 130)
            self.polygon(band, style="F")
            self.set_draw_color(211, 84, 0)
            self.set_dash_pattern(dash=1.2, gap=0.8)
            pts = [(px(k), py(seen[-1]))] + [(px(k + 1 + i), py(p["mean"])) for i, p in enumerate(ahead)]
            self.polyline(pts)
            self.set_dash_pattern()
        self.set_draw_color(31, 97, 141)
        self.set_line_width(0.5)
        self.polyline([(px(i), py(v)) for i, v in enumerate(seen)])
        self.set_line_width(0.2)
        self.set_y(y0 + h + 4)
        self.set_font("cjk", size=10)


def render_pdf(b: dict[str, Any]) -> bytes:
    font = find_font()
    if font is None:
        raise UrbanBrainError("insight.no_cjk_font")
    pdf = _Brief(format="A4")
    pdf.set_title(f"Daily brief {b['day']}")
    pdf.add_font("cjk", fname=str(font))
    pdf.add_page()
    pdf.set_font("cjk", size=17)
    where = b["area_name"] or b["area"] or "全区"
    pdf.cell(0, 10, f"{where} 每日简报 · {b['day']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.set_text_color(110, 110, 110)
    pdf.cell(
        0,
        5,
        f"截至 {b['as_of']:%Y-%m-%d %H:%M} UTC · 汇总版本 {b['generation']}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_text_color(0, 0, 0)

    n = b["numbers"]
    pdf.section("昨日数据")
    figs = [
        ("新增事件", str(n["reported"]), f"上周同日 {n['reported_week_before']}"),
        ("结案", str(n["closed"]), ""),
        ("按时办结率", _pct(n["on_time_rate"]), f"派遣 {n['dispatched']}"),
        ("超期未办", str(b["overdue"]["count"]), ""),
        ("物联告警", str(n["alarms"]), " ".join(f"{k} {v}" for k, v in n["alarms_by_level"].items())),
        ("消防隐患", str(n["hazards_found"]), f"逾期 {n['hazards_overdue']}"),
        ("设备在线率", _pct(n["devices"]["online_rate"]), f"共 {n['devices']['total']}"),
    ]
    for label, value, note in figs:
        pdf.cell(35, 6, label)
        pdf.set_font("cjk", size=12)
        pdf.cell(30, 6, value)
        pdf.set_font("cjk", size=9)
        pdf.cell(0, 6, note, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=10)

    pdf.section("各类事件")
    pdf.bars([(r["name"] or r["code"], r["reported"]) for r in b["by_class"][:10]])

    pdf.section("异常")
    if not b["hotspots"] and not b["surges"]:
        pdf.multi_cell(0, 5, "未发现异常热点或激增。", new_x="LMARGIN", new_y="NEXT")
    for h in b["hotspots"]:
        pdf.multi_cell(0, 5, "· 热点：" + h["reason"]["zh-CN"], new_x="LMARGIN", new_y="NEXT")
    for s in b["surges"]:
        pdf.multi_cell(0, 5, f"· 激增：{s['name'] or s['code']} 当日 {s['cases']} 件，预期 {s['expected']}（上限 {s['upper']}）",
                       new_x="LMARGIN", new_y="NEXT")  # fmt: skip

    pdf.section(f"超期未办 {b['overdue']['count']} 件")
    pdf.bars([(r["code"] or "-", r["overdue"]) for r in b["overdue"]["by_department"][:8]])
    for c in b["overdue"]["cases"][:8]:
        pdf.multi_cell(0, 5, f"· {c['number']} {c['title'] or ''} · {c['department_code']} · 超期 {c['hours_over']} 小时",
                       new_x="LMARGIN", new_y="NEXT")  # fmt: skip

    pdf.section("趋势与未来 7 天预测（80% 区间）")
    pdf.trend([p["cases"] for p in b["trend"]], b["forecast"])
    for f in b["forecast"]:
        pdf.cell(0, 5, f"{f['day']}  预测 {f['mean']:.0f}  区间 {f['lower']}–{f['upper']}  上周同日 {f['baseline']}",
                 new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    if b["departments"]:
        pdf.section("部门按时办结率排名（近 28 天）")
        pdf.bars(
            [(d["code"] or "-", (d["on_time_rate"] or 0) * 100) for d in b["departments"]], fmt="{:.1f}%"
        )
    return bytes(pdf.output())
