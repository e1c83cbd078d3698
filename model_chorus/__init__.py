"""model-chorus: ask several AI command-line tools and combine their answers."""

__version__ = "0.1.0"
