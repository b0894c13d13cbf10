"""Typed errors. Library code raises these; only the CLI and the server translate them."""

from __future__ import annotations


class MurmurError(Exception):
    """Base of every error a user can cause or fix; `hint` says how to fix it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(MurmurError):
    """A setting, flag, environment variable or configuration file is wrong."""


class InputError(MurmurError):
    """The question or another user input cannot be used as given."""


class ModelNotFoundError(MurmurError):
    """A model name, path or backend type is unknown."""


class ModelPackageMissingError(MurmurError):
    """A bundled model's PyPI package is not installed."""


class ModelFileError(MurmurError):
    """A model file is missing, truncated or fails its checksum."""


class MissingDependencyError(MurmurError):
    """An optional extra is needed for the chosen backend."""


class BackendUnavailableError(MurmurError):
    """A model server cannot be reached or answered with an error."""


class EndpointsDownError(BackendUnavailableError):
    """Every endpoint of a pool model is down or taken out; the message names each one."""


class ContextOverflowError(MurmurError):
    """A prompt does not fit the model's context window."""


class ScriptExhaustedError(MurmurError):
    """The scripted fake backend was asked for more replies than it was given."""


class CancelledError(MurmurError):
    """The run was cancelled (by its caller, a disconnected client or Ctrl-C)."""


class BackendFailedError(MurmurError):
    """A backend failed in a way the user did not cause (a crashed worker, a bug)."""


class UnsupportedError(MurmurError):
    """The chosen backend cannot do what was asked (e.g. score continuations)."""


class BlackboardUnavailableError(MurmurError):
    """The shared blackboard's store (Redis) cannot be reached, or stayed away too long."""
