"""Model access: the `ChatModel` interface and its request and reply types.

Adapters live in submodules and are chosen by `app.llm.registry.build_model`; this package
re-exports only the interface so importing it never pulls in an HTTP client.
"""

from app.llm.base import ChatMessage, ChatModel, ChatRequest, JsonCompletion, StreamChunk, Usage

__all__ = ["ChatMessage", "ChatModel", "ChatRequest", "JsonCompletion", "StreamChunk", "Usage"]
