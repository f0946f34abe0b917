"""The numbers a researcher's session lives within, in one place (``SessionLimits``), and how
much of a result reaches a screen (``SCREEN_ROWS``, ``SCREEN_VALUE_CHARS``: the CLI now, the
portal later).

Nothing here imports DuckDB, so the command line can read the screen limits cheaply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KiB, MiB, GiB = 1024, 1024**2, 1024**3

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MEMORY = "2GB"
DEFAULT_ROW_CAP = 1_000_000
DEFAULT_RESULT_BYTES = 256 * MiB
DEFAULT_DISK_QUOTA = 2 * GiB
DEFAULT_TEMP_LIMIT = 4 * GiB
DEFAULT_MEMORY_HEADROOM = 1 * GiB

# What a screen (the CLI's `workspace sql`, later the portal) shows of a result: the first
# SCREEN_ROWS rows, each value cut at SCREEN_VALUE_CHARS characters. The full result stays
# available to the Python API inside the platform (within SessionLimits.row_cap).
SCREEN_ROWS = 1_000
SCREEN_VALUE_CHARS = 1_000
# and at most this many values, and characters, in all: packing rows into columns (row n into
# row n % 1000, column n // 1000) must not carry more than a screen's worth out
SCREEN_CELLS = 10_000
SCREEN_CHARS = 200_000

_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
          "kib": KiB, "mib": MiB, "gib": GiB, "tib": 1024**4}  # fmt: skip


def to_bytes(size: int | str) -> int:
    """``2GiB``, ``512MB``, ``1_000_000`` or an int: a number of bytes."""
    if isinstance(size, int):
        return size
    m = re.fullmatch(r"\s*([0-9][0-9_]*(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", size)
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"not a size: {size!r} (e.g. 2GiB, 512MB)")
    return int(float(m.group(1).replace("_", "")) * _UNITS[m.group(2).lower()])


def human(n: int) -> str:
    """A byte count as people read it: ``1.9 GiB``, ``12.0 MiB``, ``512 bytes``."""
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


@dataclass(frozen=True)
class SessionLimits:
    """What one session may use. ``row_cap`` bounds a result's rows and, separately, the values
    held inside its list, struct, map and array cells; ``result_bytes`` bounds its size;
    ``disk_quota`` the workspace database (checked during and after every statement);
    ``temp_limit`` DuckDB's spill files; ``memory_headroom`` how far past ``memory_limit`` the
    process may grow during a query (DuckDB does not count strings against ``memory_limit``)."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_limit: str = DEFAULT_MEMORY
    threads: int = 2
    row_cap: int = DEFAULT_ROW_CAP
    result_bytes: int = DEFAULT_RESULT_BYTES
    disk_quota: int = DEFAULT_DISK_QUOTA
    temp_limit: int = DEFAULT_TEMP_LIMIT
    memory_headroom: int = DEFAULT_MEMORY_HEADROOM

    def __post_init__(self) -> None:
        for name in ("row_cap", "result_bytes", "disk_quota", "temp_limit", "memory_headroom"):
            if getattr(self, name) <= 0:
                raise ValueError(f"SessionLimits.{name} must be positive")
        if self.timeout_s <= 0 or self.threads <= 0:
            raise ValueError("SessionLimits.timeout_s and threads must be positive")
        to_bytes(self.memory_limit)

    @property
    def memory_bytes(self) -> int:
        return to_bytes(self.memory_limit)
