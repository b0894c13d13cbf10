from __future__ import annotations

import pytest

from murmurnet.config.settings import RoleSpec
from murmurnet.murmur.prompts import agent_messages, dissent_messages, output_messages, stage_texts

CRITIC = RoleSpec(title="Critic", persona="You check claims.", instruction="Be exact.")


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_persona_is_its_own_sentence_in_every_task(language: str) -> None:
    texts = stage_texts(language)
    for messages in (
        agent_messages(texts, "notes", CRITIC),
        dissent_messages(texts, "notes", CRITIC, ["4", "5"]),
    ):
        task = messages[-1].content
        assert task.startswith("You check claims.")
        assert "claims.O" not in task and "claims.A" not in task


@pytest.mark.parametrize("agreed", [None, "東京"])
def test_the_output_task_names_the_language_only_when_it_is_not_the_questions(
    agreed: str | None,
) -> None:
    """Told "日本語で" about a Japanese question, the small model began its reply
    "日本語で答えると以下の通りです" on JSQuAD dev rows, where the scorer reads the first line."""
    texts = stage_texts("ja")
    same = output_messages(texts, "notes", "日本の首都は？", "ja", agreed=agreed)[-1].content
    assert "日本語" not in same and "質問：日本の首都は？" in same
    other = output_messages(texts, "notes", "日本の首都は？", "en", agreed=agreed)[-1].content
    assert "英語で、" in other
    english = stage_texts("en")
    task = output_messages(english, "notes", "Capital?", "ja", agreed=agreed)[-1].content
    assert "question in Japanese" in task
