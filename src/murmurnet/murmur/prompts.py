"""Messages for each stage. What all agents share comes first, what differs comes last.

The system message carries the shared part (team intro, question, blackboard); the user
message carries only the role or stage task, kept short. A batching backend decodes the
shared part once for all agents and keeps it cached for the next stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import yaml

from murmurnet.blackboard import Labels
from murmurnet.config import RoleSpec
from murmurnet.question import Language
from murmurnet.types import Message


@dataclass(frozen=True)
class StageTexts:
    language: Language
    shared_intro: str
    agent_task: str
    summary_task: str
    output_task: str
    agreed_task: str
    """The output agent's task when the agents committed to an answer."""
    approval_task: str
    ranking_task: str
    dissent_task: str
    cite_task: str
    single_system: str
    tool_result: str
    tool_failed: str
    labels: Labels
    language_names: dict[str, str]
    answer_line: str
    """What opens an answer on a test sheet ("答え:"): a base model ranks options after the
    question and this line (`option_rank.likeliest_option`)."""
    recall_in_english: str | None = None
    """Appended to a question of fact to have it answered in English (None: not needed)."""
    from_english_task: str | None = None
    """The output agent's task: the answer recalled in English, written in this language."""
    from_english_open_task: str | None = None
    """The same for an open question: the answer written out, not in one sentence."""
    span_cut_task: str | None = None
    """Asks for the phrase of a long answer that answers the question (None: never cut)."""


@cache
def stage_texts(language: Language) -> StageTexts:
    source = files("murmurnet.prompts").joinpath(f"stages.{language}.yaml")
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    return StageTexts(
        language=language,
        shared_intro=raw["shared_intro"],
        agent_task=raw["agent_task"],
        summary_task=raw["summary_task"],
        output_task=raw["output_task"],
        agreed_task=raw["agreed_task"],
        approval_task=raw["approval_task"],
        ranking_task=raw["ranking_task"],
        dissent_task=raw["dissent_task"],
        cite_task=raw["cite_task"],
        single_system=raw["single_system"],
        tool_result=raw["tool_result"],
        tool_failed=raw["tool_failed"],
        labels=Labels(
            question=raw["question_heading"],
            history=raw["history_heading"],
            passages=raw["passages_heading"],
            notes=raw["notes_heading"],
            contribution=raw["contribution_label"],
            summary=raw["summary_label"],
            agreement=raw["agreement_label"],
        ),
        language_names=raw["language_names"],
        answer_line=raw["answer_line"],
        recall_in_english=raw.get("recall_in_english"),
        from_english_task=raw.get("from_english_task"),
        from_english_open_task=raw.get("from_english_open_task"),
        span_cut_task=raw.get("span_cut_task"),
    )


def _shared(texts: StageTexts, notes: str) -> Message:
    return Message(role="system", content=f"{texts.shared_intro}\n\n{notes}")


def agent_messages(texts: StageTexts, notes: str, role: RoleSpec) -> list[Message]:
    """The question is in the shared notes only: each agent adds just its short role text,
    so a batch of agents decodes the question once."""
    task = texts.agent_task.format(
        title=role.title, persona=role.persona, instruction=role.instruction
    )
    return [_shared(texts, notes), Message(role="user", content=task)]


def dissent_messages(
    texts: StageTexts, notes: str, role: RoleSpec, peers: Sequence[str]
) -> list[Message]:
    """A later round: the peers' last answers lettered and without names, in the order the
    caller shuffled them, so that no answer is followed for who gave it; the agent is asked
    to say where it disagrees before it answers again."""
    listed = "\n\n".join(f"{chr(ord('A') + i)}: {peer.strip()}" for i, peer in enumerate(peers))
    task = texts.dissent_task.format(
        persona=role.persona, instruction=role.instruction, answers=listed
    )
    return [_shared(texts, notes), Message(role="user", content=task)]


def summary_messages(texts: StageTexts, notes: str, round_number: int) -> list[Message]:
    task = texts.summary_task.format(round=round_number)
    return [_shared(texts, notes), Message(role="user", content=task)]


def output_messages(
    texts: StageTexts,
    notes: str,
    question: str,
    answer_language: Language,
    cite: bool = False,
    agreed: str | None = None,
) -> list[Message]:
    """The output agent's prompt: the reply from the notes, or from the `agreed` answer."""
    language_name = texts.language_names[answer_language]
    if agreed is None:
        task = texts.output_task.format(question=question, language_name=language_name)
    else:
        task = texts.agreed_task.format(
            question=question, language_name=language_name, answer=agreed
        )
    if cite:
        task = f"{texts.cite_task}\n{task}"
    return [_shared(texts, notes), Message(role="user", content=task)]


def approval_messages(
    texts: StageTexts, notes: str, role: RoleSpec, proposer: int, proposal: str
) -> list[Message]:
    task = texts.approval_task.format(
        persona=role.persona, agent=proposer + 1, proposal=proposal.strip()
    )
    return [_shared(texts, notes), Message(role="user", content=task)]


def ranking_messages(texts: StageTexts, question: str, answers: Sequence[str]) -> list[Message]:
    """The question and the answers to rank, lettered: no agent's name, title or round, so
    no answer is trusted for who gave it."""
    letters = [chr(ord("A") + i) for i in range(len(answers))]
    listed = "\n\n".join(f"{letters[i]}: {answer.strip()}" for i, answer in enumerate(answers))
    task = texts.ranking_task.format(answers=listed, example=", ".join(reversed(letters)))
    return [Message(role="user", content=f"{question}\n\n{task}")]


def single_messages(texts: StageTexts, question: str, notes: str = "") -> list[Message]:
    """One plain answer: the honest baseline a murmur has to beat (documents, if any, first)."""
    system = f"{texts.single_system}\n\n{notes}" if notes else texts.single_system
    return [Message(role="system", content=system), Message(role="user", content=question)]
