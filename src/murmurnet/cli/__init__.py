"""The `murmurnet` command: one module per subcommand, errors translated in `main`."""

from murmurnet.cli.main import main

__all__ = ["main"]
