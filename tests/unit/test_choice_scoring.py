"""benchmarks/choice_scoring.py: the rankings, on given scores (no model)."""

from __future__ import annotations

from murmurnet.evaluation.dataset import EvalRow
from murmurnet.types import ContinuationScore
from tests.unit.benchmark_scripts import load_benchmark

ROW = EvalRow(
    id="r", question="q", answer="かばん", kind="choice", choices=["か", "かばん"], lang="ja"
)


def scores(*logprobs: float) -> list[ContinuationScore]:
    return [
        ContinuationScore(text=text, logprob=lp, tokens=len(text))
        for text, lp in zip(ROW.choices, logprobs, strict=True)
    ]


def test_pmi_takes_away_what_the_option_scores_without_the_question() -> None:
    script = load_benchmark("choice_scoring")
    # After the question "か" is likelier per character; without it, far likelier still.
    given = {"question": scores(-1.0, -4.0), "options alone": scores(-0.1, -6.0)}
    given["answer line"] = scores(-1.0, -4.0)
    assert not script.correct(given, script.RANKINGS["per character (shipped)"], ROW)
    assert script.correct(given, script.RANKINGS["PMI against the options alone"], ROW)
    assert not script.correct(given, script.RANKINGS["PMI against a bare answer line"], ROW)
    # Per character -1.0 against -1.33; per token the same here (one token a character).
    assert not script.correct(given, script.RANKINGS["per token"], ROW)


def test_the_prompt_without_the_question_lists_the_options_alone() -> None:
    script = load_benchmark("choice_scoring")
    assert script.options_only(ROW) == "1. か\n2. かばん"
    assert script.PROMPTS["answer line"](ROW) == "答え："
