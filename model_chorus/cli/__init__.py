"""The command-line layer: the only code that parses argv, prints or exits."""
