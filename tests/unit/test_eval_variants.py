"""Strategy variants: `name[field=value,…]` parsed strictly, validated by the settings model."""

from __future__ import annotations

import pytest

from murmurnet.config import RunConfig
from murmurnet.errors import InputError
from murmurnet.evaluation.fingerprint import fingerprinter
from murmurnet.evaluation.variants import base_name, parse_variants, split_specs

KNOWN = ("plain", "single", "murmur", "self-consistency")


def parse(text: str, config: RunConfig | None = None) -> list[tuple[str, str, dict[str, object]]]:
    variants = parse_variants(text, config or RunConfig(), KNOWN)
    return [(v.label, v.base, v.overrides) for v in variants]


def test_good_specs() -> None:
    assert parse("plain, murmur") == [("plain", "plain", {}), ("murmur", "murmur", {})]
    assert parse("self-consistency[samples=6],murmur[agents=3, internal_temp = 0.2]") == [
        ("self-consistency[samples=6]", "self-consistency", {"samples": 6}),
        ("murmur[agents=3,internal_temp=0.2]", "murmur", {"agents": 3, "internal_temp": 0.2}),
    ]
    assert parse("murmur[rag=false,seed=7]")[0][2] == {"rag": False, "seed": 7}
    # Written twice, run once.
    assert [label for label, *_ in parse("plain,plain,single[seed=1],single[ seed=1 ]")] == [
        "plain",
        "single[seed=1]",
    ]


def test_the_effective_config_keeps_the_evaluation_settings() -> None:
    (variant,) = parse_variants("self-consistency[samples=12]", RunConfig(seed=5), KNOWN)
    assert (variant.config.samples, variant.config.seed) == (12, 5)


def test_split_keeps_commas_inside_brackets() -> None:
    assert split_specs("a[x=1,y=2], b ,,c[z=3]") == ["a[x=1,y=2]", "b", "c[z=3]"]


def test_base_name() -> None:
    assert base_name("single[seed=1]") == "single" and base_name("plain") == "plain"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("magic", "unknown strategy 'magic'"),
        ("magic[samples=3]", "unknown strategy 'magic'"),
        ("murmur[wizards=3]", "unknown setting 'wizards'"),
        ("murmur[Agents=3]", "unknown setting 'Agents'"),
        ("murmur[strategy=single]", "'strategy' cannot change per strategy"),
        ("murmur[threads=4]", "'threads' cannot change per strategy"),
        ("self-consistency[samples=99]", "bad value for 'samples'"),
        ("self-consistency[samples=six]", "bad value for 'samples'"),
        ("murmur[consensus=maybe]", "bad value for 'consensus'"),
        ("murmur[agents]", "'agents' is not field=value"),
        ("murmur[agents=]", "is not field=value"),
        ("murmur[=3]", "is not field=value"),
        ("murmur[agents=1=2]", "bad value for 'agents'"),
        ("murmur[agents=2,agents=3]", "'agents' is given twice"),
        ("murmur[]", "empty brackets"),
        ("murmur[agents=3", "is never closed"),
        ("murmur,single[seed=1", "is never closed"),
        ("murmur]", "']' without '['"),
        ("murmur[agents=[3]]", "nested '['"),
        ("murmur[agents=3]x", "text after ']'"),
    ],
)
def test_bad_specs_are_one_line_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse(text)
    line = caught.value.one_line()
    assert message in line and "\n" not in line


def test_bad_value_names_the_variant_and_the_field() -> None:
    with pytest.raises(InputError) as caught:
        parse("plain,self-consistency[samples=99]")
    assert caught.value.message.startswith("strategy 'self-consistency[samples=99]'")


def test_fingerprints_follow_the_effective_settings() -> None:
    config = RunConfig()
    variants = parse_variants(
        "self-consistency,self-consistency[samples=3],self-consistency[samples=6],plain[samples=6]",
        config,
        KNOWN,
    )
    of = fingerprinter(config, variants)
    plain, three, six, other = (of(v.label) for v in variants)
    assert three != six and six != other
    assert plain == three  # samples=3 is the default: the same runs, whatever the label
    assert of("self-consistency") == fingerprinter(config)("self-consistency")
