"""End to end on the bundled models: real answers with real properties."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata

import pytest

from murmurnet import MurmurNet, RunConfig
from murmurnet.config import default_cache_folder
from murmurnet.models.base import Backend
from murmurnet.question import detect_language

pytestmark = pytest.mark.integration


def ask(backends: dict[str, Backend], question: str, **settings: object):  # type: ignore[no-untyped-def]
    config = RunConfig(**{"seed": 11, **settings})  # type: ignore[arg-type]
    with MurmurNet(config, backends=backends) as net:
        return net.ask(question)


def test_japanese_two_agents_one_round(qwen: Backend) -> None:
    answer = ask(
        {"default": qwen},
        "水の化学式は何ですか？水の性質を一つ教えてください。",
        agents=2,
        iterations=1,
        open_answer="discuss",
    )
    contributions = answer.contributions()
    assert len(contributions) == 2
    assert len({c.role for c in contributions}) == 2
    assert all(c.text for c in contributions)
    assert len(answer.summaries()) == 1 and answer.summaries()[0].text
    assert answer.language == "ja" and detect_language(answer.text) == "ja"
    assert "H2O" in unicodedata.normalize("NFKC", answer.text)
    assert answer.completion_tokens > 0


def test_english_three_agents_two_rounds(qwen: Backend) -> None:
    answer = ask(
        {"default": qwen},
        "Tell me about the capital of France in one sentence.",
        agents=3,
        iterations=2,
    )
    contributions = answer.contributions()
    assert len(contributions) == 6
    for round_number in (1, 2):
        assert len({c.role for c in contributions if c.round == round_number}) == 3
    assert [s.round for s in answer.summaries()] == [1, 2]
    assert answer.language == "en" and detect_language(answer.text) == "en"
    assert "Paris" in answer.text
    # round 2 re-used round 1's cached prompt instead of decoding it again
    round_two = [t for t in answer.timings if t.stage == "round 2"]
    assert all(t.cached_tokens > 0 for t in round_two)


def test_programmer_agent_runs_its_program(qwen: Backend) -> None:
    question = "A shop has 6 boxes with 7 apples in each box. How many apples are there in total?"
    answer = ask({"default": qwen}, question, agents=3, internal_tokens=200, consensus="vote")
    assert answer.question_type == "calculation"
    programmer = next(c for c in answer.contributions() if c.role == "programmer")
    assert "```" in programmer.text  # the coder model answers with a program …
    assert "Program output: 42" in programmer.text  # … which the calculator ran
    assert "42" in answer.text


def test_gemma_summarises_for_qwen_agents(qwen: Backend, gemma: Backend) -> None:
    answer = ask(
        {"default": qwen, "gemma": gemma},
        "Name one primary colour.",
        agents=2,
        summary_model="gemma",
        output_tokens=60,
        open_answer="discuss",
    )
    assert answer.summaries()[0].text.strip()
    assert answer.text.strip()


def test_no_parallel_gives_the_same_shape(qwen: Backend) -> None:
    question = "Tell me about the capital of Japan in one sentence."
    answer = ask(
        {"default": qwen}, question, agents=2, parallel=False, summary=False, open_answer="discuss"
    )
    assert len(answer.contributions()) == 2 and answer.summaries() == []
    assert "Tokyo" in answer.text


def test_cli_json_end_to_end() -> None:
    env = {**os.environ, "MURMURNET_CACHE_FOLDER": str(default_cache_folder())}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "murmurnet",
            "ask",
            "Tell me about the capital of Japan in one sentence.",
            "--json",
            "--agents",
            "2",
            "--seed",
            "3",
            "--output-tokens",
            "80",
            "--open-answer",
            "discuss",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert "Tokyo" in data["answer"]
    assert {e["kind"] for e in data["entries"]} >= {"question", "contribution", "summary", "final"}
    assert set(data["stage_seconds"]) == {"input", "load", "round 1", "summary 1", "output"}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_demo_answer_carries_no_heading_or_notes_echo(qwen: Backend, seed: int) -> None:
    """The output agent once echoed `### チームのメモ` and notes (`make demo`'s question then)."""
    question = "水の化学式は何ですか？水の性質を一つ教えてください。"
    answer = ask({"default": qwen}, question, agents=2, seed=seed, open_answer="discuss")
    assert answer.text.strip()
    for echo in ("##", "チームのメモ", "ラウンド1", "（ラウンド", "Notes from the team"):
        assert echo not in answer.text, answer.text


def test_open_questions_by_default_plain_in_english_recalled_in_english_for_japanese(
    qwen: Backend,
) -> None:
    """No murmur of agents was judged better than the plain answer on open questions
    (benchmarks/results/open-agreement/): English gets it, Japanese the English recall."""
    english = ask({"default": qwen}, "Why do onions make you cry when you cut them?")
    # the question alone, greedy, once: no agents, no summary, no output agent
    (call,) = english.timings
    assert english.text.strip() and english.contributions() == [] and call.agent is None
    assert detect_language(english.text) == "en" and english.completion_tokens > 10
    japanese = ask({"default": qwen}, "睡眠不足が体に与える影響について説明してください。")
    assert [c.role for c in japanese.contributions()] == ["bilingual"]
    assert detect_language(japanese.contributions()[0].text) == "en"
    assert japanese.text.strip() and detect_language(japanese.text) == "ja"
    assert "この答えを使って" not in japanese.text


def test_an_english_question_of_fact_is_the_plain_answer(qwen: Backend) -> None:
    """Two sampled agents outvoted a right plain answer 3 times in 60, never the other way
    (benchmarks/results/factoid-en/)."""
    answer = ask({"default": qwen}, "What is the capital of Turkey?")
    (call,) = answer.timings
    assert answer.contributions() == [] and call.agent is None
    assert "Ankara" in answer.text


def test_a_closed_pipe_stops_the_real_engine() -> None:
    """`murmurnet ask … | head -1` once hung: the engine's worker died on BrokenPipeError."""
    env = {**os.environ, "MURMURNET_CACHE_FOLDER": str(default_cache_folder())}
    command = (
        f"{sys.executable} -m murmurnet ask 'List twenty animals, one per line.' "
        "--agents 1 --no-summary --internal-tokens 8 --output-tokens 300 --seed 1 | head -1"
    )
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert done.stdout.count("\n") == 1
    assert "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("question", "right"),
    [
        ("雨の日に外を歩くときに差すものは？\n1. 本\n2. 傘\n3. 皿\n4. 靴", "傘"),
        ("What do bees make?\n1. honey\n2. glass\n3. paper\n4. steel", "honey"),
        # options on the question's line, and bare kana labels (no punctuation after them)
        (
            "Who painted the Mona Lisa? a. Michelangelo b. Leonardo da Vinci c. Raphael",
            "Leonardo da Vinci",
        ),
        ("「枕草子」の作者は？\nア 紫式部\nイ 清少納言\nウ 和泉式部", "清少納言"),
    ],
)
def test_gemma_ranks_the_options_of_a_choice_question(
    qwen: Backend, gemma: Backend, question: str, right: str
) -> None:
    answer = ask({"default": qwen, "gemma": gemma}, question, choice_model="gemma")
    assert answer.text == right
    assert [t.stage for t in answer.timings] == ["likelihood", "likelihood"]  # no generation


def test_a_long_span_answer_is_sent_to_the_cut_and_stays_an_agents_words(qwen: Backend) -> None:
    """Asked why, the small model copies the whole sentence of the text; the cut asks again
    about that sentence alone and may only keep a shorter piece of it, never new words.
    Whether it finds a shorter piece depends on the model's greedy reply, which can change
    with the batch it was decoded in (on one fresh clone it repeated the whole sentence):
    what must hold is that the cut was asked and the answer is an agent's reply or a piece of
    one."""
    question = (
        "文章を読んで、質問に文章中の短い語句だけで答えてください。\n文章: 空港\n"
        "空港は航空機の発着のための広い敷地とさらに広大な空域を必要とし、騒音問題もあるため、"
        "大都市から少し離れた郊外や海上に設置されることがある。\n"
        "質問: 空港が広い敷地を必要とするのはなぜか？\n答え:"
    )
    answer = ask({"default": qwen}, question)
    replies = [unicodedata.normalize("NFKC", c.text) for c in answer.contributions()]
    assert [t.stage for t in answer.timings][-1] == "span cut"
    cut = unicodedata.normalize("NFKC", answer.text).strip("。 ")
    assert cut and any(cut in reply for reply in replies), (answer.text, replies)
