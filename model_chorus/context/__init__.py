"""Context that goes into prompts: files, conversation history, token budgets."""
