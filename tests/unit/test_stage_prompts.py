from __future__ import annotations

import pytest

from murmurnet.config.settings import RoleSpec
from murmurnet.murmur.prompts import agent_messages, dissent_messages, stage_texts

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
