"""Small-count significance helpers (pure Python, no scipy): count tails and tail calibration."""

from __future__ import annotations

import math
from collections.abc import Sequence

LOG10 = math.log(10.0)


def nb_log10_tail(x: float, mean: float, phi: float) -> float:
    """-log10 P(X >= x) for a negative binomial of this mean and dispersion (var mu + phi mu^2).

    ``x`` may be fractional (a partially completed window). The tail is approximated by the
    geometric bound ``pmf(x) / (1 - rho(x))`` where ``rho`` is the ratio of successive
    probabilities; it is exact to a few percent far out in the tail, which is all a surprise
    score needs. Returns 0 when ``x`` is not above the mean.
    """
    if mean <= 0.0:
        return 50.0 if x > 0 else 0.0
    if x <= mean:
        return 0.0
    r = 1.0 / max(phi, 1e-6)
    p = mean / (r + mean)  # "failure" probability of the NB
    log_pmf = (
        math.lgamma(x + r)
        - math.lgamma(r)
        - math.lgamma(x + 1.0)
        + r * math.log(r / (r + mean))
        + x * math.log(p)
    )
    rho = (x + r) / (x + 1.0) * p
    if rho >= 1.0:
        return 0.0
    log_tail = min(log_pmf - math.log1p(-rho), 0.0)
    return -log_tail / LOG10


def binom_midp_upper(k: float, n: float, p: float) -> float:
    """Mid-p upper tail P(X > k) + P(X = k)/2 of a binomial(n, p); exact for small counts.

    ``k`` and ``n`` are rounded to whole mentions. Terms are summed from ``k`` upwards until
    they vanish, so the cost is bounded by the distance to the far tail, not by ``n``.
    """
    n_i, k_i = round(n), round(k)
    if n_i <= 0 or k_i <= 0:
        return 1.0
    if k_i > n_i:
        return 0.0
    p = min(max(p, 1e-9), 1.0 - 1e-9)
    if k_i <= n_i * p:
        return 1.0 if k_i < n_i * p - 1 else 0.5
    lp, lq = math.log(p), math.log1p(-p)
    base = math.lgamma(n_i + 1.0)

    def log_pmf(j: int) -> float:
        return base - math.lgamma(j + 1.0) - math.lgamma(n_i - j + 1.0) + j * lp + (n_i - j) * lq

    first = log_pmf(k_i)
    total = 0.5
    term = 1.0
    for j in range(k_i + 1, n_i + 1):
        term *= (n_i - j + 1) / j * p / (1.0 - p)
        total += term
        if term < 1e-12 * total:
            break
    return min(1.0, math.exp(first) * total)


def exp_tail_threshold(
    edges: Sequence[float],
    hist: Sequence[float],
    rate: float,
    min_tail: float = 8.0,
    gpd: bool = False,
) -> tuple[float, float] | None:
    """Level exceeded with probability ``rate`` per sample, from a binned sample's upper tail.

    Peaks-over-threshold with an exponential (GPD shape 0) tail: pick the highest bin edge
    ``u`` with at least ``min_tail`` weight above it, estimate the scale ``beta`` as the mean
    excess over ``u`` and extrapolate ``u + beta ln(P(S > u) / rate)``. Returns
    ``(level, beta)``, or None when the sample is too small. With ``gpd`` the shape is also
    fitted (method of moments, clipped to [-0.3, 0.5]), as in SPOT; kept for comparison.
    """
    n = sum(hist)
    if n <= 0:
        return None
    above = 0.0
    excess = 0.0
    square = 0.0
    width = edges[1] - edges[0]
    for i in range(len(hist) - 1, -1, -1):
        w = hist[i]
        if w <= 0:
            continue
        mid = edges[i] + 0.5 * width
        above += w
        excess += w * mid
        square += w * mid * mid
        if above >= min_tail and above / n >= rate and i > 0:
            u = edges[i]
            m1 = max(excess / above - u, 0.25 * width)
            if gpd:
                var = max(square / above - (excess / above) ** 2, 1e-9)
                xi = min(max(0.5 * (1.0 - m1 * m1 / var), -0.3), 0.5)
                sigma = m1 * (1.0 - xi)
                if abs(xi) > 1e-6:
                    return u + sigma / xi * ((above / n / rate) ** xi - 1.0), sigma
                return u + sigma * math.log(above / n / rate), sigma
            return u + m1 * math.log(above / n / rate), m1
    return None
