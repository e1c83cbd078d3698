"""Persistence: the SQLite conversation database and the legacy JSON import."""
