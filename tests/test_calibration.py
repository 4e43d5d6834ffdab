"""Agreement statistics against values worked out by hand, the gold-file format, and the
`alliance calibrate` command end to end on the sample file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from app.evaluator.agreement import (
    average_ranks,
    cohen_kappa,
    compare,
    confusion_matrix,
    spearman,
    weighted_kappa,
)
from app.evaluator.calibration import GoldFileError, parse_gold
from app.evaluator.schema import DIMENSIONS, JudgeInput

SAMPLE = Path(__file__).parent / "fixtures" / "calibration" / "sample.csv"
LEVELS = (0, 1, 2, 3)


# --- statistics, by hand ---------------------------------------------------------------------


def test_quadratic_weighted_kappa_worked_example() -> None:
    # Rater A: 0 1 2 3; rater B: 0 2 2 3. One disagreement, one level apart.
    # Weights w_ij = (i - j)^2 / (k - 1)^2 with k = 4, so w for |i - j| = 1 is 1/9.
    # Observed weighted disagreement: cell (1, 2) holds 1 of 4 turns -> (1/4)(1/9) = 1/36.
    # Marginals: A = (1/4, 1/4, 1/4, 1/4); B = (1/4, 0, 1/2, 1/4).
    # Expected = sum_ij w_ij a_i b_j = (1/4) * sum_j b_j * sum_i w_ij, and sum_i w_ij is
    #   j=0: (0+1+4+9)/9 = 14/9; j=2: (4+1+0+1)/9 = 6/9; j=3: (9+4+1+0)/9 = 14/9;
    #   so (1/4) * (1/4 * 14/9 + 1/2 * 6/9 + 1/4 * 14/9) = (1/4) * (40/36) = 10/36.
    # kappa = 1 - (1/36) / (10/36) = 0.9.
    pairs = [(0, 0), (1, 2), (2, 2), (3, 3)]
    assert weighted_kappa(pairs, LEVELS) == pytest.approx(0.9)


def test_unweighted_kappa_on_the_same_ratings() -> None:
    # Observed agreement p_o = 3/4. Chance p_e = sum a_i b_i
    #   = 1/4*1/4 + 1/4*0 + 1/4*1/2 + 1/4*1/4 = 4/16 = 1/4.
    # kappa = (3/4 - 1/4) / (1 - 1/4) = 2/3.
    pairs = [(0, 0), (1, 2), (2, 2), (3, 3)]
    assert weighted_kappa(pairs, LEVELS, weights="none") == pytest.approx(2 / 3)
    assert cohen_kappa(["a", "b", "c", "d"], ["a", "c", "c", "d"]) == pytest.approx(2 / 3)


def test_linear_weights_sit_between() -> None:
    # Linear w for |i - j| = 1 is 1/3. Observed = (1/4)(1/3) = 1/12.
    # sum_i w_ij: j=0: (0+1+2+3)/3 = 2; j=2: (2+1+0+1)/3 = 4/3; j=3: (3+2+1+0)/3 = 2.
    # Expected = (1/4) * (1/4*2 + 1/2*4/3 + 1/4*2) = (1/4) * (5/3) = 5/12.
    # kappa = 1 - (1/12)/(5/12) = 0.8.
    pairs = [(0, 0), (1, 2), (2, 2), (3, 3)]
    assert weighted_kappa(pairs, LEVELS, weights="linear") == pytest.approx(0.8)


def test_kappa_is_undefined_without_variation_and_negative_when_opposed() -> None:
    # Both raters always say 2: no disagreement is expected, so kappa is undefined.
    assert weighted_kappa([(2, 2), (2, 2)], LEVELS) is None
    assert weighted_kappa([], LEVELS) is None
    # Perfect reversal on 0/3: observed = 1 (every turn 3 apart), expected = 1/2 -> kappa = -1.
    assert weighted_kappa([(0, 3), (3, 0)], LEVELS) == pytest.approx(-1.0)


def test_spearman_with_ties_worked_example() -> None:
    # x = 1 2 2 3 -> ranks 1, 2.5, 2.5, 4 (the tie shares ranks 2 and 3).
    # y = 1 3 2 4 -> ranks 1, 3, 2, 4. Both rank means are 2.5.
    # dx = -1.5 0 0 1.5; dy = -1.5 0.5 -0.5 1.5.
    # Sxy = 2.25 + 0 + 0 + 2.25 = 4.5; Sxx = 4.5; Syy = 2.25 + .25 + .25 + 2.25 = 5.
    # rho = 4.5 / sqrt(4.5 * 5) = sqrt(0.9) = 0.94868...
    assert average_ranks([1, 2, 2, 3]) == [1.0, 2.5, 2.5, 4.0]
    assert spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(0.9**0.5)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([2, 2, 2], [1, 2, 3]) is None


def test_confusion_matrix_rows_follow_the_first_rater() -> None:
    assert confusion_matrix([(0, 1), (0, 1), (3, 3)], LEVELS) == [
        [0, 2, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 1],
    ]
    with pytest.raises(ValueError, match="outside the scale"):
        confusion_matrix([(4, 1)], LEVELS)


def test_compare_separates_applicability_from_the_scores() -> None:
    # Turn 3: the first rater scored 2, the second said not applicable.
    # Both-scored turns: (3, 3) and (1, 1) -> exact 1.0; kappa: marginals (1/2 at 1, 1/2 at 3)
    # for both, expected = 2 * (1/2)(1/2)(4/9) = 2/9, observed 0 -> kappa 1.
    result = compare([3, None, 2, 1], [3, None, None, 1], LEVELS)
    assert result.turns == 4
    assert result.both_scored == 2
    assert result.applicability_agreement == pytest.approx(3 / 4)
    assert result.exact_agreement == 1.0
    assert result.weighted_kappa == pytest.approx(1.0)
    assert result.spearman == pytest.approx(1.0)
    assert result.labels == ("0", "1", "2", "3", "n/a")
    assert result.confusion[2][4] == 1  # 2 against n/a
    assert result.confusion[4][4] == 1  # both n/a


# --- the gold file ---------------------------------------------------------------------------


def test_the_sample_file_parses_with_two_raters() -> None:
    gold = parse_gold(SAMPLE.read_text(encoding="utf-8"), file="sample.csv")
    assert len(gold.turns) == 20
    assert gold.raters == ("r1", "r2")
    first = gold.turns[0]
    assert first.ratings["r1"]["recognition"] == 3
    assert first.ratings["r1"]["power_awareness"] is None  # blank = not applicable
    assert first.markers["r2"] == "none"
    repair = next(t for t in gold.turns if t.id == "s15")
    assert repair.judge_input.previous_repair


def test_every_problem_in_a_gold_file_is_named_with_line_column_and_fix() -> None:
    text = (
        "id,trainee_text,recogniton_r1,authenticity_r1,direction_balance_r1\n"
        "a,Hello.,,4,0\n"
        "a,,,2,3\n"
    )
    with pytest.raises(GoldFileError) as caught:
        parse_gold(text, file="gold.csv")
    problems = "\n".join(caught.value.problems)
    assert "line 1, column 'recogniton_r1': not a column this format knows" in problems
    assert "line 2, column 'authenticity_r1': '4' is not a score" in problems
    assert "from 0 to 3, or leave it blank" in problems
    assert "line 3, column 'id': 'a' is used twice" in problems
    assert "line 3, column 'trainee_text': write the trainee's turn" in problems
    assert "line 3, column 'direction_balance_r1': '3' is not a score" in problems
    assert "from -2 to 2" in problems


def test_a_gold_file_without_rater_columns_is_refused() -> None:
    with pytest.raises(GoldFileError, match="no rater columns"):
        parse_gold("id,trainee_text\na,Hello.\n", file="gold.csv")


# --- the command, end to end -----------------------------------------------------------------


@pytest.fixture
def offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLIANCE_EVALUATOR__PROVIDER", "scripted")
    monkeypatch.setenv("ALLIANCE_CLIENT__PROVIDER", "scripted")


@pytest.mark.usefixtures("offline_env")
def test_calibrate_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "on 20 turns" in out
    assert "Critiques by source: offline: 20" in out
    for dimension in (*DIMENSIONS, "direction_balance"):
        assert dimension in out
    for pair in ("AI-r1", "AI-r2", "r1-r2"):
        assert pair in out
    assert "Confusion matrices" in out


@pytest.mark.usefixtures("offline_env")
def test_calibrate_json_is_parseable_and_consistent(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", str(SAMPLE), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["turns"] == 20
    assert report["raters"] == ["r1", "r2"]
    assert report["critique_sources"] == {"offline": 20}
    assert set(report["dimensions"]) == {*DIMENSIONS, "direction_balance"}
    # The two raters agree on boundaries in every one of the five turns both scored (s05-s08,
    # s19 in the sample), so the human-human figures are exact.
    boundaries = report["dimensions"]["boundaries"]["r1-r2"]
    assert boundaries["both_scored"] == 5
    assert boundaries["exact_agreement"] == 1.0
    assert boundaries["weighted_kappa"] == pytest.approx(1.0)
    for pairs in report["dimensions"].values():
        for pair in ("AI-r1", "AI-r2", "r1-r2"):
            figures = pairs[pair]
            assert figures["turns"] == 20
            matrix = figures["confusion"]["matrix"]
            assert sum(map(sum, matrix)) == 20
            if figures["weighted_kappa"] is not None:
                assert -1.0 <= figures["weighted_kappa"] <= 1.0
    assert set(report["client_marker_kappa"]) == {"AI-r1", "AI-r2", "r1-r2"}


def test_calibrate_names_the_problems_in_a_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "gold.csv"
    bad.write_text("id,trainee_text,recognition_r1\nx,Hello.,7\n", encoding="utf-8")
    assert main(["calibrate", str(bad), "--offline"]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: line 2, column 'recognition_r1': '7' is not a score" in err
    assert "1 problem(s) found" in err


async def test_a_model_judge_is_compared_the_same_way_as_the_offline_one() -> None:
    # A remote-looking judge that answers with the offline judge's critique: the figures must be
    # those of the offline judge, and the report must say the critiques came from the model.
    from app.evaluator import heuristic
    from app.evaluator.calibration import agreement_report, critique_all, report_json
    from app.evaluator.judge import Evaluator
    from app.llm.base import ChatRequest, JsonCompletion
    from app.llm.scripted import ScriptedModel
    from app.prompts import Prompts
    from app.settings import PROJECT_ROOT
    from tests.doubles import FunctionModel

    async def complete(request: ChatRequest) -> JsonCompletion:
        assert isinstance(request.scene, JudgeInput)
        return JsonCompletion(text=heuristic.judge(request.scene).model_dump_json())

    gold = parse_gold(SAMPLE.read_text(encoding="utf-8"), file="sample.csv")
    prompts = Prompts(PROJECT_ROOT / "prompts")
    remote = Evaluator(model=FunctionModel(complete_json=complete), prompts=prompts, max_tokens=10)
    offline = Evaluator(model=ScriptedModel(role="evaluator"), prompts=prompts, max_tokens=10)
    by_model = agreement_report(gold, await critique_all(gold, remote), judge="model")
    by_offline = agreement_report(gold, await critique_all(gold, offline), judge="offline")
    assert by_model.sources == {"llm": 20}
    assert report_json(by_model)["dimensions"] == report_json(by_offline)["dimensions"]
