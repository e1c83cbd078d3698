"""One module per command group; each command is a few lines over the primitives."""
