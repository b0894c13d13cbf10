"""Strategy variants for `murmurnet eval --strategies`: `name` or `name[field=value,…]`.

Self-consistency at k = 3, 6 and 12 (or a murmur of 2 and 3 agents) must be measured side by
side on the same rows and the same loaded models, so one evaluation takes several settings of
one strategy. A variant is a registered strategy plus `RunConfig` fields changed for its runs
only; its label (the spec as written, without spaces) names it in results.jsonl and the report.

The parser is deliberately small and strict (no eval, no quoting, no nesting): a spec that
could be read two ways is refused with a one-line `InputError` rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from murmurnet.config import RunConfig, first_error
from murmurnet.errors import InputError

FIXED_SETTINGS = frozenset(
    {
        "strategy",
        "model_type",
        "model_name",
        "model_path",
        "models",
        "cache_folder",
        "local_files",
        "threads",
        "context_size",
        "log",
    }
)
"""Fields a variant may not change: `strategy` is the part before `[`; the others are read
once when the runtime loads its models or opens its log, so a per-run value would be ignored
and the results labelled with a setting that never took effect."""
_FORBIDDEN_IN_VALUE = frozenset("[]=,")


class Variant(BaseModel):
    """One strategy as evaluated: `base` run with `overrides` on top of the evaluation's config.

    `config` is the effective configuration (validated), which is what the fingerprint hashes;
    `overrides` hold the validated values, ready for `Runtime.run(..., **overrides)`.
    """

    model_config = ConfigDict(frozen=True)

    label: str
    base: str
    overrides: dict[str, Any]
    config: RunConfig


def base_name(label: str) -> str:
    """The registered strategy of a variant label (`single[seed=1]` → `single`)."""
    return label.split("[", 1)[0].strip()


def split_specs(text: str) -> list[str]:
    """Split on the commas outside brackets; brackets must pair and may not nest."""
    specs: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "[":
            if depth:
                raise InputError(f"strategy {_so_far(current, char)!r}: nested '['")
            depth = 1
        elif char == "]":
            if not depth:
                raise InputError(f"strategy {_so_far(current, char)!r}: ']' without '['")
            depth = 0
        elif char == "," and not depth:
            specs.append("".join(current))
            current = []
            continue
        current.append(char)
    if depth:
        raise InputError(f"strategy {''.join(current).strip()!r}: '[' is never closed")
    specs.append("".join(current))
    return [spec.strip() for spec in specs if spec.strip()]


def _so_far(current: list[str], char: str) -> str:
    return ("".join(current) + char).strip()


def _fields(spec: str, inner: str) -> dict[str, str]:
    """`field=value,…` as written; every pair must have both sides and a field only once."""
    fields: dict[str, str] = {}
    for pair in inner.split(","):
        name, equals, value = (part.strip() for part in pair.partition("="))
        if not equals or not name or not value:
            raise InputError(
                f"strategy {spec!r}: {pair.strip()!r} is not field=value",
                hint="e.g. self-consistency[samples=6]",
            )
        if name not in RunConfig.model_fields:
            raise InputError(
                f"strategy {spec!r}: unknown setting {name!r}",
                hint="use a settings field name, as in the flags with '_' for '-'",
            )
        if name in FIXED_SETTINGS:
            raise InputError(
                f"strategy {spec!r}: {name!r} cannot change per strategy",
                hint="it is fixed for the whole evaluation; set it with its flag",
            )
        if _FORBIDDEN_IN_VALUE & set(value):
            raise InputError(f"strategy {spec!r}: bad value for {name!r}: {value!r}")
        if name in fields:
            raise InputError(f"strategy {spec!r}: {name!r} is given twice")
        fields[name] = value
    return fields


def parse_variant(spec: str, config: RunConfig, known: Collection[str]) -> Variant:
    """One spec (already split) against the evaluation's `config` and registered strategies."""
    base, bracket, rest = spec.partition("[")
    base = base.strip()
    if base not in known:
        raise InputError(f"unknown strategy {base!r}", hint=f"choose from {', '.join(known)}")
    if not bracket:
        return Variant(label=base, base=base, overrides={}, config=config)
    inner, _, tail = rest.partition("]")
    if tail.strip():
        raise InputError(f"strategy {spec!r}: text after ']'")
    if not inner.strip():
        raise InputError(f"strategy {spec!r}: empty brackets", hint=f"write just {base}")
    fields = _fields(spec, inner)
    try:
        effective = RunConfig.model_validate({**config.model_dump(), **fields})
    except ValidationError as exc:
        name, message = first_error(exc)
        where = f"bad value for {name!r}" if name else "bad settings"
        raise InputError(f"strategy {spec!r}: {where}: {message}") from None
    label = f"{base}[{','.join(f'{name}={value}' for name, value in fields.items())}]"
    overrides = {name: getattr(effective, name) for name in fields}
    return Variant(label=label, base=base, overrides=overrides, config=effective)


def parse_variants(text: str, config: RunConfig, known: Collection[str]) -> list[Variant]:
    """Every variant in a `--strategies` value, in order, each label once."""
    variants = [parse_variant(spec, config, known) for spec in split_specs(text)]
    return list({variant.label: variant for variant in variants}.values())
