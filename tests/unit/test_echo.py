"""The output agent never hands the notes' headings or a peer's notes to the user."""

from __future__ import annotations

import pytest

from murmurnet import GenerationRequest, RunConfig, Runtime, ScriptedBackend
from murmurnet.murmur.echo import echo_stops, trim_echo

pytestmark = pytest.mark.usefixtures("open_discussion")

ECHO_AFTER = "水の化学式はH2Oです。\n\n### チームのメモ\n### 研究者（ラウンド1）\n水は酸です。"
ECHO_FIRST = "## 質問\n水について教えてください。\n\n水の化学式はH2Oです。"
ECHO_DEEPER = "水の化学式はH2Oです。\n\n#### 専門家（ラウンド1）\n- 水は酸です。"
ECHO_LISTED = "水の化学式はH2Oです。\n\n2. 専門家（ラウンド1）\n水は酸です。"
ECHO_BOLD = "水の化学式はH2Oです。\n\n**チームのメモ:** 課題の答えは直接回答します。"
TASK_AFTER = "水の化学式はH2Oです。\nチームには触れないでください。\n水は酸です。"
TASK_FIRST = "日本語で質問への返答として書いてください。内容は変えず、\n\n水の化学式はH2Oです。"
TASK_LAST = "水の化学式はH2Oです。\n\n質問に日本語で、簡潔かつ正確に答えてください。"
PREFACE = "日本語で答える:\n\n水の化学式はH2Oです。"
SUMMARY_TASK = "水の化学式はH2Oです。\n\n新しい事実は加えないでください。"


def team(output: str, honour_stops: bool, word_delay: float = 0.0) -> ScriptedBackend:
    def reply(request: GenerationRequest) -> str:
        return output if request.tag == "output" else f"{request.tag}: 水はH2Oです。"

    return ScriptedBackend(reply, honour_stops=honour_stops, word_delay=word_delay)


@pytest.mark.parametrize("word_delay", [0.0, 1e-4])  # whole replies, or word by word
@pytest.mark.parametrize("honour_stops", [True, False])
@pytest.mark.parametrize(
    "output",
    [
        *(ECHO_AFTER, ECHO_FIRST, ECHO_DEEPER, ECHO_BOLD, ECHO_LISTED),
        *(TASK_AFTER, TASK_FIRST, TASK_LAST, PREFACE, SUMMARY_TASK),
    ],
)
def test_the_answer_carries_no_heading_or_notes_echo(
    output: str, honour_stops: bool, word_delay: float
) -> None:
    fake = team(output, honour_stops, word_delay)
    streamed: list[str] = []
    with Runtime(RunConfig(agents=2), backends={"default": fake}) as runtime:
        answer = runtime.run("水について教えてください。", on_token=streamed.append)
    assert answer.text == "水の化学式はH2Oです。"
    assert "".join(streamed).strip() == answer.text  # the echo never reached the screen


def test_stop_strings_come_from_the_renderer_headings_in_both_languages() -> None:
    fake = team("H2O", honour_stops=True)
    with Runtime(RunConfig(agents=2), backends={"default": fake}) as runtime:
        runtime.run("水について教えてください。")
    stops = next(r for r in fake.requests if r.tag == "output").stop
    notes = next(r for r in fake.requests if r.tag == "output").messages[0].content
    for heading in [line for line in notes.splitlines() if line.startswith("#")]:
        assert any(heading.startswith(stop.lstrip("\n")) for stop in stops), heading
    for english in ("\n## Question", "\n## Documents", "\n## Notes from the team"):
        assert english in stops


def test_an_answer_that_merely_repeats_a_peer_is_kept() -> None:
    notes = "## 質問\n水とは？\n\n## チームのメモ\n### 研究者（ラウンド1）\n水の化学式はH2Oです。"
    assert trim_echo("水の化学式はH2Oです。", notes, {"researcher": "研究者"}) == (
        "水の化学式はH2Oです。"
    )


def test_markdown_headings_of_the_answer_itself_are_not_stops() -> None:
    stops = echo_stops({"researcher": "Researcher"})
    assert "\n## " not in stops and "\n### " not in stops
    assert trim_echo("Plan:\n## Step 1\nBuy flour.", "", {}) == "Plan:\n## Step 1\nBuy flour."


def test_english_answers_stream_whole_and_unchanged() -> None:
    text = "Water is H2O.\nIt boils at 100 C.\nQ"
    fake = team(text, honour_stops=True, word_delay=1e-4)
    streamed: list[str] = []
    with Runtime(RunConfig(agents=1), backends={"default": fake}) as runtime:
        answer = runtime.run("Tell me about water.", on_token=streamed.append)
    assert answer.text == text and "".join(streamed) == text


@pytest.mark.parametrize("word_delay", [0.0, 1e-4])
def test_a_reply_that_only_says_the_question_again_is_no_answer(word_delay: float) -> None:
    fake = team("水について教えてください。", honour_stops=True, word_delay=word_delay)
    streamed: list[str] = []
    with Runtime(RunConfig(agents=2), backends={"default": fake}) as runtime:
        answer = runtime.run("水について教えてください。", on_token=streamed.append)
    assert answer.text == "summary 1: 水はH2Oです。"  # the last summary stands in
    assert "".join(streamed).strip() == answer.text  # the echo never reached the screen


@pytest.mark.parametrize("word_delay", [0.0, 1e-4])
def test_the_question_said_again_before_the_answer_is_dropped(word_delay: float) -> None:
    fake = team("水について教えてください。\n\n水の化学式はH2Oです。", True, word_delay)
    streamed: list[str] = []
    with Runtime(RunConfig(agents=2), backends={"default": fake}) as runtime:
        answer = runtime.run("水について教えてください。", on_token=streamed.append)
    assert answer.text == "水の化学式はH2Oです。" == "".join(streamed).strip()


def test_an_answer_that_starts_like_the_question_streams_as_it_is() -> None:
    fake = team("水の性質を一つ挙げると、透明です。", honour_stops=True, word_delay=1e-4)
    streamed: list[str] = []
    with Runtime(RunConfig(agents=2), backends={"default": fake}) as runtime:
        answer = runtime.run("水の性質を一つ教えてください。", on_token=streamed.append)
    assert answer.text == "水の性質を一つ挙げると、透明です。" == "".join(streamed)


def test_a_line_that_only_shares_words_with_the_task_is_kept() -> None:
    reply = "水の性質を簡潔に答えると、透明です。\nチームの答えと同じです。"
    assert trim_echo(reply, "", {}) == reply
    assert trim_echo("Do not mention the team.\nParis.", "", {}) == "Paris."


@pytest.mark.parametrize(
    "preface",
    ["日本語：", "日本語で答えます。", "**In Japanese:**", "日本語で、以下のように答えます："],
)
def test_a_first_line_that_only_names_the_language_is_dropped(preface: str) -> None:
    assert trim_echo(f"{preface}\n水の化学式はH2Oです。", "", {}) == "水の化学式はH2Oです。"


@pytest.mark.parametrize("word_delay", [0.0, 1e-4])
def test_an_answer_about_the_language_itself_is_kept(word_delay: float) -> None:
    text = "日本語は膠着語です。\n日本語：主語を省くことが多い。"
    fake = team(text, honour_stops=True, word_delay=word_delay)
    streamed: list[str] = []
    with Runtime(RunConfig(agents=2), backends={"default": fake}) as runtime:
        answer = runtime.run("日本語の特徴を教えてください。", on_token=streamed.append)
    assert answer.text == text == "".join(streamed)
