"""MurmurNet: several small language models cooperating on one answer."""

from murmurnet.api import MurmurNet
from murmurnet.blackboard import Blackboard, InMemoryBlackboard
from murmurnet.config import ModelSpec, RoleSpec, RunConfig, load_config
from murmurnet.errors import MurmurError
from murmurnet.memory import Conversation, Turn
from murmurnet.models.base import Backend
from murmurnet.models.registry import LoadOptions, register_backend
from murmurnet.models.scripted import ScriptedBackend
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
    "ScriptedBackend",
    "StageTiming",
    "Turn",
    "load_config",
    "register_backend",
]
__version__ = "0.1.0"
