"""The probabilistic stage: Fellegi-Sunter with Splink (DuckDB backend).

Records are compared with one row per register person that carries the person's surname history
(current and previous surnames) and postcode history (every address). The model is trained on a
sample of all the records (u by random sampling, m by EM, one blocking rule at a time), then
scores only the records the deterministic stages left. The trained model (Splink JSON) is kept.
Splink is imported by the functions that use it, so importing the linkage zone stays cheap.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from justicelink.linkage import nicknames
from justicelink.linkage.register import RegisterVersion

if TYPE_CHECKING:
    from splink import SettingsCreator

TRAIN_SAMPLE = 100_000
U_MAX_PAIRS = 1.5e6
EM_MAX_PAIRS = 5e5
M_FLOOR = 0.002
# the columns Splink compares; ``*_hist`` are lists (surname and postcode history)
FEATURES = (
    "nhs_number",
    "forename",
    "surname",
    "surname_hist",
    "dob",
    "sex",
    "postcode",
    "postcode_hist",
)


def _features(source: str, *, register: bool) -> str:
    """SQL giving Splink's input rows for a records relation or the register."""
    forename = "CASE WHEN forename IN ('BABY', 'INFANT', 'UNKNOWN') OR length(forename) < 2 THEN NULL ELSE forename END"
    common = f"""
        {forename} AS forename,
        surname,
        CAST(dob AS VARCHAR) AS dob,
        CAST(year(dob) AS VARCHAR) AS yob,
        CASE WHEN sex IN (1, 2) THEN sex END AS sex,
        nhs_number,
        substr({forename}, 1, 1) AS f1,
        substr(surname, 1, 1) AS s1,
        substr(CAST(dob AS VARCHAR), 6, 5) AS md"""
    if register:
        return f"""
            SELECT CAST(p.person_id AS VARCHAR) AS unique_id, {common},
                list_filter([p.surname, p.previous_surname], x -> x IS NOT NULL) AS surname_hist,
                a.current_postcode AS postcode,
                coalesce(a.postcodes, []) AS postcode_hist
            FROM {source} p LEFT JOIN reg_addresses a USING (person_id)"""
    return f"""
        SELECT CAST(system_id AS VARCHAR) AS unique_id, {common},
            list_filter([surname], x -> x IS NOT NULL) AS surname_hist,
            postcode,
            list_filter([postcode], x -> x IS NOT NULL) AS postcode_hist
        FROM {source}"""


def _settings() -> SettingsCreator:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    swap = (
        "substr(dob_l, 1, 4) = substr(dob_r, 1, 4) AND substr(dob_l, 6, 2) = substr(dob_r, 9, 2) "
        "AND substr(dob_l, 9, 2) = substr(dob_r, 6, 2)"
    )
    comparisons = [
        cl.CustomComparison(
            output_column_name="nhs_number",
            comparison_levels=[
                cll.NullLevel("nhs_number"),
                cll.ExactMatchLevel("nhs_number"),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="forename",
            comparison_levels=[
                cll.NullLevel("forename"),
                cll.ExactMatchLevel("forename", term_frequency_adjustments=True),
                cll.CustomLevel(
                    nicknames.sql_condition(), label_for_charts="name variant (lexicon)"
                ),
                cll.JaroWinklerLevel("forename", 0.92),
                cll.JaroWinklerLevel("forename", 0.80),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="surname",
            comparison_levels=[
                cll.NullLevel("surname"),
                cll.ExactMatchLevel("surname", term_frequency_adjustments=True),
                cll.CustomLevel(
                    "list_contains(surname_hist_r, surname_l) OR list_contains(surname_hist_l, surname_r)",
                    label_for_charts="in surname history (previous surname)",
                ),
                cll.JaroWinklerLevel("surname", 0.92),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="dob",
            comparison_levels=[
                cll.NullLevel("dob"),
                cll.ExactMatchLevel("dob"),
                cll.CustomLevel(swap, label_for_charts="day and month swapped"),
                cll.DamerauLevenshteinLevel("dob", 1),
                cll.CustomLevel(
                    "abs(date_diff('day', CAST(dob_l AS DATE), CAST(dob_r AS DATE))) <= 365",
                    label_for_charts="within a year",
                ),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="sex",
            comparison_levels=[cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel()],
        ),
        cl.CustomComparison(
            output_column_name="postcode",
            comparison_levels=[
                cll.NullLevel("postcode"),
                cll.ExactMatchLevel("postcode"),
                cll.CustomLevel(
                    "list_contains(postcode_hist_r, postcode_l) OR list_contains(postcode_hist_l, postcode_r)",
                    label_for_charts="in address history",
                ),
                cll.CustomLevel(
                    "substr(postcode_l, 1, length(postcode_l) - 2) = substr(postcode_r, 1, length(postcode_r) - 2)",
                    label_for_charts="same postcode sector",
                ),
                cll.ElseLevel(),
            ],
        ),
    ]
    return SettingsCreator(
        link_type="link_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[block_on(*keys) for keys in BLOCKING_KEYS],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
        max_iterations=20,
    )


# Blocking: the columns that must agree for a pair to be scored (Splink's block_on), one rule
# each; BLOCKING_SQL is the same rules as SQL over a pair (l, r), for the report's recall check.
BLOCKING_KEYS: tuple[tuple[str, ...], ...] = (
    ("nhs_number",),
    ("dob", "s1"),
    ("dob", "f1"),
    ("forename", "surname", "yob"),
    ("forename", "surname", "md"),
    ("postcode", "f1"),
    ("postcode", "s1"),
)
BLOCKING_SQL = tuple(" AND ".join(f"l.{c} = r.{c}" for c in keys) for keys in BLOCKING_KEYS)
EM_KEYS: tuple[tuple[str, ...], ...] = (("dob",), ("forename", "surname"))  # one EM pass each


@dataclass
class ProbabilisticResult:
    """Candidate pairs (``candidates`` table in the connection) and the trained model."""

    model: dict[str, Any]
    trained_on: int
    scored: int
    pairs: int
    notes: list[str] = field(default_factory=list)
    linker: Any = None  # the Splink linker that scored (for charts)
    predictions: str | None = None  # physical table of scored pairs (intermediate columns kept)


def prepare_register(
    con: duckdb.DuckDBPyConnection, reg: RegisterVersion | None, person_sql: str | None = None
) -> None:
    """Create ``splink_reg`` (one row per register person, with histories)."""
    if reg is not None:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE reg_addresses AS
                SELECT person_id,
                    arg_max(postcode, coalesce(from_date, DATE '1900-01-01')) AS current_postcode,
                    list_distinct(list(postcode)) AS postcodes
                FROM read_parquet('{reg.address}') WHERE postcode IS NOT NULL GROUP BY person_id"""
        )
        source = f"read_parquet('{reg.person}')"
    else:
        assert person_sql is not None
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE reg_addresses AS
                SELECT person_id, postcode AS current_postcode, list_filter([postcode], x -> x IS NOT NULL) AS postcodes
                FROM ({person_sql})"""
        )
        source = f"({person_sql})"
    con.execute(f"CREATE OR REPLACE TEMP TABLE splink_reg AS {_features(source, register=True)}")


M_UNOBSERVED = 0.01


def _floor_m(model: dict[str, Any]) -> list[str]:
    """EM on hard residual data can push an m to zero, and a rare level (a day/month swap) may
    not occur in the training sample at all. Floor m so that no level is impossible, and give an
    untrained level a small prior (1% of matches) rather than none."""
    notes = []
    for comp in model["comparisons"]:
        for level in comp["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m = level.get("m_probability")
            if m is None and level.get("u_probability") is not None:
                level["m_probability"] = M_UNOBSERVED
                notes.append(
                    f"m of {comp['output_column_name']}: {level.get('label_for_charts')} not observed; prior {M_UNOBSERVED}"
                )
            elif m is not None and m < M_FLOOR:
                level["m_probability"] = M_FLOOR
                notes.append(
                    f"m of {comp['output_column_name']}: {level.get('label_for_charts')} floored at {M_FLOOR}"
                )
    return notes


def train_and_predict(
    con: duckdb.DuckDBPyConnection,
    all_records: str,
    remaining: str,
    *,
    seed: int = 42,
    threshold: float = 0.01,
) -> ProbabilisticResult:
    """Train on a sample of ``all_records``, score ``remaining`` against ``splink_reg``.

    Leaves ``candidates(system_id, person_id, match_weight, match_probability)`` in ``con``.
    """
    from splink import DuckDBAPI, Linker, block_on

    n_all = con.execute(f"SELECT count(*) FROM {all_records}").fetchone()[0]  # type: ignore[index]
    n_rem = con.execute(f"SELECT count(*) FROM {remaining}").fetchone()[0]  # type: ignore[index]
    frac = min(1.0, TRAIN_SAMPLE / max(n_all, 1))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE splink_train AS {_features(all_records, register=False)} "
        f"WHERE hash(unique_id || '{seed}') % 1000000 < {int(frac * 1_000_000)}"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE splink_todo AS {_features(remaining, register=False)}"
    )
    notes: list[str] = []
    db = DuckDBAPI(connection=con)
    train_rec = db.register("splink_train", dataset_display_name="records")
    train_reg = db.register("splink_reg", dataset_display_name="register")
    linker = Linker([train_rec, train_reg], _settings(), log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("nhs_number", "dob"), block_on("forename", "surname", "dob")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
    for rule in (block_on(*keys) for keys in EM_KEYS):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True, max_pairs=EM_MAX_PAIRS
            )
        except Exception as exc:  # a degenerate rule (e.g. nothing blocked) is skipped, not fatal
            notes.append(
                f"EM on {rule.get_blocking_rule('duckdb').blocking_rule_sql} skipped: {exc.__class__.__name__}"
            )
    model = linker.misc.save_model_to_json()
    notes += _floor_m(model)
    pairs = 0
    scorer, table = linker, None
    if n_rem:
        db2 = DuckDBAPI(connection=con)
        todo = db2.register("splink_todo", dataset_display_name="records")
        reg2 = db2.register("splink_reg", dataset_display_name="register")
        # keep per-comparison weights of the (few) scored pairs for the waterfall charts
        scoring = {
            **model,
            "retain_intermediate_calculation_columns": True,
            "retain_matching_columns": True,
        }
        scorer = Linker([todo, reg2], scoring, log_level=logging.ERROR)
        pred = scorer.inference.predict(threshold_match_probability=threshold, warning_mode="never")
        table = pred.physical_name
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE candidates AS
                SELECT CAST(CASE WHEN source_dataset_l = 'records' THEN unique_id_l ELSE unique_id_r END AS BIGINT) AS system_id,
                       CAST(CASE WHEN source_dataset_l = 'records' THEN unique_id_r ELSE unique_id_l END AS BIGINT) AS person_id,
                       match_weight, match_probability
                FROM {table}"""
        )
        pairs = con.execute("SELECT count(*) FROM candidates").fetchone()[0]  # type: ignore[index]
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE candidates (system_id BIGINT, person_id BIGINT, match_weight DOUBLE, match_probability DOUBLE)"
        )
    return ProbabilisticResult(
        model=model, trained_on=int(n_all * frac), scored=int(n_rem), pairs=int(pairs), notes=notes,
        linker=scorer, predictions=table,
    )  # fmt: skip


def save_model(model: dict[str, Any], path: Path) -> None:
    Path(path).write_text(json.dumps(model, indent=2, default=str) + "\n")
