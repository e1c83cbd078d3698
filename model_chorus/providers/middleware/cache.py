"""Response cache (opt-in): the same question to the same model is answered once.

The key is a sha256 of provider, model, system prompt and prompt. The model is
the request's or, when it names none, the provider's configured default, so
changing the configured model does not serve the old model's answers. A hit
makes no call at all (``cached=True``, ``attempts=0``), which is why the cache
sits outermost: it works even while the breaker is open. Entries live in the
database with a TTL; a store failure or a damaged entry is a miss, never an error.
The lookup runs in a worker thread (``offload.off_loop``) and the store of a
new answer in the background (``offload.BackgroundWrites``): a database locked
by another process never blocks the event loop, and never delays an answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from model_chorus.models import GenerationRequest, GenerationResponse, TokenUsage
from model_chorus.providers.base import ModelProvider
from model_chorus.providers.middleware.offload import BackgroundWrites, off_loop
from model_chorus.providers.middleware.stores import ResponseCacheStore

logger = logging.getLogger(__name__)

#: Part of every key: bump it when the stored value's shape changes.
CACHE_FORMAT = "v1"


def cache_key(provider: str, model: str | None, system_prompt: str | None, prompt: str) -> str:
    material = json.dumps([CACHE_FORMAT, provider, model, system_prompt, prompt])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def encode_response(response: GenerationResponse) -> str:
    return json.dumps(
        {
            "content": response.content,
            "provider": response.provider,
            "model": response.model,
            "usage": {
                "input_tokens": response.usage.input_tokens,
                "output_tokens": response.usage.output_tokens,
                "cached_input_tokens": response.usage.cached_input_tokens,
            },
            "session_id": response.session_id,
        }
    )


def decode_response(value: str) -> GenerationResponse:
    data: dict[str, Any] = json.loads(value)
    usage = data.get("usage") or {}
    return GenerationResponse(
        content=str(data["content"]),
        provider=str(data["provider"]),
        model=data.get("model"),
        usage=TokenUsage(
            int(usage.get("input_tokens", 0)),
            int(usage.get("output_tokens", 0)),
            int(usage.get("cached_input_tokens", 0)),
        ),
        session_id=data.get("session_id"),
        attempts=0,
        cached=True,
    )


class CachedProvider:
    def __init__(
        self,
        inner: ModelProvider,
        *,
        store: ResponseCacheStore,
        ttl_s: float,
        default_model: str | None = None,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.store = store
        self.ttl_s = ttl_s
        self.default_model = default_model
        #: Answers still being stored; ``await writes.drain()`` to wait for them.
        self.writes = BackgroundWrites(logger)

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        key = cache_key(
            self.name, request.model or self.default_model, request.system_prompt, request.prompt
        )
        if (hit := await self._get(key)) is not None:
            logger.info("%s: answered from the response cache", self.name)
            return hit
        response = await self.inner.generate(request)
        if response.content.strip():
            value = encode_response(response)
            # A cache that cannot write is just a cache miss later.
            self.writes.submit(
                lambda: self.store.cache_put(key, value, ttl_s=self.ttl_s),
                what=f"cache the {self.name} answer",
            )
        return response

    async def _get(self, key: str) -> GenerationResponse | None:
        try:
            value = await off_loop(lambda: self.store.cache_get(key))
        except Exception as exc:
            logger.warning("response cache unavailable: %s", exc)
            return None
        if value is None:
            return None
        try:
            return decode_response(value)
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("ignoring a damaged response-cache entry: %s", exc)
            return None
