"""MurmurNet: several small language models cooperating on one answer."""

from murmurnet.api import MurmurNet, RunHandle, Runtime, Session
from murmurnet.blackboard import Blackboard, BlackboardFactory, InMemoryBlackboard
from murmurnet.cancellation import Cancellation
from murmurnet.config import ModelSpec, RoleSpec, RunConfig, load_config
from murmurnet.errors import CancelledError, MurmurError
from murmurnet.events import RunEvent
from murmurnet.memory import Conversation, Turn
from murmurnet.models.base import Backend
from murmurnet.models.registry import LoadOptions, register_backend
from murmurnet.models.scripted import ScriptedBackend
from murmurnet.murmur.strategies import strategy
from murmurnet.types import (
    Answer,
    BlackboardEntry,
    Completion,
    EntryKind,
    GenerationRequest,
    Message,
    StageTiming,
)

__all__ = [
    "Answer",
    "Backend",
    "Blackboard",
    "BlackboardEntry",
    "BlackboardFactory",
    "Cancellation",
    "CancelledError",
    "Completion",
    "Conversation",
    "EntryKind",
    "GenerationRequest",
    "InMemoryBlackboard",
    "LoadOptions",
    "Message",
    "ModelSpec",
    "MurmurError",
    "MurmurNet",
    "RoleSpec",
    "RunConfig",
    "RunEvent",
    "RunHandle",
    "Runtime",
    "ScriptedBackend",
    "Session",
    "StageTiming",
    "Turn",
    "load_config",
    "register_backend",
    "strategy",
]
__version__ = "0.1.0"
