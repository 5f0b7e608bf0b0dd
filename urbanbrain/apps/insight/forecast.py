"""Short forecasts of daily case volumes with prediction intervals, and the seasonal-naive baseline they are
judged against (the same weekday last week).

The model, per series (one row of ``history``): weekday factors from the last weeks, shrunk towards the
factors of all series together where a series is thin; the level of the weekday-adjusted counts at the
last day (a local linear fit weighted towards recent days), with surge days clipped so that one bad week
does not carry over; a
holiday factor learned from the series' own past holidays. Intervals come from the counts' over-dispersion
(variance = mean + phi * mean^2) and the level's own uncertainty. Plain numpy, every series at once.
The constants were tuned on simulated districts of one seed range and are judged on another
(``tests/apps/insight/test_forecast.py``; figures in ``docs/insight.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist

import numpy as np

WEEKS = 12  # history the weekday factors and dispersion are read from
LEVEL_HALFLIFE = 14.0  # days: the level follows the last weeks
SLOPE_DAMPING = 0.0  # the slope is not carried on: over a week it cost more than it gained when tuned
CLIP_SD = 3.0  # a day this many standard deviations above the level counts as a surge day, at that bound
SHRINK_COUNTS = 200.0  # counts a series needs on a weekday before its own factor outweighs the pooled one
HOLIDAY_PRIOR = 0.7
INTERVAL_WIDEN = 1.0  # tuned: nominal coverage on the tuning seeds


@dataclass
class Forecast:
    mean: np.ndarray  # (series, horizon)
    lower: np.ndarray
    upper: np.ndarray
    level: float


def _dow(days: list[date]) -> np.ndarray:
    return np.array([d.weekday() for d in days])


def seasonal_naive(history: np.ndarray, horizon: int, level: float = 0.8, weeks: int = 8) -> Forecast:
    """The same weekday of the last week seen; the interval from the spread of week-on-week changes over
    the last ``weeks`` weeks."""
    y = np.asarray(history, dtype=float)
    h = np.arange(horizon)
    mean = y[:, y.shape[1] - 7 + (h % 7)]
    diffs = y[:, 7:] - y[:, :-7]
    diffs = diffs[:, -weeks * 7 :]
    a = (1 - level) / 2
    lo, hi = np.quantile(diffs, [a, 1 - a], axis=1)
    return Forecast(mean, np.maximum(mean + lo[:, None], 0), np.maximum(mean + hi[:, None], 0), level)


def forecast(
    history: np.ndarray,
    days: list[date],
    horizon: int,
    holidays: frozenset[date] | set[date] = frozenset(),
    level: float = 0.8,
) -> Forecast:
    """Forecast ``horizon`` days after ``days[-1]`` for each row of ``history`` (series x days)."""
    y = np.asarray(history, dtype=float)
    s_n, t_n = y.shape
    future = [days[-1] + timedelta(i + 1) for i in range(horizon)]
    hol = np.array([d in holidays for d in days])
    hol_f = np.array([d in holidays for d in future])
    dow, dow_f = _dow(days), _dow(future)

    recent = np.zeros(t_n, dtype=bool)
    recent[-WEEKS * 7 :] = True
    use = recent & ~hol
    # Weekday factors: each series' own, shrunk towards all series' together.
    pooled = y.sum(axis=0)
    prior = np.array([pooled[use & (dow == d)].mean() if (use & (dow == d)).any() else 1.0 for d in range(7)])
    prior = prior / prior.mean() if prior.mean() > 0 else np.ones(7)
    series_mean = np.array([y[:, use].mean(axis=1)]).T + 1e-9
    own = np.ones((s_n, 7))
    weight = np.zeros((s_n, 7))
    for d in range(7):
        m = use & (dow == d)
        if m.any():
            own[:, d] = y[:, m].mean(axis=1) / series_mean[:, 0]
            total = y[:, m].sum(axis=1)
            weight[:, d] = total / (total + SHRINK_COUNTS)
    factors = weight * own + (1 - weight) * prior[None, :]
    factors = factors / factors.mean(axis=1, keepdims=True)
    factors = np.maximum(factors, 0.05)

    x = y / factors[:, dow]  # weekday-adjusted counts
    # Surge days are clipped at the level's upper bound before the level is read.
    base = np.array([np.median(x[i, use & (np.arange(t_n) >= t_n - 28)]) if (use[-28:]).any() else 0.0
                     for i in range(s_n)])  # fmt: skip
    bound = base + CLIP_SD * np.sqrt(np.maximum(base, 1.0)) * 1.5
    xc = np.minimum(x, bound[:, None])

    # Weighted local linear fit of the adjusted counts (holidays left out): level at the last day, slope.
    age = (t_n - 1 - np.arange(t_n)).astype(float)
    w = np.where(use, 0.5 ** (age / LEVEL_HALFLIFE), 0.0)
    sw = w.sum()
    t_c = -age
    t_mean = (w * t_c).sum() / sw
    xm = (xc * w).sum(axis=1) / sw
    var_t = (w * (t_c - t_mean) ** 2).sum() / sw
    slope = ((xc - xm[:, None]) * (w * (t_c - t_mean))).sum(axis=1) / sw / max(var_t, 1e-9)
    level_now = xm + slope * (0 - t_mean)
    # Holiday factor: past holidays against the level around them, pooled where a series has few counts.
    hol_factor = np.full(s_n, HOLIDAY_PRIOR)
    if hol.any():
        smooth = _centred_level(xc, use)
        expect = (smooth * factors[:, dow])[:, hol].sum(axis=1)
        seen = y[:, hol].sum(axis=1)
        pooled_ratio = seen.sum() / expect.sum() if expect.sum() > 0 else HOLIDAY_PRIOR
        hol_factor = (seen + 30 * pooled_ratio) / (expect + 30)

    h = np.arange(1, horizon + 1, dtype=float)
    level_f = np.maximum(level_now[:, None] + SLOPE_DAMPING * slope[:, None] * h[None, :], 0.0)
    level_f = np.where(level_f <= 0, np.maximum(xm[:, None], 0.0), level_f)
    mean = level_f * factors[:, dow_f]
    mean = np.where(hol_f[None, :], mean * hol_factor[:, None], mean)

    # Dispersion from the fit's residuals over the window (surge days clipped, holidays out).
    fitted = np.maximum((level_now[:, None] + slope[:, None] * (t_c[None, :])) * factors[:, dow], 0.1)
    yc = np.minimum(y, bound[:, None] * factors[:, dow])
    m = use
    excess = ((yc - fitted) ** 2 - fitted)[:, m].sum(axis=1)
    phi = np.clip(excess / (fitted[:, m] ** 2).sum(axis=1), 0.0, 1.0)
    level_var = (1 / max(w.sum(), 1.0)) * (1 + phi * np.maximum(xm, 1.0))  # relative, roughly
    var = mean + (phi[:, None] + level_var[:, None] / np.maximum(xm[:, None], 1.0)) * mean**2
    z = NormalDist().inv_cdf(0.5 + level / 2) * INTERVAL_WIDEN
    sd = np.sqrt(var)
    lower = np.maximum(np.floor(mean - z * sd), 0.0)
    upper = np.ceil(mean + z * sd)
    return Forecast(mean, lower, upper, level)


def _centred_level(x: np.ndarray, use: np.ndarray, half: int = 14) -> np.ndarray:
    """Each day's level: the mean of usable adjusted counts within ``half`` days either side."""
    t_n = x.shape[1]
    cs = np.cumsum(np.where(use, x, 0.0), axis=1)
    cn = np.cumsum(use.astype(float))
    cs = np.concatenate([np.zeros((x.shape[0], 1)), cs], axis=1)
    cn = np.concatenate([[0.0], cn])
    lo = np.clip(np.arange(t_n) - half, 0, t_n)
    hi = np.clip(np.arange(t_n) + half + 1, 0, t_n)
    n = np.maximum(cn[hi] - cn[lo], 1.0)
    return (cs[:, hi] - cs[:, lo]) / n


@dataclass
class Score:
    mae: float
    coverage: float
    width: float
    interval_score: float  # Winkler: width plus 2/alpha times each miss's distance; lower is better


def score(f: Forecast, actual: np.ndarray) -> Score:
    a = 1 - f.level
    y = np.asarray(actual, dtype=float)
    miss = np.where(y < f.lower, f.lower - y, 0) + np.where(y > f.upper, y - f.upper, 0)
    return Score(
        mae=float(np.abs(f.mean - y).mean()),
        coverage=float(((y >= f.lower) & (y <= f.upper)).mean()),
        width=float((f.upper - f.lower).mean()),
        interval_score=float((f.upper - f.lower + 2 / a * miss).mean()),
    )
