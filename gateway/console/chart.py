"""A stacked bar chart of reports per day and channel as inline SVG (no script, no library)."""

from __future__ import annotations

import datetime as dt
from html import escape

from gateway.localtime import MONTHS

# Colour-blind-safe palette (Okabe-Ito), repeated when there are more channels.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def colour_of(index: int) -> str:
    """The colour of the index-th channel."""
    return PALETTE[index % len(PALETTE)]


def stacked_bars(dates: list[dt.date], series: dict[str, list[int]]) -> str:
    """The SVG markup; described for screen readers by its <title> and <desc>."""
    width, height, left, bottom, top = 720, 220, 36, 28, 10
    plot_w, plot_h = width - left - 8, height - bottom - top
    totals = [sum(values[i] for values in series.values()) for i in range(len(dates))]
    peak = max([*totals, 1])
    step = plot_w / max(len(dates), 1)
    bar = max(step * 0.7, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img"'
        ' aria-labelledby="chart-title chart-desc" class="chart">',
        '<title id="chart-title">Laporan per hari per kanal, 30 hari terakhir</title>',
        f'<desc id="chart-desc">Total {sum(totals)} laporan; tertinggi {peak} dalam sehari.'
        " Angka lengkap ada di tabel di bawah grafik.</desc>",
    ]
    for tick in (0, peak // 2, peak):
        y = top + plot_h - plot_h * tick / peak
        parts.append(
            f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" class="axis">{tick}</text>'
        )
    for i, day in enumerate(dates):
        x = left + i * step + (step - bar) / 2
        base: float = top + plot_h
        for index, (channel, values) in enumerate(series.items()):
            if not values[i]:
                continue
            h = plot_h * values[i] / peak
            base -= h
            label = f"{channel}, {day.day} {MONTHS[day.month - 1]}: {values[i]}"
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}"'
                f' fill="{colour_of(index)}"><title>{escape(label)}</title></rect>'
            )
        if i % 5 == 0 or i == len(dates) - 1:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 8}" text-anchor="middle"'
                f' class="axis">{day.day} {MONTHS[day.month - 1]}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
