"""Importing the platform changes no global state: logging and warnings belong to the entry
point (``justicelink.logsetup.quiet_libraries``), and the heavy libraries load only when used."""

from __future__ import annotations

import subprocess
import sys

IMPORTS = """
import logging, sys, warnings
import duckdb, numpy, pyarrow, scipy.stats  # libraries that set their own filters on import

def state():
    root = logging.getLogger()
    levels = [logging.getLogger(n).level for n in ("acro", "splink")]
    return root.level, root.handlers[:], levels, warnings.filters[:]

before = state()
import justicelink.airlock, justicelink.linkage
assert not {"acro", "splink", "statsmodels"} & set(sys.modules), "a heavy library loaded on import"
import justicelink.platform
assert state() == before, "an import changed logging or warnings"
"""

QUIET = """
import logging
from justicelink.logsetup import quiet_libraries

quiet_libraries()
import acro  # ACRO's own basicConfig(level=INFO) must not undo it

assert logging.getLogger().level == logging.WARNING
assert logging.getLogger("acro:records").getEffectiveLevel() == logging.WARNING
assert logging.getLogger("splink").level == logging.ERROR
"""


def _run(code: str) -> None:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]


def test_importing_the_zones_leaves_logging_and_warnings_alone() -> None:
    _run(IMPORTS)


def test_quiet_libraries_holds_whether_or_not_acro_is_loaded_yet() -> None:
    _run(QUIET)
