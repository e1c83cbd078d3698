"""ProviderResolver: from names (flags or config) to providers ready to call.

It decides *which* providers a workflow gets — the primary and its configured
fallbacks, or the fan-out set of a multi-model workflow — validates the names
with clear errors, and wraps each provider in its middleware chain. Nothing
is spawned here.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from model_chorus.config import BUILTIN_PROVIDERS, Settings
from model_chorus.errors import InputError, ProviderNotInstalledError
from model_chorus.events import EventSink, ignore_events
from model_chorus.providers.base import ModelProvider
from model_chorus.providers.middleware import (
    AttemptLog,
    ChainStore,
    RateLimiterRegistry,
    build_chain,
)
from model_chorus.providers.registry import SPECS, check_known, create_provider


@dataclass
class ResolvedProviders:
    names: list[str]
    providers: list[ModelProvider]
    #: Smallest context window among them: what a shared prompt must fit.
    context_window: int


class ProviderResolver:
    def __init__(
        self,
        settings: Settings,
        *,
        store: ChainStore | None,
        attempts: AttemptLog,
        correlation_id: str,
        workflow: str | None = None,
        events: EventSink = ignore_events,
        use_breaker: bool = True,
        use_cache: bool = False,
    ) -> None:
        self.settings = settings
        self.store = store
        self.attempts = attempts
        self.correlation_id = correlation_id
        self.workflow = workflow
        self.events = events
        self.use_breaker = use_breaker
        self.use_cache = use_cache or settings.cache.enabled
        #: One per run, so concurrent calls to a provider share its rate limit.
        self.rate_limits = RateLimiterRegistry()

    def names(self, explicit: Sequence[str] = (), *, multi: bool = False) -> list[str]:
        for name in explicit:
            check_known(name)
        wf = self.settings.workflow(self.workflow) if self.workflow else None
        if multi:
            chosen = list(explicit) or (wf.providers if wf else []) or self._installed_enabled()
            if not chosen:
                raise ProviderNotInstalledError(
                    "None of the supported AI tools is installed and enabled.",
                    provider=",".join(BUILTIN_PROVIDERS),
                    hint="`model-chorus list-providers` shows each tool and its install command.",
                )
            return list(dict.fromkeys(chosen))
        primary = (
            explicit[0]
            if explicit
            else (wf.provider if wf and wf.provider else self.settings.default_provider)
        )
        fallbacks = (wf.fallback_providers if wf and wf.fallback_providers else None) or (
            self.settings.fallback_providers
        )
        others = [n for n in fallbacks if n != primary and self.settings.provider(n).enabled]
        return list(dict.fromkeys([primary, *explicit[1:], *others]))

    def resolve(self, explicit: Sequence[str] = (), *, multi: bool = False) -> ResolvedProviders:
        names = self.names(explicit, multi=multi)
        for name in names:
            self._check_enabled(name)
        providers = [self._wrapped(name) for name in names]
        window = min(self.context_window(name) for name in names)
        return ResolvedProviders(names=names, providers=providers, context_window=window)

    def resolve_roles(self, roles: dict[str, str]) -> dict[str, ModelProvider]:
        """Providers named by role options (``--skeptic gemini``), wrapped like the rest."""
        for name in roles.values():
            check_known(name)
            self._check_enabled(name)
        return {role: self._wrapped(name) for role, name in roles.items()}

    def _check_enabled(self, name: str) -> None:
        if not self.settings.provider(name).enabled:
            raise InputError(
                f"Provider {name!r} is disabled in your configuration.",
                hint=f"Set `enabled = true` under [providers.{name}], or pick another one.",
            )

    def context_window(self, name: str) -> int:
        return self.settings.provider(name).context_window or SPECS[name].context_window

    def _wrapped(self, name: str) -> ModelProvider:
        provider = create_provider(
            name, self.settings, timeout=self.settings.timeout_for(name, self.workflow)
        )
        return build_chain(
            provider,
            settings=self.settings,
            store=self.store,
            correlation_id=self.correlation_id,
            attempts=self.attempts,
            workflow=self.workflow,
            use_breaker=self.use_breaker,
            use_cache=self.use_cache,
            events=self.events,
            rate_limiter_registry=self.rate_limits,
        )

    def _installed_enabled(self) -> list[str]:
        return [
            name
            for name in BUILTIN_PROVIDERS
            if self.settings.provider(name).enabled
            and shutil.which(self.settings.provider(name).executable or SPECS[name].executable)
        ]
