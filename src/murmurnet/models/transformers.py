"""Hugging Face transformers backend (extra `murmurnet[hf]`), batch-first on CPU.

torch and transformers are imported only when a model of this type is loaded, so the
package works without them. Nothing is downloaded unless `local_files_only` is off
(`--no-local-files`): a run must never reach the network by surprise.

One stopping criterion (`transformers_watch`) watches every generation step of a padded
batch: it streams each row's new text, ends rows at their stop strings or their own token
limit, records when the prompt pass and each row finished, and ends the whole batch when the
run is cancelled.

Log-probabilities come from the model's raw logits (before temperature, top-p or the
repetition penalty), as the llama.cpp backend gives them, so a confidence-weighted vote
means the same with either backend. Scoring options decodes the prompt once and runs every
option from a copy of its cache.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from murmurnet.cancellation import Cancellation
from murmurnet.config import ModelSpec
from murmurnet.errors import (
    ContextOverflowError,
    InputError,
    MissingDependencyError,
    ModelFileError,
    ModelNotFoundError,
)
from murmurnet.models.base import TokenCallback, opens_answer
from murmurnet.models.registry import LoadOptions
from murmurnet.models.transformers_watch import StepWatch, ended_text
from murmurnet.types import Completion, ContinuationScore, GenerationRequest, Message

_HINT = "pip install 'murmurnet[hf]'"
# Requests that agree on these share one `model.generate` call (and one random stream).
_GroupKey = tuple[float, float, int, float, int | None, tuple[str, ...]]


def _import_hf() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise MissingDependencyError(
            f"the transformers backend needs torch and transformers ({exc.name} is missing)",
            hint=_HINT,
        ) from None
    return torch, transformers


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class TransformersBackend:
    """One causal LM and its tokenizer; a round of requests runs as padded batches.

    `generate` is serialised by a lock because one model instance is shared by every stage
    that names it, and torch's random state (used for seeds) is process-wide.
    """

    can_batch = True

    def __init__(self, spec: ModelSpec, options: LoadOptions) -> None:
        self._torch, transformers = _import_hf()
        self._transformers = transformers
        source, self.name = self._source(spec)
        load: dict[str, Any] = {"local_files_only": options.local_files_only}
        if spec.path is None:
            load["cache_dir"] = str(options.cache_folder / "hf")
        threads = spec.threads or options.threads
        if threads:
            self._torch.set_num_threads(threads)
        try:
            # The config first: its error for a wrong folder is clearer than the tokenizer's.
            config = transformers.AutoConfig.from_pretrained(source, **load)
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(source, **load)
            self._model = transformers.AutoModelForCausalLM.from_pretrained(
                source, config=config, **load
            )
        except (OSError, ValueError, KeyError, ImportError) as exc:
            if spec.path is None:
                hint = "run once with --no-local-files to download it"
                raise ModelNotFoundError(
                    f"cannot load Hugging Face model {self.name!r}: {_first_line(exc)}",
                    hint=hint if options.local_files_only else None,
                ) from None
            raise ModelFileError(
                f"cannot load transformers model from {source}: {_first_line(exc)}"
            ) from None
        self._model.eval()
        limit = getattr(config, "max_position_embeddings", None) or getattr(
            config, "n_positions", None
        )
        wanted = options.context_size or spec.context_size
        self.context_size = min(wanted, int(limit)) if limit else wanted
        self._template = spec.template
        eos = self._model.generation_config.eos_token_id
        if eos is None:
            eos = self._tokenizer.eos_token_id
        self._eos: set[int] = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
        pad = self._tokenizer.pad_token_id
        self._pad = int(pad if pad is not None else min(self._eos, default=0))
        self._lock = threading.Lock()

    @staticmethod
    def _source(spec: ModelSpec) -> tuple[str, str]:
        if spec.path is not None:
            if not Path(spec.path).is_dir():
                raise ModelFileError(f"transformers model folder {spec.path} does not exist")
            # Checked here: transformers reads a folder without one as an empty config and
            # guesses the architecture from the folder's name ("empty" → MPT).
            if not (Path(spec.path) / "config.json").is_file():
                raise ModelFileError(
                    f"transformers model folder {spec.path} is empty or not a model "
                    "(it has no config.json)"
                )
            return str(spec.path), Path(spec.path).name
        if spec.hf_name:
            return spec.hf_name, spec.hf_name
        raise ModelNotFoundError("a transformers model needs `path` or `hf_name`")

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        on_token: TokenCallback | None = None,
        cancel: Cancellation | None = None,
    ) -> list[Completion]:
        """Run the batch, streaming each row's text through `on_token` as it is made.

        An exception from `on_token` ends generation and reaches the caller unchanged;
        `cancel` ends it at the next step with `CancelledError`. Time spent waiting for
        the model (another caller, or an earlier group of this batch) is `queue_seconds`.
        """
        submitted = time.perf_counter()
        groups: dict[_GroupKey, list[int]] = {}
        for index, request in enumerate(requests):
            key = (
                request.temperature,
                request.top_p,
                request.top_k,
                request.repeat_penalty,
                request.seed,
                tuple(request.stop),
            )
            groups.setdefault(key, []).append(index)
        results: dict[int, Completion] = {}
        with self._lock:
            for indexes in groups.values():
                if cancel is not None:
                    cancel.raise_if_cancelled()
                batch = [requests[i] for i in indexes]
                replies = self._run_group(batch, indexes, submitted, on_token, cancel)
                results.update(zip(indexes, replies, strict=True))
        return [results[i] for i in range(len(requests))]

    def _run_group(
        self,
        batch: list[GenerationRequest],
        indexes: list[int],
        submitted: float,
        on_token: TokenCallback | None,
        cancel: Cancellation | None,
    ) -> list[Completion]:
        torch = self._torch
        first = batch[0]
        prompts = [self._encode(request.messages) for request in batch]
        width = max(len(ids) for ids in prompts)
        # Left padding keeps every prompt's last token in the last column, where generation
        # continues; the attention mask (and the positions derived from it) hide the pads.
        # The filler is the row's own first token, not the pad id: the repetition penalty
        # reads the whole row, and a pad that is also EOS would otherwise be penalised in
        # padded rows only, so batched output would drift from one-at-a-time output.
        ids = [(p[:1] or [self._pad]) * (width - len(p)) + p for p in prompts]
        mask = [[0] * (width - len(p)) + [1] * len(p) for p in prompts]
        device = self._model.device
        watch = StepWatch(
            torch, self._tokenizer, batch, indexes, width, self._eos, on_token, cancel
        )
        settings: dict[str, Any] = {
            "max_new_tokens": max(request.max_tokens for request in batch),
            "pad_token_id": self._pad,
            "repetition_penalty": first.repeat_penalty if first.repeat_penalty > 0 else 1.0,
            "stopping_criteria": self._transformers.StoppingCriteriaList([watch]),
        }
        if first.temperature == 0:
            settings.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            settings.update(
                do_sample=True,
                temperature=first.temperature,
                top_p=first.top_p,
                top_k=first.top_k or None,
            )
        wants_logprobs = any(request.logprobs for request in batch)
        if wants_logprobs:  # every step's logits are kept until the batch ends
            settings.update(output_logits=True, return_dict_in_generate=True)
        if first.seed is not None:
            torch.manual_seed(first.seed)
        watch.admitted = time.perf_counter()
        with torch.inference_mode():
            output = self._model.generate(
                input_ids=torch.tensor(ids, dtype=torch.long, device=device),
                attention_mask=torch.tensor(mask, dtype=torch.long, device=device),
                **settings,
            )
        ended = time.perf_counter()
        if cancel is not None:
            cancel.raise_if_cancelled()
        sequences = output.sequences if wants_logprobs else output
        rows: list[list[int]] = sequences[:, width:].tolist()
        completions = []
        for row, (request, prompt, tokens) in enumerate(zip(batch, prompts, rows, strict=True)):
            completion = self._finish(request, tokens, len(prompt))
            if request.logprobs:
                completion.token_logprobs = self._chosen_logprobs(
                    output.logits, row, tokens[: completion.completion_tokens]
                )
            watch.flush(row, completion.text)
            completions.append(watch.timed(row, completion, submitted, ended))
        return completions

    def _chosen_logprobs(self, logits: Sequence[Any], row: int, tokens: list[int]) -> list[float]:
        """Each generated token's log-probability under the raw logits of its step."""
        torch = self._torch
        return [
            float(torch.log_softmax(logits[step][row].float(), dim=-1)[token])
            for step, token in enumerate(tokens)
        ]

    def score(
        self,
        messages: Sequence[Message],
        continuations: Sequence[str],
        cancel: Cancellation | None = None,
    ) -> list[ContinuationScore]:
        """How likely each text is as the start of the reply to `messages`: the prompt is
        decoded once, then every continuation runs as one right-padded batch from copies of
        the prompt's cache (with the prompt again, for a model that returns no cache object)."""
        torch = self._torch
        lead = "" if self.is_chat else " "
        options = [
            [int(t) for t in self._tokenizer(lead + text, add_special_tokens=False)["input_ids"]]
            for text in continuations
        ]
        if not options:
            return []
        if any(not tokens for tokens in options):
            raise InputError("a continuation to score is empty")
        prompt = self._encode(messages, room=max(len(tokens) for tokens in options))
        width = max(len(tokens) for tokens in options)
        device = self._model.device
        with self._lock, torch.inference_mode():
            if cancel is not None:
                cancel.raise_if_cancelled()
            shared = self._model(
                input_ids=torch.tensor([prompt], dtype=torch.long, device=device), use_cache=True
            )
            first = torch.log_softmax(shared.logits[0, -1].float(), dim=-1)
            rest = None
            if width > 1:
                cache = shared.past_key_values
                ids = [tokens + [self._pad] * (width - len(tokens)) for tokens in options]
                mask = [[1] * (len(prompt) + len(t)) + [0] * (width - len(t)) for t in options]
                if hasattr(cache, "batch_repeat_interleave"):
                    cache.batch_repeat_interleave(len(options))
                else:  # a model family without a cache object: decode the prompt per option
                    ids = [[*prompt, *row] for row in ids]
                    cache = None
                logits = self._model(
                    input_ids=torch.tensor(ids, dtype=torch.long, device=device),
                    attention_mask=torch.tensor(mask, dtype=torch.long, device=device),
                    past_key_values=cache,
                ).logits
                rest = torch.log_softmax(logits[:, -width:].float(), dim=-1)
        scores = []
        for row, (text, tokens) in enumerate(zip(continuations, options, strict=True)):
            values = [float(first[tokens[0]])]
            if rest is not None:
                values += [float(rest[row, j - 1, tokens[j]]) for j in range(1, len(tokens))]
            scores.append(ContinuationScore(text=text, logprob=sum(values), tokens=len(values)))
        return scores

    def _finish(self, request: GenerationRequest, row: list[int], prompt_tokens: int) -> Completion:
        tokens = row[: request.max_tokens]
        ended = next((i for i, token in enumerate(tokens) if token in self._eos), None)
        if ended is not None:
            tokens = tokens[: ended + 1]
        elif self._pad not in self._eos:
            # A row finished early by a stop string is filled with pads after it.
            while tokens and tokens[-1] == self._pad:
                tokens.pop()
        text = self._tokenizer.decode(tokens, skip_special_tokens=True)
        kept = ended_text(text, [stop for stop in request.stop if stop], request.repeat_guard)
        if kept is not None:
            text = kept
        full = ended is None and kept is None and len(tokens) >= request.max_tokens
        return Completion(
            text=str(text),
            prompt_tokens=prompt_tokens,
            completion_tokens=len(tokens),
            finish_reason="length" if full else "stop",
        )

    @property
    def is_chat(self) -> bool:
        return self._template == "chatml" or (
            self._template == "auto" and bool(getattr(self._tokenizer, "chat_template", None))
        )

    def _encode(self, messages: Sequence[Message], room: int = 1) -> list[int]:
        """The prompt's tokens, refused when `room` more tokens would not fit the context."""
        if self._template == "chatml":
            prompt, special = _chatml(messages), False
        elif self.is_chat:  # the tokenizer's own template
            chat = [{"role": m.role, "content": m.content} for m in messages]
            prompt = self._tokenizer.apply_chat_template(
                chat, tokenize=False, add_generation_prompt=True
            )
            special = False  # the template writes its own BOS; adding another hurts output
        else:
            contents = [m.content for m in messages]
            ends = "\n\n" if contents and not opens_answer(contents[-1]) else ""
            prompt, special = "\n\n".join(contents) + ends, True
        ids = list(self._tokenizer(prompt, add_special_tokens=special)["input_ids"])
        if len(ids) + room > self.context_size:
            raise ContextOverflowError(
                f"prompt of {len(ids)} tokens does not fit the {self.context_size}-token "
                f"context of {self.name}",
                hint="shorten the question or history, or raise --context-size",
            )
        return [int(token) for token in ids]

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def close(self) -> None:
        """Drop the weights now rather than when the pool is garbage collected."""
        self._model = None
        gc.collect()


def _chatml(messages: Sequence[Message]) -> str:
    turns = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
    return turns + "<|im_start|>assistant\n"


def create(spec: ModelSpec, options: LoadOptions) -> TransformersBackend:
    """Registry factory for `type: transformers`."""
    return TransformersBackend(spec, options)
