"""The dashboard's charts: SVG drawn on the server by pygal, in the user's language.

Each chart is handed to the page as a ``data:`` image, so it needs no script and no
request of its own, and the page's Content-Security-Policy needs no inline styles for it
(an SVG shown as an image is a document of its own). Every chart has a table beside it for
screen readers and for anyone who wants the figures.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import date

import pygal
from flask_babel import format_date, format_decimal
from pygal.style import Style

from loyalty.services.dashboard import EnrollmentSeries, PointsSeries
from platform_core.i18n_lazy import _l

_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#343a40",
    foreground_strong="#212529",
    foreground_subtle="#6c757d",
    colors=("#1f5f8b", "#e07a1f", "#3a9d5d", "#b23a48", "#7b5ea7", "#8c8c8c"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    value_font_size=12,
    tooltip_font_size=12,
)

#: Stores drawn one by one; the rest are added up as "Other stores".
MAX_STORE_SERIES = 5


def _number(value: float | None) -> str:
    return format_decimal(value or 0)


def _day_label(day: date) -> str:
    return format_date(day, "d MMM")


def _config(**kwargs: object) -> dict[str, object]:
    return {
        "style": _STYLE,
        # pygal links its tooltip script from a third-party host by default: none here.
        "js": [],
        "disable_xml_declaration": True,
        "value_formatter": _number,
        "width": 800,
        "height": 320,
        "legend_at_bottom": True,
        "truncate_legend": -1,
        "truncate_label": -1,
        "margin": 10,
        **kwargs,
    }


class _Quiet:
    """No tooltip data: without pygal's script nothing reads it, and at 90 days × 6 stores it
    was two thirds of the SVG's nodes and of the time spent drawing it."""

    def _tooltip_data(self, *args: object, **kwargs: object) -> None:
        return None


class _StackedBar(_Quiet, pygal.StackedBar):
    pass


class _Bar(_Quiet, pygal.Bar):
    pass


def _count_axis(values: Sequence[int]) -> list[int]:
    """Whole-number ticks for a chart of counts (pygal would draw 0.2, 0.4, ...)."""
    top = max(values, default=0)
    if top <= 0:
        return [0, 1]
    step = max(1, -(-top // 5))
    return list(range(0, top + step, step))


def _data_uri(chart: pygal.graph.graph.Graph) -> str:
    svg = chart.render(is_unicode=True)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _store_series(series: EnrollmentSeries) -> list[tuple[str, list[int]]]:
    ranked = sorted(series.by_store.items(), key=lambda item: -sum(item[1]))
    shown = ranked[:MAX_STORE_SERIES]
    rest = ranked[MAX_STORE_SERIES:]
    if rest:
        other = [sum(values) for values in zip(*(v for _, v in rest), strict=True)]
        shown.append((str(_l("Other stores")), other))
    return shown


def enrollments_chart(series: EnrollmentSeries) -> str:
    days = series.days
    step = 7 if len(days) > 31 else 3
    chart = _StackedBar(
        **_config(
            x_labels=[_day_label(d) for d in days],
            x_labels_major=[_day_label(d) for d in days[::step]],
            show_minor_x_labels=False,
            x_label_rotation=0,
            y_labels=_count_axis([sum(day) for day in zip(*series.by_store.values(), strict=True)]),
        )
    )
    for name, values in _store_series(series):
        chart.add(name, values)
    if not series.by_store:
        chart.add(str(_l("Enrollments")), [0] * len(days))
    return _data_uri(chart)


def points_chart(series: PointsSeries) -> str:
    chart = _Bar(**_config(x_labels=[_day_label(w) for w in series.weeks]))
    chart.add(str(_l("Issued")), series.issued)
    chart.add(str(_l("Redeemed")), series.redeemed)
    chart.add(str(_l("Expired")), series.expired)
    return _data_uri(chart)


def enrollment_rows(series: EnrollmentSeries) -> Sequence[tuple[str, list[int], int]]:
    """(formatted day, enrollments per store, total) for the chart's table."""
    stores = list(series.by_store)
    return [
        (
            format_date(day, "medium"),
            [series.by_store[s][i] for s in stores],
            sum(series.by_store[s][i] for s in stores),
        )
        for i, day in enumerate(series.days)
    ]
