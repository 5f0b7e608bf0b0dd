"""The forecast beats the seasonal-naive baseline (the same weekday last week) on held-apart weeks of
simulated districts: its constants were tuned on seeds 0-9, and it is judged here on seeds 1000-1019,
districts it never saw (their own weekly shapes, yearly swings, trends, holidays and surges)."""

from datetime import date

import numpy as np

from urbanbrain.apps.insight import forecast as fc
from urbanbrain.simulate.district_volumes import simulate_volumes

HELD_APART = range(1000, 1020)
CLASSES = [f"C{i}" for i in range(6)]
AREAS = [f"A{i}" for i in range(8)]


def evaluate(seeds: range) -> dict[str, fc.Score]:
    scores: dict[str, list[fc.Score]] = {"ours": [], "naive": []}
    for seed in seeds:
        v = simulate_volumes(seed, date(2022, 1, 3), 730, CLASSES, AREAS)
        c = v.counts
        # Every class in every area, and the totals per class and per area (what the API forecasts).
        series = np.concatenate([c.reshape(-1, c.shape[-1]), c.sum(axis=1), c.sum(axis=0)])
        for k in range(8):  # eight held-apart weeks across the second year
            t = 400 + 40 * k
            hist, actual = series[:, t - 112 : t], series[:, t : t + 7]
            scores["ours"].append(fc.score(fc.forecast(hist, v.days[t - 112 : t], 7, v.holidays), actual))
            scores["naive"].append(fc.score(fc.seasonal_naive(hist, 7), actual))
    return {
        k: fc.Score(
            *(
                float(np.mean([getattr(s, f) for s in lst]))
                for f in ("mae", "coverage", "width", "interval_score")
            )
        )
        for k, lst in scores.items()
    }


def test_the_forecast_beats_seasonal_naive_on_held_apart_weeks():
    s = evaluate(HELD_APART)
    ours, naive = s["ours"], s["naive"]
    assert ours.mae < 0.75 * naive.mae, (ours, naive)
    assert ours.interval_score < 0.75 * naive.interval_score, (ours, naive)
    assert 0.75 <= ours.coverage <= 0.9, ours  # an 80% interval that means it
    assert ours.width < naive.width


def test_a_holiday_week_is_forecast_low_and_the_week_after_is_not():
    v = simulate_volumes(1001, date(2022, 1, 3), 730, CLASSES, AREAS)
    days = v.days
    national_day = days.index(date(2023, 10, 1))
    total = v.counts.sum(axis=(0, 1))[None, :]
    before = fc.forecast(total[:, :national_day][:, -112:], days[:national_day][-112:], 7, v.holidays)
    usual = fc.forecast(
        total[:, : national_day - 7][:, -112:], days[: national_day - 7][-112:], 7, v.holidays
    )
    assert before.mean.sum() < usual.mean.sum()
    after = national_day + 7
    naive = fc.seasonal_naive(total[:, :after], 7)  # last week was the holiday: the baseline is low
    ours = fc.forecast(total[:, :after][:, -112:], days[:after][-112:], 7, v.holidays)
    actual = total[:, after : after + 7]
    assert np.abs(ours.mean - actual).mean() < np.abs(naive.mean - actual).mean()
