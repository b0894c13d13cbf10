"""The plain baselines: the question alone, greedy; and the likeliest listed option."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from murmurnet import MurmurNet, RunConfig, ScriptedBackend
from murmurnet.errors import UnsupportedError
from murmurnet.options import listed_options
from murmurnet.types import Message

QUESTION = "主に食品を販売する所は？\n1. スーパー\n2. 洋品店\n3. 書店"


def test_plain_sends_the_question_alone_greedy() -> None:
    fake = ScriptedBackend(["It is 42."])
    with MurmurNet(RunConfig(output_temp=0.9, strategy="plain"), backends={"default": fake}) as net:
        answer = net.ask("What is 6 times 7?")
    assert answer.text == "It is 42."
    (request,) = fake.requests
    assert [m.role for m in request.messages] == ["user"]  # no system text
    assert request.messages[0].content == "What is 6 times 7?"
    assert request.temperature == 0.0


def likelihood(messages: Sequence[Message], text: str) -> float:
    """Likes 書店 best in total, スーパー best per character."""
    return {"スーパー": -2.0, "洋品店": -6.0, "書店": -1.8}[text]


def test_plain_likelihood_picks_the_likeliest_option_per_character() -> None:
    fake = ScriptedBackend([], likelihood=likelihood)
    with MurmurNet(RunConfig(strategy="plain+likelihood"), backends={"default": fake}) as net:
        answer = net.ask(QUESTION)
    assert answer.text == "スーパー"  # -0.5 per character against -0.9 for 書店
    assert fake.scored == [["スーパー", "洋品店", "書店"]]
    assert fake.requests == []  # nothing generated
    assert [t.stage for t in answer.timings] == ["output"]


def test_plain_likelihood_without_options_is_plain() -> None:
    fake = ScriptedBackend(["Tokyo."], likelihood=likelihood)
    with MurmurNet(RunConfig(strategy="plain+likelihood"), backends={"default": fake}) as net:
        answer = net.ask("What is the capital of Japan?")
    assert answer.text == "Tokyo." and fake.scored == []


def test_plain_likelihood_on_a_model_that_cannot_score_is_a_typed_error() -> None:
    fake = ScriptedBackend([])
    with (
        MurmurNet(RunConfig(strategy="plain+likelihood"), backends={"default": fake}) as net,
        pytest.raises(UnsupportedError, match="likelihood"),
    ):
        net.ask(QUESTION)


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("Which?\n1. red\n2. blue\n3. green", ["red", "blue", "green"]),
        ("Pick one:\n(a) cat\n(b) dog", ["cat", "dog"]),
        ("どれ？\nア、りんご\nイ、みかん", ["りんご", "みかん"]),
        ("質問です\n選択肢：温泉、ホテル、理容室", ["温泉", "ホテル", "理容室"]),
        ("Steps:\n1. mix\n3. bake", []),  # not in sequence
        ("Only one:\n1. alone", []),
        ("No options at all?", []),
        # a circled number is a digit to Python, but not one int() reads (JCQA dev row 266)
        ("① 書斎。 ② 書店。これはなに？\n1. 棚\n2. 図書館", ["棚", "図書館"]),
        ("どれ？\n① 棚\n② 図書館", ["棚", "図書館"]),
        # All on one line, after the question or before it.
        ("Who wrote it? a. Poe b. Twain c. Melville", ["Poe", "Twain", "Melville"]),
        ("Which gas? (i) oxygen (ii) helium (iii) neon.", ["oxygen", "helium", "neon"]),
        ("Options: 1. Rome 2. Oslo — which is in Norway?", ["Rome", "Oslo"]),
        ("A synonym of big? 1) huge 2) tiny", ["huge", "tiny"]),
        ("①犬 ②猫 ③鳥　この中で飛ぶのは？", ["犬", "猫", "鳥"]),
        ("正しいものを選べ (1) 月は光る (2) 水は燃える", ["月は光る", "水は燃える"]),
        ("素数はどれ？　ア. 21　イ. 23　ウ. 25", ["21", "23", "25"]),
        # A bare capital or kana, in a run of three lines.
        ("Boils at?\nA 90°C\nB 100°C\nC 110°C", ["90°C", "100°C", "110°C"]),
        ("哺乳類は？\nア クジラ\nイ サメ\nウ マグロ", ["クジラ", "サメ", "マグロ"]),
        # Under a header line, or bulleted in a question that asks to pick one.
        ("どれ？\n選択肢：\n鎌倉幕府\n室町幕府\n江戸幕府", ["鎌倉幕府", "室町幕府", "江戸幕府"]),
        ("Which is largest?\n- Atlantic\n- Pacific", ["Atlantic", "Pacific"]),
        # Labels straight before Japanese words, bare kana on one line, roman numerals one
        # per line, numbers after "… is:", bullets under どっち.
        ("司法は？ a.国会 b.内閣 c.裁判所", ["国会", "内閣", "裁判所"]),
        ("一番広いのは？ ア 岩手県\u3000イ 北海道\u3000ウ 長野県", ["岩手県", "北海道", "長野県"]),
        ("(i) 水星\n(ii) 金星\n(iii) 火星\n一番近いのは？", ["水星", "金星", "火星"]),
        ("The author is: 1) Brontë 2) Austen 3) Shelley", ["Brontë", "Austen", "Shelley"]),
        (
            "正しいのはどっち？\n- 自分に返る\n- 相手のためにならない",
            ["自分に返る", "相手のためにならない"],
        ),
        # Named in the sentence that asks to pick one.
        (
            "Which is the largest ocean: Atlantic, Indian, or Pacific?",
            ["Atlantic", "Indian", "Pacific"],
        ),
        (
            "Pick the odd one out: apple, banana, carrot, grape",
            ["apple", "banana", "carrot", "grape"],
        ),
        ("赤くなるのは酸性・中性・アルカリ性のどれ", ["酸性", "中性", "アルカリ性"]),
        ("ダメなのって、キャベツ・ブドウ・にんじんのうちどれ", ["キャベツ", "ブドウ", "にんじん"]),
        ("Pythonでappendとextendのどっち？", ["append", "extend"]),
        # Not options: the asker's taste, a plan on one line, two bare capitals, prose, what
        # the asker has.
        ("Which should I learn: Python or Rust?", []),
        ("通勤には電車・バス・自転車のどれがいい？", []),
        ("What can I cook with:\n- rice\n- eggs", []),
        ("手順 1. 混ぜる 2. 焼く 3. 冷ます", []),
        ("Grades:\nA good\nB fine", []),
        ("I met a. Smith and b. Jones.", []),
    ],
)
def test_listed_options(text: str, options: list[str]) -> None:
    assert listed_options(text) == options
