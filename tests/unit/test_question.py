from __future__ import annotations

import unicodedata
from importlib.resources import files
from typing import Any

import pytest
import yaml

from murmurnet.errors import InputError
from murmurnet.evaluation.prompting import _INSTRUCTIONS, _LABELS, _PLAIN_LABELS, _PLAIN_REQUESTS
from murmurnet.options import asks_for_the_exception, question_stem
from murmurnet.question import (
    _keyword,
    asked_question,
    classify,
    detect_language,
    explain,
    has_pasted_text,
    normalise,
    passage_and_question,
    read_question,
)


def test_normalise_nfkc_and_spaces() -> None:
    assert normalise("  ＡＢＣ　 １２３  \n\n x ") == "ABC 123\nx"


def test_normalise_keeps_powers_and_circled_numbers() -> None:
    """NFKC alone would read "3²" as "32" and "①" as "1"."""
    assert normalise("What is ３²？") == "What is 3²?"
    assert normalise("①東京\n②大阪") == "①東京\n②大阪"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("日本の首都はどこですか？", "ja"),
        ("What is the capital of Japan?", "en"),
        ("Pythonでリストを並べ替える方法は？", "ja"),
        ("Explain the GIL in CPython and 並行処理", "en"),
    ],
)
def test_language(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("What are the pros and cons of remote work?", "discussion"),
        ("在宅勤務のメリットとデメリットを比較して", "discussion"),
        ("Should I learn Python or Rust?", "discussion"),
        ("How should I plan a three-day trip to Kyoto?", "planning"),
        ("引っ越しの準備の手順を教えて", "planning"),
        ("1. Buy milk\n2. Call mom\nHow should I plan my day?", "planning"),
        ("こんにちは、元気ですか？", "conversational"),
        ("Hi!", "conversational"),
        ("What is the boiling point of water?", "factoid"),
        ("How many bones are in the adult human body?", "factoid"),
        ("What's the chemical formula for table salt?", "factoid"),
        ("longest river in Africa?", "factoid"),
        ("富士山の高さは？", "factoid"),
        ("金の元素記号って何だっけ", "factoid"),
        ("日本の都道府県はいくつある？", "factoid"),
        ("東京スカイツリーの高さは何メートル？", "factoid"),
        ("京都に3日間行くんだけど、どこを回ればいい？", "informational"),  # advice, not a fact
        ("光合成とは何ですか？", "informational"),
        ("What is photosynthesis?", "informational"),
        ("Which planet is the largest?", "factoid"),
        ("How many people live in Tokyo?", "informational"),  # no numbers to work with
        ("What happened in 1969?", "informational"),
        ("What happened on 2024/01/05?", "informational"),
        ("What is 1920x1080 called?", "informational"),
        ("What is the difference between Python 2 and 3?", "informational"),
        ("What is a prime number?", "informational"),
        ("Who was the prime minister in 1990?", "factoid"),
        ("日本の首都はどこですか？", "factoid"),
        ("水の化学式は何ですか？", "factoid"),
        ("「坊っちゃん」を書いたのは誰ですか？", "factoid"),
        ("就職の面接で好印象を与えるためのコツは何ですか？", "informational"),
        ("コーヒーに含まれるカフェインの効果は何ですか？", "informational"),
        ("Which is better, Python or Rust?", "discussion"),
        ("なぜ空は青いのですか？", "informational"),
        ("エベレストの標高って何メートルだっけ", "factoid"),
        ("光の速さって秒速何km？", "factoid"),
        ("金の元素記号なんだっけ", "factoid"),
        ("Roughly what's the speed of sound at sea level?", "factoid"),
        ("北海道の面積は？", "factoid"),  # one area, no measures to work from
        ("会議は何時からですか？", "informational"),
    ],
)
def test_question_types(text: str, kind: str) -> None:
    assert classify(normalise(text)) == kind


@pytest.mark.parametrize(
    "text",
    [
        "What is 17 * 23?",
        "17×23は？",
        "１７×２３は？",
        "3+4",
        "12÷4",
        "2^10",
        "What is 10 - 3?",
        "What is √144?",
        "What is 3²?",
        "What is 17 times 23?",
        "17かける23は？",
        "10から3を引くといくつ？",
        "What is 15% of 80?",
        "Tom has 3 boxes with 12 apples each. He gives away 5. How many apples are left?",
        "トムはりんごが12個ずつ入った箱を3つ持っています。5個あげると、りんごは何個残りますか？",
        "A shop has 6 boxes with 7 apples in each box. How many apples are there in total?",
        "1個120円のりんごを3個と、1本80円のバナナを2本買いました。合計はいくらですか？",
        "Three friends share 24 cookies equally. How many cookies does each get?",
        "りんごを3個買うといくらですか？",
        "What is the difference between 15 and 7?",
        "15と7の差は？",
        "12を5で割った余りは？",
        "Is 17 a prime number?",
        "A tree is 12 feet tall and grows 2 feet a year. How tall will it be in 3 years?",
        "Five numbers add up to 10 and the first two are equal. What can they be?",
        "Carter has 20 green and 20 red sweets and eats 12 green ones. What is the percentage "
        "chance that a random sweet is green?",
        "Convert 68 degrees Fahrenheit to Celsius",
        "2.5 kg in pounds? use 1 kg = 2.2 lb",
        "A rectangle is 12 cm long and 7 cm wide. Find its perimeter.",
        "1000円札で780円の買い物をしたらおつりは",
        "12人で36000円の食事代を割り勘。一人あたり",
        "ペンキ1缶で12平方メートル塗れます。縦4m、横9mの壁を塗るには何缶必要ですか？",
        # "How much" and units in katakana: no fixed list names them all.
        "ケンは1日に2マイル走ります。2週間で何マイル走りますか？",
        "水槽には12ガロン入ります。今は5ガロン入っています。あと何ガロン入れれば満タンですか？",
        "1冊300ページの本を3冊読みました。全部でどれだけのページを読みましたか？",
        "1回のケーキに砂糖を大さじ3杯使います。4回焼くには大さじ何杯必要ですか？",
        "花子は時給1200円で1日5時間働きます。6日間で稼ぐ金額はどれくらいですか？",
        # Areas from two measures, conversions asked in Japanese, clock times, distances.
        "縦8m、横12mの長方形の畑の面積を教えてください",
        "2.5リットルって何ミリリットル？",
        "1ドル150円として、45ドルは日本円で？",
        "摂氏25度は華氏だと",
        "兄は弟の3倍のカードを持っていて、2人合わせると64枚です。弟のカードは",
        "The meeting starts at 2:40 pm and runs 1 hour 35 minutes. When does it end?",
        "9時50分に出て25分かかると何時に着く？",
        "燃費がリッター15kmなんだけど、ガソリン40リットルでどこまで走れる？",
        "身長160cm、体重64kgの人のBMIを出して",
    ],
)
def test_calculations_are_read_from_the_question(text: str) -> None:
    assert classify(normalise(text)) == "calculation", explain(normalise(text))


@pytest.mark.parametrize(
    "text",
    [
        "Which planet is known as the Red Planet?\nA) Venus\nB) Mars\nC) Jupiter\nD) Saturn",
        "Which is a mammal? (a) shark (b) whale (c) trout",
        "What is the capital of France?\n1. Paris\n2. London\n3. Rome",
        "Which of the following is a prime number: 21, 27, 29, 33?",
        "日本の首都はどれですか。\nア．大阪\nイ．東京\nウ．京都",
        "次のうち、哺乳類はどれですか。\n①サメ\n②クジラ\n③マグロ",
        "太陽系で一番大きい惑星はどれ？",
        "Who painted the Mona Lisa? a. Michelangelo b. Leonardo da Vinci c. Raphael",
        "The options are: (i) photosynthesis (ii) respiration (iii) transpiration. Which releases"
        " oxygen?",
        "次のうち哺乳類はどれですか。\nア クジラ\nイ サメ\nウ マグロ",
        "Is a tomato a fruit or a vegetable?",
        "トマトは果物か野菜か？",
        "トマトは果物か野菜か\n答え:",  # the question is the line before an opened answer
        'Read this: "The Nile is the longest river in Africa, flowing north through eleven '
        'countries before it reaches the Mediterranean Sea." Which sea does the Nile reach?',
        "「吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗い"
        "じめじめした所でニャーニャー泣いていた事だけは記憶している。」この猫はどこで泣いていましたか？",
    ],
)
def test_options_and_passages_are_exact(text: str) -> None:
    assert classify(normalise(text)) == "exact", explain(normalise(text))


def test_explain_names_the_rules_that_fired() -> None:
    hits = explain("What is 17 * 23?")
    assert {h.kind for h in hits} == {"calculation", "informational"}
    assert any("17 * 23" in h.rule for h in hits)
    assert explain("ok") == []


def _harness_strings() -> list[str]:
    """The eval harness's own task wording: instructions and the labels it puts on rows."""
    texts = [*_INSTRUCTIONS.values(), *_PLAIN_REQUESTS.values()]
    texts += [
        label
        for table in (_LABELS, _PLAIN_LABELS)
        for labels in table.values()
        for label in labels.values()
    ]
    return [unicodedata.normalize("NFKC", t).casefold() for t in texts]


def _yaml_keywords(node: Any) -> list[str]:
    """Every keyword and cue in question_types.yaml (not the regexes or numbers)."""
    if isinstance(node, dict):
        return [w for key, value in node.items() if key != "regex" for w in _yaml_keywords(value)]
    if isinstance(node, list):
        return [w for item in node for w in _yaml_keywords(item)]
    return [node] if isinstance(node, str) else []


def test_no_rule_comes_from_the_eval_harness_wording() -> None:
    """The type must follow from the question, not from how the harness phrases a task."""
    raw = yaml.safe_load(
        files("murmurnet.prompts").joinpath("question_types.yaml").read_text(encoding="utf-8")
    )
    harness = _harness_strings()
    keywords = [
        unicodedata.normalize("NFKC", k).casefold()
        for section in ("keywords", "strong_keywords", "word_problem")
        for k in _yaml_keywords(raw[section])
    ]
    assert len(keywords) > 100
    # matched as the rules match them: "hi" is a whole word, so "think" does not borrow it
    borrowed = [k for k in keywords if any(_keyword(k).search(h) for h in harness)]
    assert borrowed == []
    # … and the harness's fragments (the answer-format line, its placeholders and labels)
    # are not keywords either
    fragments = ["<", "answer:", "答え:", "本文", "選択肢", "一つだけ", "exactly one"]
    fragments += [h for h in harness if len(h) < 12]  # the labels, colon included
    assert [k for k in keywords if any(f in k for f in fragments)] == []
    # no rule at all fires on the harness's own wording
    assert {h: explain(h) for h in harness if explain(h)} == {}


@pytest.mark.parametrize("text", ["", "   ", "\n\t　"])
def test_empty_question_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="empty"):
        read_question(text)


def test_read_question_classifies_the_cleaned_text() -> None:
    question = read_question("  What is １７ ＊ ２３？ ")
    assert (question.text, question.language, question.kind) == (
        "What is 17 * 23?",
        "en",
        "calculation",
    )


def test_a_pasted_text_then_a_question_is_exact_not_a_sum() -> None:
    article = (
        "メコン川の乾季と雨季の水位の差は、ヴィエンチャンで10メートルを超えることもある。"
        "乾季の終わりの4月頃には最低の水位になり、8 - 9月には自然堤防を越えるほどの水量になる。"
    )
    assert read_question(f"{article}\n\nラオスの有名な川は？").kind == "exact"
    story = (
        "Tom has 5 apples and buys 3 more at the market on a sunny afternoon, "
        "then gives 2 of them to his sister on the way home."
    )
    assert read_question(f"{story}\nHow many apples does he have now?").kind == "calculation"
    # "How much" after a pasted text asks for a phrase of it, not for a sum.
    assert read_question(f"{article}\nヴィエンチャンの水位はどのくらい変わるか。").kind == "exact"


def test_a_short_pasted_text_in_japanese_is_a_text() -> None:
    """Japanese says as much in half the characters: a short paragraph is still a text."""
    text = (
        "ハチドリは1秒間に約50回羽ばたく小さな鳥で、主に南北アメリカ大陸に生息する。花の蜜を主食とする。"
        "\nハチドリは主に何を食べる？"
    )
    assert read_question(text).kind == "exact", explain(text)


def test_advice_asked_after_the_askers_own_story_is_not_a_question_about_a_text() -> None:
    story = (
        "転職するか迷っています。\n今の会社は給料は悪くないけど、このままだと成長できない気がして…"
    )
    assert classify(f"{story}\nどう考えたらいいでしょうか") not in ("exact", "factoid")


def test_a_unit_in_katakana_with_one_quantity_asks_for_a_fact() -> None:
    assert classify("iPhone 15の画面は何インチですか？") != "calculation"


@pytest.mark.parametrize(
    "question",
    [
        "この国の公用語は。",
        "オランダは国名の変更を日本に求めているか。",
        "オランダが使用を廃止した呼び名を一つあげよ",
        "オランダ政府が2020年に廃止したのはなんの呼び名",
        "オランダ政府が2020年に使用を廃止した国名",  # it names what it asks for (体言止め)
        "日本語での呼び名の変更を求めない理由",
        "日本では「オランダ」が定着していること",
    ],
)
def test_a_pasted_text_then_a_question_without_a_question_word_is_exact(question: str) -> None:
    article = (
        "オランダ政府は、2020年1月1日をもって、国名としての「ホラント」の使用を廃止した。"
        "日本では「オランダ」が定着していることから、日本語での呼び名の変更は求めないとしている。"
    )
    text = f"{article}\n{question}"
    assert read_question(text).kind == "exact", explain(text)


@pytest.mark.parametrize(
    "last",
    [
        "もう少し丁寧な表現に直してくれないか。",  # a request, not a question about the text
        "この話の登場人物はとても静か",  # か, but no sentence ends there
        "なんとなく読みにくい気がする",
        "この文章の要約",  # it names a task, not something in the text
        "英語に翻訳",
        "もっと短い文章にしてほしい",
    ],
)
def test_a_pasted_text_then_a_request_or_remark_is_not_a_question_about_it(last: str) -> None:
    article = (
        "私たちの会社は来月、新しい製品を発表します。発表会には取引先の方々を多数お招きする予定で、"
        "当日は製品の実演と質疑応答の時間を設けます。ぜひご来場ください。"
    )
    assert passage_and_question(normalise(f"{article}\n{last}")) is None


@pytest.mark.parametrize(
    "text",
    [
        "この掃除機のバッテリーはどれくらい持ちますか？\n商品仕様：本体重量1.4kg／"
        "連続使用時間 約40分（標準モード）／充電時間 約3.5時間／集じん容量0.3L",
        "佐藤さんの担当は何ですか。\n文化祭の役割分担：受付は田中さん、装飾は佐藤さん、"
        "会計は鈴木さん、広報は高橋さんが担当します。",
        "Can you tell me when this invoice is due? Here's the email:\n\nHi Mark,\nAttached is "
        "invoice #4471 for the March consulting work. Payment is due within 30 days, by April 30.",
    ],
)
def test_a_question_then_the_text_it_asks_about_is_exact(text: str) -> None:
    assert classify(normalise(text)) == "exact", explain(normalise(text))
    assert has_pasted_text(normalise(text))


@pytest.mark.parametrize(
    "text",
    [
        # a task on the text, a sum, options under the question
        "Can you summarize this?\nThe city council met on Tuesday to discuss the new park. "
        "Many residents spoke in favour and the vote passed 7 to 2.",
        "How much does she pay in total?\nShe buys 3 apples at $2 each and 4 pears at $3 each, "
        "then gets a coupon for $1 off the total.",
        "Which is the capital of Australia?\nA. Sydney, the largest city of the country\n"
        "B. Canberra, the planned capital\nC. Melbourne, the old capital",
    ],
)
def test_a_question_before_a_task_a_sum_or_options_is_not_a_question_about_a_text(
    text: str,
) -> None:
    assert not has_pasted_text(normalise(text))


def test_a_long_question_after_a_short_preface_is_not_a_pasted_text() -> None:
    text = (
        "I'm planning a trip to Kyoto next spring with my parents, who are both in their "
        "seventies.\nCould you suggest an itinerary for three days that avoids the crowds?"
    )
    assert classify(normalise(text)) == "planning", explain(text)


def test_the_stem_is_the_question_without_its_options() -> None:
    assert question_stem("主に食品を販売する所は？\n1. スーパー\n2. 書店\nどれ？") == (
        "主に食品を販売する所は？\nどれ？"
    )
    assert question_stem("Which is red?\nChoices: apple, sky") == "Which is red?"
    assert question_stem("No options here.") == "No options here."


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("Which of these is NOT a noble gas?\n1. helium\n2. nitrogen", True),
        ("哺乳類ではないものはどれ？\n1. 犬\n2. 鮫", True),
        ("江戸幕府の将軍でなかった人物はどれ？\n1. 徳川家康\n2. 織田信長", True),
        ("Which of these people was never President?\n1. Lincoln\n2. Franklin", True),
        ("アメリカにしかないのはどれ？\n1. 自由の女神\n2. 富士山", False),
        ("Which planet is the largest?\n1. Mars\n2. Jupiter", False),
    ],
)
def test_a_question_asking_for_the_option_that_does_not_fit_is_told_apart(
    text: str, asks: bool
) -> None:
    assert asks_for_the_exception(text) is asks


def test_the_asked_question_is_the_last_line_without_its_label_or_the_whole_text() -> None:
    article = (
        "私たちの会社は来月、新しい製品を発表します。発表会には取引先の方々を多数お招きする予定で、"
        "当日は製品の実演と質疑応答の時間を設けます。ぜひご来場ください。詳しくは担当者まで。"
    )
    assert asked_question(f"文章: {article}\n質問: 発表会では何の時間を設けますか？\n答え:") == (
        "発表会では何の時間を設けますか？"
    )
    assert asked_question(f"{article}\n当日は何をしますか？") == "当日は何をしますか？"
    assert asked_question("  日本の首都はどこですか？ ") == "日本の首都はどこですか？"
