"""Logging levels and warning filters for the libraries the platform uses, set once by an entry
point (the CLI, the demo, the test suite), never when a module is imported."""

from __future__ import annotations

import logging
import warnings


def quiet_libraries() -> None:
    """ACRO configures the root logger at INFO on import and pandas warns inside it; Splink
    logs every training step. Keep the command line to our own messages (ACRO's records still
    go to its results.json)."""
    logging.getLogger().setLevel(logging.WARNING)
    for name in ("acro", "splink"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="acro")
    warnings.filterwarnings("ignore", message=".*SettingWithCopyWarning.*")
