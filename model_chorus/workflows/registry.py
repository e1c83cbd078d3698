"""The workflow registry: a workflow exists for the CLI once its class is registered.

Every module of this package is imported on first lookup, so a new workflow
costs one file with a ``@register``-decorated class and nothing else here.
Workflow modules keep their top-level imports light: ``list-workflows`` runs
this discovery and must start fast.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, TypeVar

from model_chorus.errors import InputError

if TYPE_CHECKING:
    from model_chorus.workflows.base import Workflow, WorkflowInfo

W = TypeVar("W", bound="type[Workflow]")

_REGISTRY: dict[str, type[Workflow]] = {}
_discovered = False


def register(cls: W) -> W:
    name = cls.info.name
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise RuntimeError(f"workflow {name!r} registered twice")
    _REGISTRY[name] = cls
    return cls


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    package = importlib.import_module("model_chorus.workflows")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"model_chorus.workflows.{module.name}")
    _discovered = True


def get_workflow(name: str) -> type[Workflow]:
    _discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise InputError(
            f"Unknown workflow {name!r}.",
            hint=f"Known workflows: {known}. `model-chorus list-workflows` describes them.",
        ) from None


def all_workflows() -> list[WorkflowInfo]:
    """Every registered workflow's metadata, in a stable order (chat first)."""
    _discover()
    order = ["chat", "consensus", "argument", "ideate", "thinkdeep"]
    return sorted(
        (cls.info for cls in _REGISTRY.values()),
        key=lambda info: (order.index(info.name) if info.name in order else len(order), info.name),
    )
