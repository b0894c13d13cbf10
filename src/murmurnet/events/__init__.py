"""Run events and their delivery: the pipeline publishes, subscribers (a JSONL log, metrics,
a live page) follow at their own pace."""

from murmurnet.events.bus import EventBus, Subscriber, Subscription
from murmurnet.events.jsonl import JsonlLog
from murmurnet.events.types import (
    AgreementReached,
    EntryWritten,
    ModelCalled,
    RunCancelled,
    RunEvent,
    RunFailed,
    RunFinished,
    RunStarted,
    StageFinished,
    StageStarted,
    TokenStreamed,
)

__all__ = [
    "AgreementReached",
    "EntryWritten",
    "EventBus",
    "JsonlLog",
    "ModelCalled",
    "RunCancelled",
    "RunEvent",
    "RunFailed",
    "RunFinished",
    "RunStarted",
    "StageFinished",
    "StageStarted",
    "Subscriber",
    "Subscription",
    "TokenStreamed",
]
