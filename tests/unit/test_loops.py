"""Where the engine's loop guard ends a reply, and what it lets a stream show meanwhile."""

from __future__ import annotations

from murmurnet.models.llama.job import Job
from murmurnet.models.loops import loop_start, settled_until
from murmurnet.models.transformers_watch import ended_text
from murmurnet.types import GenerationRequest, Message

PROGRAM = (
    "```python\n# Calculate Elsa's spending\nelsa = 2 * emma\n"
    "# Calculate Elsa's spending\nelizabeth = 4 * elsa\n"
)
SENTENCE_LOOP = (
    "地球温暖化の主な原因は、温室効果ガスです。これは、地球の表面に熱源が生じます。"
    "これは、地球の表面に熱源が生じます。これは、地球の表面に熱源が生じます。"
)
NUMBERED_LOOP = (
    "理由は三つあります。\n\n1. 雨の温度が下がります：空気が冷えます。\n\n"
    "2. 雨の温度が下がります：空気が冷えます。\n\n"
    "3. 雨の温度が下がります：空気が冷えます。\n\n4. 雨"
)


def test_a_prose_line_said_again_ends_the_reply_before_it() -> None:
    text = "The answer is four apples.\nLet me check.\nThe answer is four apples.\n"
    assert text[: loop_start(text)] == "The answer is four apples.\nLet me check.\n"


def test_a_line_not_yet_finished_or_too_short_does_not() -> None:
    assert loop_start("The answer is four apples.\nThe answer is four") is None
    assert loop_start("Yes.\nNo.\nYes.\n") is None


def test_a_sentence_said_again_and_again_inside_one_line_ends_before_the_loop() -> None:
    kept = SENTENCE_LOOP[: loop_start(SENTENCE_LOOP)]
    assert kept == "地球温暖化の主な原因は、温室効果ガスです。これは、地球の表面に熱源が生じます。"


def test_numbered_items_that_differ_only_in_their_number_are_a_loop() -> None:
    item = "The air cools down fast."
    text = f"Why:\n1. {item}\n2. {item}\n3. {item}\n"
    assert text[: loop_start(text)].rstrip() == "Why:\n1. The air cools down fast."


def test_one_sentence_said_again_before_new_items_is_not_a_loop() -> None:
    # An English list often repeats one sentence and goes on (benchmarks/results/loop-guard/).
    text = (
        "1. Boots: Bring good boots. Bring water.\n"
        "2. Food: Snacks help. Bring water.\n3. Map: Take a paper map.\n"
    )
    assert loop_start(text) is None


def test_a_line_repeated_inside_a_code_block_does_not() -> None:
    # Cut here, the program would print nothing (GSM8K dev row 267, benchmarks/results/
    # program-guard/).
    assert loop_start(PROGRAM) is None


def test_a_line_repeated_after_the_code_block_closes_does() -> None:
    closed = f"{PROGRAM}print(elizabeth)\n```\nThe program prints the total.\n"
    assert loop_start(closed) is None
    assert loop_start(f"{closed}The program prints the total.\n") == len(closed)


def test_a_phrase_said_four_times_in_a_row_ends_the_reply_after_the_first() -> None:
    looping = "太陽のエネルギーがエネルギーがエネルギーがエネルギーが"
    assert looping[: loop_start(looping)] == "太陽のエネルギーが"
    assert loop_start(looping[:-1]) is None  # the fourth copy is not finished
    # Not a table row's cells, nor digits, nor inside a code block.
    assert loop_start("| Yes | Yes | Yes | Yes | Yes |") is None
    assert loop_start("The ids: 1000, 1000, 1000, 1000, 1000") is None
    assert loop_start("```\nabab abab abab abab abab abab\n") is None


def test_a_decimal_point_or_a_list_number_does_not_end_a_sentence() -> None:
    text = (
        "1. It costs 2.5 dollars now.\n2. It costs 2.5 dollars now.\n3. It costs 2.5 dollars now.\n"
    )
    assert loop_start(text) == text.index("\n2.") + 1


def test_what_may_still_start_a_loop_is_not_shown_yet() -> None:
    said = "It rains. Clouds cool."
    # Of ordinary text only the last characters that repeat earlier ones wait.
    assert len(said) - 2 <= settled_until(said) <= len(said)
    # The start of an earlier sentence, or only a list number, may become a repeat.
    assert settled_until(said + " It ra") == len(said)
    assert settled_until("Why:\n1. Air cools.\n2") == len("Why:\n1. Air cools.")
    # A repeat is held until what follows shows it is not a loop.
    assert settled_until(said + " It rains. ") == len(said)
    assert settled_until(said + " It rains. Wind") >= len(said + " It rains. W")
    # A phrase said again is held from its first character.
    assert settled_until("太陽のエネルギーがエネルギ") == len("太陽のエネルギーが")


def test_the_stream_shows_exactly_what_the_reply_keeps() -> None:
    shown: list[str] = []
    request = GenerationRequest(messages=[Message(role="user", content="雨は？")], max_tokens=500)
    job = Job(prompt=[1], request=request, on_piece=shown.append)
    for character in NUMBERED_LOOP:
        if not job.done:
            job.accept(character.encode())
    assert job.done
    assert job.text == "理由は三つあります。\n\n1. 雨の温度が下がります：空気が冷えます。"
    assert "".join(shown) == job.text


def test_the_transformers_backend_ends_a_row_at_a_stop_string_or_a_loop() -> None:
    looping = "Why:\n1. The air cools.\n2. The air cools.\n3. The air cools.\n4."
    assert ended_text(looping, [], guard=True) == "Why:\n1. The air cools."
    assert ended_text(looping, [], guard=False) is None
    assert ended_text(looping, [" cools"], guard=True) == "Why:\n1. The air"
    assert ended_text("It rains. Clouds", [], guard=True) is None
