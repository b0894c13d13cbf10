"""The HTTP server: OpenAI-compatible routes on the shared runtime (`create_app`)."""

from murmurnet.server.app import create_app

__all__ = ["create_app"]
