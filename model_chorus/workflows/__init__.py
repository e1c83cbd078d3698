"""Workflows: pure orchestration over providers and the conversation store."""
