"""Entry point of the fake tools in ``bin/``: runs ``fake_tool.main`` as a loaded module.

Run as a script, the 1,400-line ``fake_tool.py`` would be compiled on every
call; loaded as a module, its bytecode is cached, which keeps a fake's
start-up near the interpreter's own (it matters when four fakes start at
once on two cores, as in scripts/bench_fanout.py).
"""

import importlib.util
import sys
from pathlib import Path

spec = importlib.util.spec_from_file_location("fake_tool", Path(__file__).with_name("fake_tool.py"))
assert spec is not None and spec.loader is not None
fake_tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fake_tool)
sys.exit(fake_tool.main(sys.argv[1:]))
