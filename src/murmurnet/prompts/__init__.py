"""Role sets, stage prompts and question-type keywords as YAML package data."""
