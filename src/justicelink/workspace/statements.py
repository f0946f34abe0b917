"""The statement check: what researcher SQL may contain, decided before DuckDB runs any of it.

Two layers. The statement kinds allowed (``ALLOWED_STATEMENTS``), from the session's own
locked-down connection's parser (never the module-level default connection: parsing
``IMPORT DATABASE`` reads files). Then every word of the SQL, as DuckDB's tokenizer splits it
(comments skipped, quoted names unquoted, case and Unicode compatibility forms folded): a word
naming a refused function or view (``REFUSED``) refuses the whole query, wherever it appears
(in a ``SELECT``, a view or macro body, qualified as ``system.main.x`` or not). The
engine's own locks (no external access, configuration locked) stay the first wall; this check
closes what they leave open: host paths and settings in metadata functions, SQL hidden in a
string (``query``), raw pointers (``arrow_scan``), profiling and logging switches.
"""

from __future__ import annotations

import re
import unicodedata

import duckdb

from justicelink.formats import JusticelinkError


class QueryRefused(JusticelinkError):
    pass


# Statement kinds a researcher may run. Everything else (ATTACH, DETACH, COPY, EXPORT, IMPORT,
# INSTALL, LOAD, SET, RESET, USE, CALL, CHECKPOINT, VACUUM, PREPARE, EXECUTE, BEGIN, COMMIT,
# ...) is refused before DuckDB sees it.
ALLOWED_STATEMENTS = frozenset(
    {
        duckdb.StatementType.SELECT,
        duckdb.StatementType.EXPLAIN,
        duckdb.StatementType.CREATE,
        duckdb.StatementType.INSERT,
        duckdb.StatementType.UPDATE,
        duckdb.StatementType.DELETE,
        duckdb.StatementType.DROP,
        duckdb.StatementType.ALTER,
    }
)
# kinds that can add to the catalog or the workspace file (checked after they run)
WRITING_STATEMENTS = frozenset(
    {
        duckdb.StatementType.EXPLAIN,  # EXPLAIN ANALYZE runs its statement
        duckdb.StatementType.CREATE,
        duckdb.StatementType.INSERT,
        duckdb.StatementType.UPDATE,
        duckdb.StatementType.ALTER,
    }
)

_FILES = (
    "read_csv read_csv_auto read_parquet parquet_scan read_json read_json_auto read_json_objects "
    "read_json_objects_auto read_ndjson read_ndjson_auto read_ndjson_objects read_text read_blob "
    "read_duckdb glob parquet_metadata parquet_schema parquet_file_metadata parquet_kv_metadata "
    "parquet_full_metadata parquet_bloom_probe sniff_csv sqlite_scan sqlite_attach read_xlsx "
    "iceberg_scan delta_scan"
)
# every surface that shows a host path, a setting or a secret (tests/test_workspace_hostile.py
# runs each system table function and view and fails on any path not refused here)
_HOST = (
    "duckdb_databases pragma_database_list duckdb_settings current_setting pg_settings "
    "duckdb_temporary_files duckdb_extensions duckdb_external_file_cache duckdb_secrets "
    "which_secret duckdb_secret_types getenv duckdb_logs duckdb_log_contexts pragma_user_agent "
    "pragma_metadata_info"
)
# views (named without parentheses); every other refused name is refused when it is called
_VIEWS = frozenset({"duckdb_databases", "pragma_database_list", "pg_settings", "duckdb_logs"})
_ENGINE = (
    "query query_table json_execute_serialized_sql arrow_scan arrow_scan_dumb pandas_scan "
    "python_map_function seq_scan checkpoint force_checkpoint enable_logging disable_logging "
    "truncate_duckdb_logs enable_profiling disable_profiling dbgen dsdgen"
)
REFUSED: dict[str, str] = {
    **dict.fromkeys(_FILES.split(), "reads files"),
    **dict.fromkeys(_HOST.split(), "shows the platform's configuration"),
    **dict.fromkeys(_ENGINE.split(), "reaches past the workspace's SQL"),
}
_WORD = re.compile(r"[\w$]+")


def words(sql: str) -> list[tuple[str, str, bool]]:
    """Each identifier and keyword of ``sql`` as DuckDB's tokenizer finds it: (kind, folded
    text, whether a ``(`` follows). Quoted names are unquoted; text is NFKC-normalised and
    case-folded, so ``"GLOB"``, ``Glob`` and fullwidth ``ｇｌｏｂ`` are one word."""
    out: list[tuple[str, str, bool]] = []
    tokens = duckdb.tokenize(sql)
    for i, (pos, kind) in enumerate(tokens):
        if kind not in (duckdb.token_type.identifier, duckdb.token_type.keyword):
            continue
        nxt = tokens[i + 1][0] if i + 1 < len(tokens) else len(sql)
        called = sql[nxt : nxt + 1] == "("
        if sql[pos] == '"':
            end = pos + 1
            text = []
            while end < len(sql):
                if sql[end] == '"':
                    if sql[end + 1 : end + 2] == '"':
                        text.append('"')
                        end += 2
                        continue
                    break
                text.append(sql[end])
                end += 1
            word = "".join(text)
        else:
            m = _WORD.match(sql, pos)
            word = m.group(0) if m else sql[pos : pos + 1]
        out.append((kind.name, fold(word), called))
    return out


def fold(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


def split(con: duckdb.DuckDBPyConnection, sql: str) -> list[duckdb.Statement]:
    """The statements of ``sql``, parsed by the session's own (locked-down) connection."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused(f"query refused: {exc}".strip().splitlines()[0][:300]) from None
    if not statements:
        raise QueryRefused("empty query")
    for st in statements:
        # DuckDB expands some statements (a PIVOT without an IN list) into several, and gives
        # no text for them: nothing to check, so nothing to run
        if not st.query.strip():
            raise QueryRefused(
                "this statement cannot be checked (a PIVOT without an IN list?); name the "
                "values: PIVOT t ON col IN ('a', 'b') USING ..."
            )
    return statements


def check(statements: list[duckdb.Statement], store: str, workspace: str) -> None:
    """Refuse the whole query if any statement is of a refused kind or names a refused
    function; messages name the rule, never anything from the data."""
    where = f"query your project's tables ({store}) and write to your workspace ({workspace})"
    for st in statements:
        if st.type not in ALLOWED_STATEMENTS:
            kind = str(st.type).rsplit(".", 1)[-1]
            raise QueryRefused(f"{kind} statements are not allowed in the workspace; {where}")
        found = words(st.query)
        # PRAGMA is parsed into a SELECT (PRAGMA show_tables), so its keyword is refused here
        if found and found[0][1] == "pragma":
            raise QueryRefused(f"PRAGMA statements are not allowed in the workspace; {where}")
        if st.type == duckdb.StatementType.CREATE and "secret" in {w for _, w, _ in found[:6]}:
            raise QueryRefused("secrets cannot be created in the workspace")
        for _, word, called in found:
            why = REFUSED.get(word)
            if why and (called or word in _VIEWS):
                raise QueryRefused(f"{word} is not available in the workspace (it {why}); {where}")
