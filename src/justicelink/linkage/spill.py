"""DuckDB connections of the linkage zone: memory that spills stays in the zone, encrypted.

Every connection that touches identifiers spills, when it must, into a private folder of the
zone (``.tmp-<label>-<id>``, mode 0700, held by a lock and removed at the end; a killed run's
folder is swept by the next), and the spill is encrypted under an ephemeral key. A bare
``duckdb.connect()`` would spill plaintext into ``./.tmp`` of whatever folder the process runs in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from justicelink.crypto import at_rest
from justicelink.formats import held_tmpdir, sweep_stale


@contextlib.contextmanager
def connect(
    where: Path, label: str, *, memory_limit: str | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    where = Path(where)
    where.mkdir(parents=True, exist_ok=True)
    sweep_stale(where)
    with held_tmpdir(where, label) as spill:
        config = {"temp_directory": str(spill)}
        if memory_limit is not None:
            config["memory_limit"] = memory_limit
        con = duckdb.connect(config=config)
        try:
            at_rest.enable(con)
            con.execute("SET temp_file_encryption = true")
            yield con
        finally:
            con.close()
