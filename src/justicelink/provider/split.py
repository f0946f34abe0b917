"""The split: one provider extract in, an identifiers submission (to the trusted third party) and a
content submission (to the bank) out, each sealed to its recipient.

Tables are streamed in batches: each batch is validated, normalised and pseudonymised in DuckDB
and appended to in-memory Parquet writers, so memory stays flat however long the extract is.
Checks that need the whole table (duplicate unique keys, pseudonym collisions, SYSTEM_ID
uniqueness) run at the end over compact key tables. Nothing is written to ``out`` unless the whole
split succeeds.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from queue import Full, Queue

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pyrage

from justicelink.crypto import prf_sql, random_ids, refuse_if_collided, seal_buffers
from justicelink.crypto.prf import CollisionError
from justicelink.formats import (
    IDENTIFIER_FILE_SCHEMA,
    IDENTIFIERS_FILE_NAME,
    SUBMISSION_FORMAT,
    InputError,
    Manifest,
    atomic_dir,
    content_file_name,
    held_tmpdir,
    sweep_stale,
)
from justicelink.provider import rules
from justicelink.provider.read import BATCH_ROWS, find_table_file, iter_table_file
from justicelink.specs import DatasetSpec, Table
from justicelink.specs.model import system_id_column

q = rules.q


@dataclass(frozen=True)
class SplitResult:
    out: Path
    submission_id: str
    identifiers_rows: int
    content_rows: dict[str, int]
    report: dict


class _ParquetSink:
    """A Parquet file being written to memory, batch by batch, on a background writer thread
    (compression overlaps with the next batch's processing; order is kept: one worker)."""

    def __init__(self, writer_pool: ThreadPoolExecutor, schema: pa.Schema | None = None) -> None:
        self.sink = pa.BufferOutputStream()
        self.writer: pq.ParquetWriter | None = None
        self.schema = schema
        self.rows = 0
        self.pool = writer_pool
        self.pending: list[Future[None]] = []

    def _write(self, table: pa.Table) -> None:
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.sink, self.schema, compression="zstd")
        self.writer.write_table(table.cast(self.schema))

    def write(self, table: pa.Table) -> None:
        if self.schema is None:
            self.schema = table.schema
        self.rows += table.num_rows
        self.pending.append(self.pool.submit(self._write, table))

    def finish(self) -> pa.Buffer:
        for f in self.pending:
            f.result()
        if self.writer is None:
            assert self.schema is not None
            self.writer = pq.ParquetWriter(self.sink, self.schema, compression="zstd")
        self.writer.close()
        return self.sink.getvalue()


def _prefetch(batches: Iterator[pa.RecordBatch], depth: int = 2) -> Iterator[pa.RecordBatch]:
    """Read the next batches on a background thread while the current one is processed.

    If the consumer stops early (a refusal), the reader is told to stop and is waited for, so no
    thread or open file outlives the split.
    """
    queue: Queue[object] = Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def run() -> None:
        try:
            for b in batches:
                if not put(b):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)
            return
        put(done)

    thread = threading.Thread(target=run, daemon=True, name="split-reader")
    thread.start()
    try:
        while True:
            item = queue.get()
            if item is done:
                break
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()
        close = getattr(batches, "close", None)
        if close is not None:
            close()


class _TableSplitter:
    """Everything the split does to one spec table, batch by batch.

    Each batch is staged once (every value parsed, normalised and pseudonymised a single time);
    validation, the report, the content and the identifiers are then cheap reads of the stage.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        table: Table,
        file: str,
        key: bytes,
        pool: ThreadPoolExecutor,
    ) -> None:
        self.con = con
        self.table = table
        self.file = file
        self.key = key
        self.cols = {c.name: c for c in table.columns}
        self.inputs = [c for c in table.columns if c.cls != "derived"]
        self.typed = {c.name: q(f"t_{c.name}") for c in self.inputs if rules.typed_expr(c)}
        self.checks: list[tuple[str, str, str]] = []  # (column, reason, predicate over the stage)
        for col in self.inputs:
            # dropped columns never leave, but a monstrous field still means a broken extract
            found = rules.checks(col, self.typed.get(col.name))
            for reason, pred in found[:1] if col.cls == "drop" else found:
                self.checks.append((col.name, reason, pred))
        self.report: dict[str, dict[str, int | str]] = {
            c.name: {
                "class": c.cls,
                "nulls": 0,
                **({"invalid_set_to_null": 0} if c.cls == "identifier" else {}),
            }
            for c in self.inputs
        }
        # dates that should not precede another (an event before the date of birth): counted
        # and reported, not refused: either date may be the wrong one, and both stay as given
        self.order_checked = [c for c in self.inputs if c.not_before and c.type == "date"]
        for col in self.order_checked:
            self.report[col.name][f"before_{col.not_before}"] = 0
        self.rows = 0
        self.content = _ParquetSink(pool)
        self.uniques = [c for c in table.by_class("native_key") if c.unique]
        # key tables for the whole-table checks: unique keys keep every (raw, row, pseudonym);
        # other keys keep their distinct (raw, pseudonym) pairs
        self.shared = [c for c in table.by_class("native_key") if not c.unique]
        for c in self.shared:
            con.execute(f"CREATE TEMP TABLE {self._kt(c.name)} (raw VARCHAR, pe BIGINT)")
        for c in self.uniques:
            con.execute(
                f"CREATE TEMP TABLE {self._ut(c.name)} (raw VARCHAR, row BIGINT, pe BIGINT)"
            )
        self.stage_select = self._stage_select()
        self.own_identifiers = self._own_identifiers()

    def _kt(self, col: str) -> str:
        return f'"nk_{self.table.name}_{col}"'

    def _ut(self, col: str) -> str:
        return f'"uk_{self.table.name}_{col}"'

    def _stage_select(self) -> str:
        """One pass over a batch: an inner projection computes helpers and typed values once;
        the outer projection gives every output, the first failing check and the key columns."""
        inner = ["*"]
        for c in self.inputs:
            expr = rules.typed_expr(c)
            if expr:
                inner.append(f"{expr} AS {self.typed[c.name]}")
        outer = ["__row"] + [f"{q('__sid_' + i)}" for i in self.table.identities]
        for col in self.table.columns:
            if col.cls == "native_key":
                outer.append(
                    f"{prf_sql(self.key, f'trim({q(col.name)})')} AS {q('pk_' + col.name)}"
                )
                outer.append(f"trim({q(col.name)}) AS {q('rk_' + col.name)}")
            elif col.cls == "content":
                value = self.typed.get(col.name) or rules.stored_text(col)
                outer.append(f"{value} AS {q('c_' + col.name)}")
            elif col.cls == "derived":
                outer.append(f"{rules.derived_from(col, self.typed)} AS {q('c_' + col.name)}")
            elif col.cls == "identifier":
                if col.role == "dob":
                    outer.append(f"{self.typed[col.name]} AS {q('id_' + col.name)}")
                else:
                    helpers, norm = rules.identifier_staged(col, f"h_{col.name}_")
                    inner += [f"{e} AS {q(n)}" for n, e in helpers.items()]
                    outer.append(f"{norm} AS {q('id_' + col.name)}")
        for col in self.order_checked:
            before = f"{self.typed[col.name]} < {self.typed[col.not_before]}"  # type: ignore[index]
            outer.append(f"coalesce({before}, false) AS {q('nb_' + col.name)}")
        if self.checks:
            case = " ".join(f"WHEN {pred} THEN {i}" for i, (_, _, pred) in enumerate(self.checks))
            outer.append(f"CASE {case} END AS __fail")
        else:
            outer.append("CAST(NULL AS INTEGER) AS __fail")
        return f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM batch_in)"

    def _validate(self, staged: pa.Table) -> None:
        fail = staged.column("__fail")
        if fail.null_count == len(fail):
            return
        first = pc.min(fail).as_py()
        rows = staged.column("__row").filter(pc.equal(fail, first))
        column, reason, _ = self.checks[first]
        more = f" ({len(rows)} rows in this batch)" if len(rows) > 1 else ""
        raise InputError(
            reason + more, file=self.file, row=int(pc.min(rows).as_py()), column=column
        )

    def _own_identifiers(self) -> list[tuple[str, str]]:
        """(content column, SQL true when a content value holds its own row's identifiers:
        full name, NHS number, postcode or date of birth), over the stage."""
        ids = {}
        for identity in self.table.identities:
            ids[identity] = {
                c.role: q("id_" + c.name)
                for c in self.table.by_class("identifier")
                if c.identity == identity
            }
        out = []
        for col in self.table.columns:
            if col.cls != "content" or col.type != "string":
                continue
            # a code-list value, or one too short for a postcode (5 characters), cannot hold
            # an identifier: checking it would only cost time
            if col.codes is not None or (col.max_length is not None and col.max_length < 5):
                continue
            v = q("c_" + col.name)
            text, digits = f"upper({v})", f"regexp_replace({v}, '[^0-9]', '', 'g')"
            compact = f"regexp_replace(upper({v}), '[^A-Z0-9]', '', 'g')"
            conds = []
            for roles in ids.values():
                if "forename" in roles and "surname" in roles:
                    full = f"{roles['forename']} || ' ' || {roles['surname']}"
                    conds.append(f"contains({text}, {full})")
                if "nhs_number" in roles:
                    conds.append(f"contains({digits}, {roles['nhs_number']})")
                if "postcode" in roles:
                    conds.append(f"contains({compact}, replace({roles['postcode']}, ' ', ''))")
                if "dob" in roles:
                    dob = roles["dob"]
                    conds.append(
                        f"contains({digits}, strftime({dob}, '%Y%m%d')) OR "
                        f"contains({digits}, strftime({dob}, '%d%m%Y'))"
                    )
            if conds:
                out.append((col.name, f"{v} IS NOT NULL AND coalesce({' OR '.join(conds)}, false)"))
        return out

    def _refuse_own_identifiers(self) -> None:
        for column, pred in self.own_identifiers:
            row = self.con.execute(f"SELECT min(__row) FROM stage WHERE {pred}").fetchone()
            if row and row[0] is not None:
                raise InputError(
                    "a content value holds this row's own identifiers (name, NHS number, "
                    "postcode or date of birth); refused, as the bank never holds them",
                    file=self.file,
                    row=int(row[0]),
                    column=column,
                )

    def _count(self, batch: pa.RecordBatch, staged: pa.Table) -> None:
        for col in self.order_checked:
            key = f"before_{col.not_before}"
            found = pc.sum(staged.column("nb_" + col.name)).as_py() or 0
            self.report[col.name][key] = int(self.report[col.name][key]) + found
        for c in self.report:
            raw = batch.column(batch.schema.get_field_index(c))
            self.report[c]["nulls"] = int(self.report[c]["nulls"]) + raw.null_count
            if self.cols[c].cls == "identifier":
                norm = staged.column("id_" + c)
                lost = pc.sum(pc.and_(pc.is_valid(raw), pc.is_null(norm))).as_py() or 0
                self.report[c]["invalid_set_to_null"] = (
                    int(self.report[c]["invalid_set_to_null"]) + lost
                )

    def process(self, batch: pa.RecordBatch, ids_sink: _ParquetSink) -> None:
        n = batch.num_rows
        arrays = [
            *list(batch.columns),
            pa.array(np.arange(self.rows + 1, self.rows + n + 1, dtype=np.int64)),
        ]
        names = [*list(batch.schema.names), "__row"]
        for identity in self.table.identities:
            arrays.append(pa.array(random_ids(n, check=False)))
            names.append(f"__sid_{identity}")
        # small chunks let DuckDB scan the batch on every thread
        whole = pa.Table.from_batches([pa.RecordBatch.from_arrays(arrays, names=names)])
        self.con.register("batch_in", pa.Table.from_batches(whole.to_batches(max_chunksize=50_000)))
        # CREATE TABLE AS runs on every thread (collecting straight to Arrow would use one);
        # DuckDB keeps insertion order for a plain projection (preserve_insertion_order)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE stage AS {self.stage_select}")
        self.con.unregister("batch_in")
        staged = self.con.execute("SELECT * FROM stage").to_arrow_table()
        self._validate(staged)
        self._refuse_own_identifiers()
        self._count(batch, staged)
        content = {}
        for i in self.table.identities:
            content[system_id_column(i)] = staged.column(f"__sid_{i}")
        for col in self.table.columns:
            if col.cls == "native_key":
                content[col.out_name] = staged.column("pk_" + col.name)
            elif col.cls in ("content", "derived"):
                content[col.out_name] = staged.column("c_" + col.name)
        self.content.write(pa.table(content))
        keys = pa.table(
            {
                f"{p}{c.name}": staged.column(f"{p}{c.name}")
                for c in self.table.by_class("native_key")
                for p in ("rk_", "pk_")
            }
            | {"__row": staged.column("__row")}
        )
        self.con.register("keys_in", keys)
        for col in self.shared:
            rk, pk = q("rk_" + col.name), q("pk_" + col.name)
            self.con.execute(
                f"INSERT INTO {self._kt(col.name)} SELECT DISTINCT {rk}, {pk} FROM keys_in WHERE {rk} IS NOT NULL"
            )
        for col in self.uniques:
            rk, pk = q("rk_" + col.name), q("pk_" + col.name)
            self.con.execute(
                f"INSERT INTO {self._ut(col.name)} SELECT {rk}, __row, {pk} FROM keys_in WHERE {rk} IS NOT NULL"
            )
        self.con.unregister("keys_in")
        for identity in self.table.identities:
            by_role = {
                c.role: staged.column("id_" + c.name)
                for c in self.table.by_class("identifier")
                if c.identity == identity
            }
            cols = {"system_id": staged.column(f"__sid_{identity}")}
            for field in IDENTIFIER_FILE_SCHEMA:
                if field.name in ("system_id", "source_table"):
                    continue
                if field.name in by_role:
                    cols[field.name] = by_role[field.name].cast(field.type)
                elif field.name == "sex":
                    cols[field.name] = pa.array(np.full(n, 9, dtype=np.int32))
                else:
                    cols[field.name] = pa.nulls(n, field.type)
            label = self.table.name + (f":{identity}" if identity else "")
            cols["source_table"] = pa.array([label] * n, pa.string())
            ids_sink.write(pa.table(cols, schema=IDENTIFIER_FILE_SCHEMA))
        self.rows += n

    def finish(self) -> None:
        for col in self.uniques:
            t = self._ut(col.name)
            n, n_raw, n_pe = self.con.execute(
                f"SELECT count(*), count(DISTINCT raw), count(DISTINCT pe) FROM {t}"
            ).fetchone()  # type: ignore[misc]
            if n_raw != n:
                dup = self.con.execute(
                    f"SELECT min(row) FROM (SELECT row, row_number() OVER (PARTITION BY raw ORDER BY row) AS k "
                    f"FROM {t}) WHERE k = 2"
                ).fetchone()
                assert dup is not None
                raise InputError(
                    "duplicate value of a unique native key",
                    file=self.file,
                    row=int(dup[0]),
                    column=col.name,
                )
            if n_pe != n:
                refuse_if_collided(n_raw, n_pe, what=f"{self.table.name}.{col.name}")
        for col in self.shared:
            n_raw, n_pe = self.con.execute(
                f"SELECT count(DISTINCT raw), count(DISTINCT pe) FROM {self._kt(col.name)}"
            ).fetchone()  # type: ignore[misc]
            if n_raw != n_pe:
                refuse_if_collided(n_raw, n_pe, what=f"{self.table.name}.{col.name}")
        if self.rows == 0:
            raise InputError("the file has no rows", file=self.file)


def split(
    spec: DatasetSpec,
    input_path: Path,
    out: Path,
    *,
    linkage_recipient: pyrage.x25519.Recipient,
    bank_recipient: pyrage.x25519.Recipient,
    provider_key: bytes,
    encoding: str = "utf-8",
    delimiter: str = ",",
    batch_rows: int = BATCH_ROWS,
    memory_limit: str = "1GB",
    on_rows: Callable[[int], None] | None = None,
) -> SplitResult:
    """Split ``input_path`` (a table file, or a folder of them) into a sealed submission at ``out``.

    ``on_rows`` is called with the number of rows of every batch processed (for progress bars).
    """
    out = Path(out)
    if out.exists():
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        else:
            raise InputError("output folder already exists and is not empty", file=str(out))
    created = datetime.now(UTC)
    submission_id = f"{spec.dataset}-{created:%Y%m%d}-{secrets.token_hex(4)}"
    held = contextlib.ExitStack()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(out.parent)  # spills of splits that were killed (their lock is free)
        spill = held.enter_context(held_tmpdir(out.parent, "split-spill"))
    except OSError as exc:
        raise InputError(
            f"cannot write the output folder here ({exc.strerror or type(exc).__name__})",
            file=str(out),
        ) from None
    con = duckdb.connect(
        config={"memory_limit": memory_limit, "temp_directory": str(spill), "threads": "2"}
    )
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet-writer")
    try:
        single = len(spec.tables) == 1
        ids_sink = _ParquetSink(pool, IDENTIFIER_FILE_SCHEMA)
        report: dict = {"dataset": spec.dataset, "submission_id": submission_id, "tables": {}}
        content: dict[str, tuple[str, int, list[str], pa.Buffer]] = {}
        for table in spec.tables:
            path = find_table_file(Path(input_path), table.name, single)
            splitter = _TableSplitter(con, table, str(path), provider_key, pool)
            expected = [c.name for c in table.columns if c.cls != "derived"]
            batches = iter_table_file(
                path, expected, encoding=encoding, delimiter=delimiter, batch_rows=batch_rows
            )
            for batch in _prefetch(batches):
                splitter.process(batch, ids_sink)
                if on_rows:
                    on_rows(batch.num_rows)
            splitter.finish()
            report["tables"][table.name] = {
                "file": path.name,
                "rows": splitter.rows,
                "columns": splitter.report,
            }
            for col in splitter.order_checked:
                n = int(splitter.report[col.name][f"before_{col.not_before}"])
                if n:
                    report.setdefault("warnings", []).append(
                        f"{table.name}: {n:,} row(s) where {col.name} is before {col.not_before} "
                        "(kept as given; check the extract)"
                    )
            buf = splitter.content.finish()
            assert splitter.content.schema is not None
            content[content_file_name(table.bank_table)] = (
                table.bank_table, splitter.rows, splitter.content.schema.names, buf,
            )  # fmt: skip
        ids_buf = ids_sink.finish()
        n_ids = ids_sink.rows
        distinct = pq.read_table(pa.BufferReader(ids_buf), columns=["system_id"]).column(0)
        if len(distinct.unique()) != n_ids:
            raise CollisionError("SYSTEM_ID collision; run the split again")
        base = dict(
            format=SUBMISSION_FORMAT,
            dataset=spec.dataset,
            submission_id=submission_id,
            created=created.isoformat(timespec="seconds"),
            provider=spec.provider,
            spec_name=spec.dataset,
            spec_version=spec.version,
            spec_hash=spec.sha256,
            files=[],
        )
        with atomic_dir(out) as tmp:
            seal_buffers(
                tmp / "linkage",
                Manifest(kind="identifiers", recipient_zone="linkage", **base),  # type: ignore[arg-type]
                {
                    IDENTIFIERS_FILE_NAME: (
                        "IDENTIFIERS",
                        n_ids,
                        IDENTIFIER_FILE_SCHEMA.names,
                        ids_buf,
                    )
                },
                linkage_recipient,
            )
            seal_buffers(
                tmp / "bank",
                Manifest(kind="content", recipient_zone="bank", **base),  # type: ignore[arg-type]
                content,
                bank_recipient,
            )
            (tmp / "validation-report.json").write_text(json.dumps(report, indent=2) + "\n")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        con.close()
        held.close()
    return SplitResult(
        out=out,
        submission_id=submission_id,
        identifiers_rows=n_ids,
        content_rows={t: rows for t, rows, _, _ in content.values()},
        report=report,
    )


def deliver(submission: Path, zone_inbox: Path, part: str) -> Path:
    """Copy one part (``linkage`` or ``bank``) of a submission into a zone's inbox."""
    src = Path(submission) / part
    if not src.is_dir():
        raise InputError(f"submission has no {part} part", file=str(submission))
    dest = Path(zone_inbox) / Path(submission).name
    with atomic_dir(dest) as tmp:
        for f in src.iterdir():
            shutil.copy2(f, tmp / f.name)
    return dest
