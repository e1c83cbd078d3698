"""Allow ``python -m model_chorus``."""

from model_chorus.cli.app import main

if __name__ == "__main__":
    main()
