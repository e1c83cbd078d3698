"""Providers: the AI command-line tools model-chorus drives, and their middleware."""
