"""When the engine's repeat guard ends a reply."""

from __future__ import annotations

from murmurnet.models.llama.job import ends_with_repeated_line

PROGRAM = (
    "```python\n# Calculate Elsa's spending\nelsa = 2 * emma\n"
    "# Calculate Elsa's spending\nelizabeth = 4 * elsa\n"
)


def test_a_prose_line_said_again_ends_the_reply() -> None:
    text = "The answer is four apples.\nLet me check.\nThe answer is four apples.\n"
    assert ends_with_repeated_line(text)


def test_a_line_not_yet_finished_or_too_short_does_not() -> None:
    assert not ends_with_repeated_line("The answer is four apples.\nThe answer is four")
    assert not ends_with_repeated_line("Yes.\nNo.\nYes.\n")


def test_a_line_repeated_inside_a_code_block_does_not() -> None:
    # Cut here, the program would print nothing (GSM8K dev row 267, benchmarks/results/
    # program-guard/).
    assert not ends_with_repeated_line(PROGRAM)


def test_a_line_repeated_after_the_code_block_closes_does() -> None:
    closed = f"{PROGRAM}print(elizabeth)\n```\nThe program prints the total.\n"
    assert not ends_with_repeated_line(closed)
    assert ends_with_repeated_line(f"{closed}The program prints the total.\n")
