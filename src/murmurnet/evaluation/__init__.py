"""Measuring answer quality: `murmurnet eval` reads JSONL question sets and compares strategies.

The submodules are imported by name (`murmurnet.evaluation.runner`, …) rather than re-exported
here, so that importing the package stays cheap and the optional plotting dependency is only
needed by `report`.

Modules, one idea each:

- `dataset`: the JSONL row format and its loader (`EvalRow`, `load_rows`).
- `prompting`: which text each strategy is shown for a row (the plain question, or for
  `single` the task text with an answer format).
- `scoring`: whether a reply is right (`score`); the answer itself is read by the core's
  `murmurnet.answers.read_answer`, the reading the murmur's vote uses too.
- `fingerprint`: what produced a stored reply (settings, strategy, question rule, code).
- `stats`: bootstrap intervals and the paired McNemar test.
- `aggregate`: per-strategy / per-group numbers from per-row results (`EvalSummary`).
- `runner`: the resumable loop over rows and strategies (`run_eval`, `Attempt`).
- `report`: report.md, results.json and PNG charts.
"""
