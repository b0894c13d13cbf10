"""Callbacks that raise, cancellation, a crashed worker and Ctrl-C, on the real engine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from murmurnet.bench import forget_cache
from murmurnet.cancellation import Cancellation
from murmurnet.config import default_cache_folder
from murmurnet.errors import BackendFailedError, CancelledError
from murmurnet.models.base import Backend
from murmurnet.models.llama.backend import LlamaCppBackend
from murmurnet.models.llama.engine import LlamaEngine
from murmurnet.types import GenerationRequest, Message

pytestmark = pytest.mark.integration

REAL_CACHE = default_cache_folder()  # read before the autouse fixture points it elsewhere

SHARED = "You are a helpful assistant. Answer in one short sentence."


def request(task: str, **kw: object) -> GenerationRequest:
    return GenerationRequest(
        messages=[Message(role="system", content=SHARED), Message(role="user", content=task)],
        **{"max_tokens": 24, "temperature": 0.0, **kw},  # type: ignore[arg-type]
    )


class Background:
    """A `generate` call in another thread, with what it streamed, returned or raised."""

    def __init__(
        self,
        backend: Backend,
        requests: list[GenerationRequest],
        cancel: Cancellation | None = None,
        then: Callable[[list[str]], None] | None = None,
    ) -> None:
        self.result: list[str] | None = None
        self.error: BaseException | None = None
        self.pieces: list[str] = []
        self.then = then
        self.thread = threading.Thread(
            target=self._run, args=(backend, requests, cancel), daemon=True
        )
        self.thread.start()

    def _on_token(self, index: int, piece: str) -> None:
        self.pieces.append(piece)
        if self.then is not None:
            self.then(self.pieces)

    def _run(
        self, backend: Backend, requests: list[GenerationRequest], cancel: Cancellation | None
    ) -> None:
        try:
            done = backend.generate(requests, on_token=self._on_token, cancel=cancel)
            self.result = [c.text for c in done]
        except BaseException as error:
            self.error = error

    def join(self) -> None:
        self.thread.join(timeout=300)
        assert not self.thread.is_alive()


def wait_for(condition: Callable[[], object], what: str) -> None:
    for _ in range(6000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("error_type", [ValueError, BrokenPipeError])
def test_a_raising_callback_fails_only_its_group(qwen: Backend, error_type: type) -> None:
    assert isinstance(qwen, LlamaCppBackend)
    other = request("Count from 1 to 40 separated by spaces.", max_tokens=48, ignore_eos=True)
    forget_cache(qwen)
    alone = qwen.generate([other])[0].text
    runner = Background(qwen, [other])
    wait_for(lambda: runner.pieces, "the other group to stream")
    raised = error_type("the reader went away")

    def fail_on_third(pieces: list[str]) -> None:
        if len(pieces) == 3:
            raise raised

    failing = Background(qwen, [request("Name a fruit.", ignore_eos=True)], then=fail_on_third)
    failing.join()
    assert failing.error is raised  # the original object: the CLI recognises BrokenPipeError
    assert len(failing.pieces) == 3  # no text after the failure
    runner.join()
    assert runner.error is None and runner.result == [alone]
    assert qwen.generate([request("Say OK.")])[0].text  # the engine still serves


def test_cancelling_one_group_leaves_the_other_intact(qwen: Backend) -> None:
    assert isinstance(qwen, LlamaCppBackend)
    steady = request("Count from 1 to 40 separated by spaces.", max_tokens=48, ignore_eos=True)
    forget_cache(qwen)
    alone = qwen.generate([steady])[0].text
    cancel = Cancellation()
    doomed = Background(qwen, [request("Tell me a long story.", max_tokens=200)], cancel)
    kept = Background(qwen, [steady])
    wait_for(lambda: len(doomed.pieces) >= 3 and kept.pieces, "both groups to stream")
    cancel.cancel("test")
    streamed = len(doomed.pieces)
    doomed.join()
    assert isinstance(doomed.error, CancelledError)
    assert len(doomed.pieces) <= streamed + 1  # it stopped at the next step
    kept.join()
    assert kept.error is None and kept.result == [alone]
    with pytest.raises(CancelledError):  # already cancelled: refused at once
        qwen.generate([request("Say OK.")], cancel=cancel)
    assert qwen.generate([request("Say OK.")])[0].text


def test_cancelling_stops_a_long_prefill_between_chunks(qwen: Backend) -> None:
    assert isinstance(qwen, LlamaCppBackend)
    engine = qwen.engine
    forget_cache(qwen)
    long = request("Summarise: " + "the river kept flowing and " * 500, max_tokens=8)
    length = len(qwen.tokens(long))
    assert length > 4 * engine.n_batch
    before = engine.stats.prompt_tokens_decoded
    cancel = Cancellation()
    runner = Background(qwen, [long], cancel)
    wait_for(lambda: engine.stats.prompt_tokens_decoded > before, "the first chunk")
    cancel.cancel("test")
    runner.join()
    assert isinstance(runner.error, CancelledError)
    assert engine.stats.prompt_tokens_decoded - before < length
    assert qwen.generate([request("Say OK.")])[0].text


@pytest.fixture
def doomed_engine(qwen: Backend) -> Iterator[LlamaEngine]:
    """A second small context on the same file (memory-mapped, so cheap) that may break."""
    assert isinstance(qwen, LlamaCppBackend)
    engine = LlamaEngine(qwen.engine.path, n_ctx=2048, n_seq_max=4)
    yield engine
    engine.close()


def test_a_crashed_worker_fails_everyone_and_stays_failed(
    qwen: Backend, doomed_engine: LlamaEngine
) -> None:
    assert isinstance(qwen, LlamaCppBackend)
    engine = doomed_engine
    prompt = qwen.tokens(request("Count from 1 to 40 separated by spaces."))
    greedy = request("", max_tokens=40, ignore_eos=True)
    calls = 0
    step = engine._step

    def crash_on_fifth_step() -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise RuntimeError("a bug in the worker")
        step()

    engine._step = crash_on_fifth_step  # type: ignore[method-assign]
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            engine.generate([prompt], [greedy], [None])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=ask, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(errors) == 2
    for error in errors:
        assert isinstance(error, BackendFailedError)
        assert isinstance(error.__cause__, RuntimeError)
    with pytest.raises(BackendFailedError, match="failed earlier"):
        engine.generate([prompt], [greedy], [None])


# -- Ctrl-C against the real engine: exit 130, no traceback, no crash --------------------------

ENGINE_SCRIPT = textwrap.dedent(
    """
    import sys, threading, time
    from murmurnet import LoadOptions, ModelSpec
    from murmurnet.config import default_cache_folder
    from murmurnet.models.registry import create_backend
    from murmurnet.types import GenerationRequest, Message

    options = LoadOptions(cache_folder=default_cache_folder(), context_size=8192)
    backend = create_backend(ModelSpec(bundled="qwen2.5-0.5b"), options)
    question = "Summarise: " + "the river kept flowing and " * 1000
    request = GenerationRequest(messages=[Message(role="user", content=question)])

    def tell_when_prefilling():
        while backend.engine.stats.prompt_tokens_decoded == 0:
            time.sleep(0.01)
        print("prefilling", flush=True)

    threading.Thread(target=tell_when_prefilling, daemon=True).start()
    try:
        backend.generate([request])
    except KeyboardInterrupt:
        backend.close()
        sys.exit(130)
    sys.exit(0)
    """
)


def interrupt(
    command: list[str], ready: Callable[[subprocess.Popen[str]], None], delay: float
) -> subprocess.CompletedProcess[str]:
    """Start `command`, wait until `ready` says its prefill is under way, then send SIGINT.

    The children use the real model cache, so start-up is an import and a load, never an
    assembly; SIGINT is sent only once the child has said it is prefilling, however slow the
    machine is, so it can never land before the CLI's handler is in place."""
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    env["MURMURNET_CACHE_FOLDER"] = str(REAL_CACHE)
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # A child inherits an ignored SIGINT, and Python then never installs its handler:
        # in a full run the children ran to the end, whatever left SIGINT ignored here.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        ready(process)
    except BaseException:
        process.kill()
        stdout, stderr = process.communicate(timeout=60)
        print(f"child exited {process.returncode}; stdout:\n{stdout}\nstderr:\n{stderr}")
        raise
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def prints_prefilling(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "prefilling"


def logs_stage_started(log: Path) -> Callable[[subprocess.Popen[str]], None]:
    """The run's first stage has begun: its model is loaded and its prefill is starting."""

    def ready(process: subprocess.Popen[str]) -> None:
        deadline = time.monotonic() + 300
        while "stage_started" not in (log.read_text() if log.exists() else ""):
            assert process.poll() is None, "the child ended before its first stage"
            assert time.monotonic() < deadline, "no stage started within 300 s"
            time.sleep(0.05)

    return ready


def assert_clean_interrupt(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert "Fatal Python error" not in done.stderr
    assert "Segmentation" not in done.stderr


def test_ctrl_c_during_prefill_exits_130(qwen: Backend) -> None:
    done = interrupt([sys.executable, "-c", ENGINE_SCRIPT], prints_prefilling, delay=0.2)
    assert_clean_interrupt(done)


def test_ctrl_c_in_murmurnet_ask_exits_130(qwen: Backend, tmp_path: Path) -> None:
    question = "Summarise this: " + "the river kept flowing and " * 1000
    command = [
        sys.executable,
        "-m",
        "murmurnet",
        "ask",
        question,
        "--strategy",
        "single",
        "--no-rag",
        "--context-size",
        "16384",
        "--log",
        str(tmp_path / "events.jsonl"),
    ]
    done = interrupt(command, logs_stage_started(tmp_path / "events.jsonl"), delay=1.0)
    assert_clean_interrupt(done)
    assert "interrupted" in done.stderr
