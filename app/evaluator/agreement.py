"""Agreement between two raters of the same turns: weighted kappa, Spearman, confusion matrix.

Pure Python, no I/O, so the same functions serve calibration against human-rated turns
(`app.evaluator.calibration`) and, later, agreement between tutors' overrides and the AI.

A rating is an integer on a known ordinal scale (0-3 for a rubric dimension, -2..+2 for
direction balance) or None for "not applicable". Kappa and Spearman are computed on the turns
both raters scored; whether the raters agreed on applicability is reported separately, because
folding "not applicable" into an ordinal scale would invent a distance that does not exist.
A statistic that is undefined for the data (no variation, too few turns) is None, never a
made-up number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Rating = int | None
NA = "n/a"


def confusion_matrix(pairs: Sequence[tuple[int, int]], levels: Sequence[int]) -> list[list[int]]:
    """Counts of (first rater's level, second rater's level); rows follow the first rater."""
    index = {level: i for i, level in enumerate(levels)}
    matrix = [[0] * len(levels) for _ in levels]
    for a, b in pairs:
        if a not in index or b not in index:
            raise ValueError(f"rating outside the scale {list(levels)}: {a}, {b}")
        matrix[index[a]][index[b]] += 1
    return matrix


def weighted_kappa(
    pairs: Sequence[tuple[int, int]], levels: Sequence[int], *, weights: str = "quadratic"
) -> float | None:
    """Cohen's kappa with disagreement weights over the whole scale.

    kappa = 1 - sum(w_ij * O_ij) / sum(w_ij * E_ij), where O is the observed proportion in
    cell (i, j), E the proportion expected from the two raters' marginals, and w_ij is
    ((i - j) / (k - 1))^2 for "quadratic", |i - j| / (k - 1) for "linear" and 1 off the
    diagonal for "none" (plain Cohen's kappa). None when no disagreement is expected (both
    raters used one and the same level throughout) or there are no pairs.
    """
    if not pairs:
        return None
    k = len(levels)
    matrix = confusion_matrix(pairs, levels)
    n = len(pairs)
    rows = [sum(row) / n for row in matrix]
    cols = [sum(matrix[i][j] for i in range(k)) / n for j in range(k)]

    def weight(i: int, j: int) -> float:
        if weights == "none":
            return 0.0 if i == j else 1.0
        distance = abs(i - j) / (k - 1) if k > 1 else 0.0
        if weights == "linear":
            return distance
        if weights == "quadratic":
            return distance**2
        raise ValueError(f"unknown weights {weights!r}; use quadratic, linear or none")

    observed = sum(weight(i, j) * matrix[i][j] / n for i in range(k) for j in range(k))
    expected = sum(weight(i, j) * rows[i] * cols[j] for i in range(k) for j in range(k))
    if expected == 0:
        return None
    return 1 - observed / expected


def average_ranks(values: Sequence[float]) -> list[float]:
    """Ranks from 1, with tied values sharing the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        shared = (start + end) / 2 + 1
        for position in range(start, end + 1):
            ranks[order[position]] = shared
        start = end + 1
    return ranks


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    if len(xs) != len(ys):
        raise ValueError("both raters must rate the same turns")
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return float(sxy / (sxx * syy) ** 0.5)


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rho: Pearson's correlation of average ranks (correct with ties)."""
    return pearson(average_ranks(xs), average_ranks(ys))


@dataclass(frozen=True, slots=True)
class PairAgreement:
    """How two raters agreed on one dimension over the same turns."""

    turns: int  # turns both raters looked at
    both_scored: int  # turns both raters scored (neither said not applicable)
    applicability_agreement: float | None  # share of turns where they agreed on N/A or not
    exact_agreement: float | None  # share of both-scored turns with the same score
    weighted_kappa: float | None  # quadratic, on both-scored turns
    spearman: float | None  # on both-scored turns
    labels: tuple[str, ...]  # matrix labels: the levels, then "n/a"
    confusion: tuple[tuple[int, ...], ...]  # rows: first rater; columns: second rater


def compare(
    first: Sequence[Rating], second: Sequence[Rating], levels: Sequence[int]
) -> PairAgreement:
    """Agreement between two raters' ratings of the same turns, in the same order."""
    if len(first) != len(second):
        raise ValueError("both raters must rate the same turns")
    scored = [(a, b) for a, b in zip(first, second, strict=True) if a is not None and b is not None]
    turns = len(first)
    same_applicability = sum((a is None) == (b is None) for a, b in zip(first, second, strict=True))
    labels: list[int | None] = [*levels, None]
    index = {level: i for i, level in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for a, b in zip(first, second, strict=True):
        if a not in index or b not in index:
            raise ValueError(f"rating outside the scale {list(levels)}: {a}, {b}")
        matrix[index[a]][index[b]] += 1
    return PairAgreement(
        turns=turns,
        both_scored=len(scored),
        applicability_agreement=same_applicability / turns if turns else None,
        exact_agreement=sum(a == b for a, b in scored) / len(scored) if scored else None,
        weighted_kappa=weighted_kappa(scored, levels),
        spearman=spearman([a for a, _ in scored], [b for _, b in scored]) if scored else None,
        labels=(*(str(level) for level in levels), NA),
        confusion=tuple(tuple(row) for row in matrix),
    )


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Unweighted Cohen's kappa for categories without an order (e.g. client markers)."""
    if len(first) != len(second):
        raise ValueError("both raters must rate the same turns")
    categories = sorted(set(first) | set(second))
    codes = {c: i for i, c in enumerate(categories)}
    pairs = [(codes[a], codes[b]) for a, b in zip(first, second, strict=True)]
    return weighted_kappa(pairs, list(range(len(categories))), weights="none")
