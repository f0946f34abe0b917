"""Quiet third-party libraries: the entry point's job, never a side effect of an import.

The command line and the demo call ``quiet_libraries()`` once at start-up (so do the tests, from
``tests/conftest.py``). Library code leaves logging and warnings alone; a notebook user who wants
it quiet calls the same function.
"""

from __future__ import annotations

import logging
import warnings


def quiet_libraries() -> None:
    """Warnings and errors only on the console; ACRO's and pandas' chatter suppressed.

    ACRO calls ``logging.basicConfig(level=INFO)`` and ignores every ``FutureWarning`` when it is
    imported. Configuring the root logger first makes its ``basicConfig`` a no-op, and the
    ``FutureWarning`` filter is set here too, so the outcome is the same whether or not ACRO has
    been imported yet (the airlock imports it only when an output is built). ACRO's own records
    still go to its ``results.json``. Nothing heavy is imported here: the command line calls
    this before every verb.
    """
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("acro").setLevel(logging.WARNING)
    logging.getLogger("splink").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="acro")
    warnings.filterwarnings("ignore", message=".*SettingWithCopyWarning.*")
    warnings.simplefilter("ignore", category=FutureWarning)
