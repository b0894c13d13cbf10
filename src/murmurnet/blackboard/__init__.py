"""The shared blackboard: its Protocol, the in-memory board and prompt rendering."""

from murmurnet.blackboard.base import Blackboard, BlackboardFactory, WriteListener
from murmurnet.blackboard.memory import InMemoryBlackboard, in_memory
from murmurnet.blackboard.render import Labels, headings, render

__all__ = [
    "Blackboard",
    "BlackboardFactory",
    "InMemoryBlackboard",
    "Labels",
    "WriteListener",
    "headings",
    "in_memory",
    "render",
]
