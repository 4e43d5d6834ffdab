"""The offline judge's detectors on counsellor utterances it was not built from.

`tests/fixtures/heuristic_heldout.csv` holds 125 varied counsellor utterances, each coded the
way an annotator using MITI/MISC-style behaviour codes would code it (a turn can carry several
codes, or none). The codes were written before the detectors were run on them; failures led to
changes in general wording patterns (a missing verb, a tag question, a clause shape), never to
rules for particular sentences. Rows h92-h125 were added afterwards and first scored untouched.

The test reports precision and recall for every code and requires both to reach the floor.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from app.evaluator.features import TurnFeatures, analyse_turn

HELDOUT = Path(__file__).parent / "fixtures" / "heuristic_heldout.csv"
FLOOR = 0.8

DETECTORS: dict[str, Callable[[TurnFeatures], bool]] = {
    "advice": lambda f: bool(f.advice),
    "open_question": lambda f: bool(f.open_questions),
    "closed_question": lambda f: bool(f.closed_questions),
    "reflection": lambda f: bool(f.reflections),
    "collaboration": lambda f: bool(f.collaboration),
    "here_and_now": lambda f: bool(f.immediacy),
    "boundary_time": lambda f: bool(f.time_boundary),
    "boundary_confidentiality": lambda f: bool(f.confidentiality),
    "minimal": lambda f: f.minimal,
    "deflect": lambda f: f.deflects,
}


def rows() -> list[dict[str, str]]:
    with HELDOUT.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def counts() -> dict[str, tuple[int, int, int]]:
    """(true positives, false positives, false negatives) per code."""
    tally = {code: [0, 0, 0] for code in DETECTORS}
    for row in rows():
        gold = {c for c in row["codes"].split(";") if c}
        features = analyse_turn(row["text"], client_last=row["client_last"])
        for code, detect in DETECTORS.items():
            found = detect(features)
            if found and code in gold:
                tally[code][0] += 1
            elif found:
                tally[code][1] += 1
            elif code in gold:
                tally[code][2] += 1
    return {code: (tp, fp, fn) for code, (tp, fp, fn) in tally.items()}


def test_the_heldout_set_is_well_formed() -> None:
    data = rows()
    assert len(data) >= 80
    assert len({row["id"] for row in data}) == len(data)
    for row in data:
        assert row["text"].strip(), row["id"]
        assert {c for c in row["codes"].split(";") if c} <= set(DETECTORS), row["id"]
    # Every code has enough examples for its figures to mean something.
    for code, (tp, _, fn) in counts().items():
        assert tp + fn >= 4, code


@pytest.mark.parametrize("code", sorted(DETECTORS))
def test_precision_and_recall_reach_the_floor(code: str) -> None:
    tp, fp, fn = counts()[code]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    report = f"{code}: precision {precision:.2f} recall {recall:.2f} (tp {tp}, fp {fp}, fn {fn})"
    print(report)
    assert precision >= FLOOR, report
    assert recall >= FLOOR, report
