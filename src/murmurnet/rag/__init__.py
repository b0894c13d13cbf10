"""Retrieval: knowledge bases of local files searched by words and by meaning.

`murmurnet index` fills a knowledge base, `murmurnet search` shows what it retrieves and
why, and the murmur puts the passages on the blackboard. See kb.py for the flow.
"""

from murmurnet.rag.catalog import remove_kb
from murmurnet.rag.kb import KnowledgeBase, SearchMode, list_kbs
from murmurnet.rag.models import IndexReport, KbInfo, Passage

__all__ = [
    "IndexReport",
    "KbInfo",
    "KnowledgeBase",
    "Passage",
    "SearchMode",
    "list_kbs",
    "remove_kb",
]
