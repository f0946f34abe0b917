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
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from justicelink.linkage import nicknames, prepared
from justicelink.linkage.fields import FieldChoice, choose_fields
from justicelink.linkage.prepared import TF_COLUMNS, Prepared
from justicelink.linkage.register import RegisterVersion

if TYPE_CHECKING:
    from splink import SettingsCreator

TRAIN_SAMPLE = 100_000
U_MAX_PAIRS = 1.5e6
EM_MAX_PAIRS = 2e5
M_FLOOR = 0.002
# the matcher's decision rules: a refresh reuses earlier decisions only when made by this version
MATCHER_VERSION = "0010.1"
CANDIDATE_FLOOR_BITS = 16
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


def _comparisons(fields: FieldChoice) -> list[Any]:
    """One comparison per field that carries information in this run (``fields.used``)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    swap = (
        "substr(dob_l, 1, 4) = substr(dob_r, 1, 4) AND substr(dob_l, 6, 2) = substr(dob_r, 9, 2) "
        "AND substr(dob_l, 9, 2) = substr(dob_r, 6, 2)"
    )
    # a forename and surname recorded the wrong way round (allowing a typo), or one name written
    # in the other's place (the forename field holding the surname)
    names_swapped = (
        "jaro_winkler_similarity(forename_l, surname_r) >= 0.88 "
        "AND jaro_winkler_similarity(surname_l, forename_r) >= 0.88"
    )
    name_crossed = "forename_l = surname_r OR surname_l = forename_r"
    levels: dict[str, list[Any]] = {
        "nhs_number": [
            cll.NullLevel("nhs_number"),
            cll.ExactMatchLevel("nhs_number"),
            cll.ElseLevel(),
        ],
        "forename": [
            cll.NullLevel("forename"),
            cll.ExactMatchLevel("forename", term_frequency_adjustments=True),
            cll.CustomLevel(nicknames.sql_condition(), label_for_charts="name variant (lexicon)"),
            cll.JaroWinklerLevel("forename", 0.92),
            # one edit (a transposition in a short name, AVA/VAA) that Jaro-Winkler scores low
            cll.DamerauLevenshteinLevel("forename", 1),
            cll.JaroWinklerLevel("forename", 0.80),
            *(
                [
                    cll.CustomLevel(names_swapped, label_for_charts="forename and surname swapped"),
                    cll.CustomLevel(name_crossed, label_for_charts="a name in the other's place"),
                ]
                if "surname" in fields
                else []
            ),
            cll.ElseLevel(),
        ],
        "surname": [
            cll.NullLevel("surname"),
            cll.ExactMatchLevel("surname", term_frequency_adjustments=True),
            cll.CustomLevel(
                "list_contains(surname_hist_r, surname_l) OR list_contains(surname_hist_l, surname_r)",
                label_for_charts="in surname history (previous surname)",
            ),
            cll.JaroWinklerLevel("surname", 0.92),
            cll.DamerauLevenshteinLevel("surname", 1),
            cll.JaroWinklerLevel("surname", 0.80),
            cll.ElseLevel(),
        ],
        "dob": [
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
        "sex": [cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel()],
        "postcode": [
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
    }
    return [
        cl.CustomComparison(output_column_name=f, comparison_levels=levels[f]) for f in fields.used
    ]


def _settings(
    fields: FieldChoice,
    rules: tuple[tuple[str, ...], ...],
    register_size: int,
    *,
    link_type: str = "link_only",
) -> SettingsCreator:
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type=link_type,  # type: ignore[arg-type]
        comparisons=_comparisons(fields),
        blocking_rules_to_generate_predictions=[block_on(*k) for k in rules],
        # the prior for a random pair; decisions do not use it (see assign.py: the posterior is
        # computed per record from Bayes factors, the register size and the share of records
        # that have a match)
        probability_two_random_records_match=1 / max(register_size, 2),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
        max_iterations=20,
    )


# Blocking: the columns that must agree for a pair to be scored (Splink's block_on), one rule
# each. Derived keys: f1/s1 first letter of forename/surname, yob year and md month-day of birth.
BLOCKING_KEYS: tuple[tuple[str, ...], ...] = (
    ("nhs_number",),
    ("dob", "s1"),
    ("dob", "f1"),
    ("forename", "surname", "yob"),
    ("forename", "surname", "md"),
    ("postcode", "f1"),
    ("postcode", "s1"),
)
DERIVED = {"f1": "forename", "s1": "surname", "yob": "dob", "md": "dob"}
# EM passes, one per rule, chosen by ``em_rules``. A pass estimates m only for the fields its
# rule leaves free, and two-class EM needs at least two informative free fields to tell matches
# from pairs that merely share the blocked values (with names, dob and sex only, blocking on the
# two names leaves dob and sex: EM then takes "same sex" for "same person").
EM_KEYS: tuple[tuple[str, ...], ...] = (
    ("dob",),
    ("forename", "surname"),
    ("postcode",),
    ("surname",),
    ("forename",),
    ("nhs_number",),
)
WEAK_FIELDS = ("sex",)


# Wider rules, added cheapest first (by the pairs each generates in this run) while the pairs
# stay within the budget: on a small register they cost little and catch records whose errors
# defeat every rule above; on a national register they would swamp the scoring, and are left out.
WIDE_KEYS: tuple[tuple[str, ...], ...] = (
    ("surname", "yob"),
    ("forename", "yob"),
    ("forename", "surname"),
    ("dob",),
    ("postcode",),
    ("surname",),
    ("forename",),
)
PAIRS_PER_RECORD = 50  # budget for the wide rules: pairs per record scored, at least PAIRS_MIN
PAIRS_MIN = 100_000


def _usable(keys: tuple[str, ...], fields: FieldChoice) -> bool:
    return all(DERIVED.get(k, k) in fields for k in keys)


def count_pairs(
    con: duckdb.DuckDBPyConnection, keys: tuple[str, ...], left: str, right: str,
    right_counts: Path | None = None,
) -> int:  # fmt: skip
    """How many pairs a blocking rule generates between two feature tables (exact, by group).
    ``right_counts``: the right side's counts per key value, prepared with the register."""
    cols = ", ".join(keys)
    not_null = " AND ".join(f"{k} IS NOT NULL" for k in keys)
    counted = (
        f"read_parquet('{right_counts}')"
        if right_counts is not None and right_counts.is_file()
        else f"(SELECT {cols}, count(*) AS n FROM {right} WHERE {not_null} GROUP BY ALL)"
    )
    row = con.execute(
        f"""SELECT coalesce(sum(l.n * r.n), 0) FROM
            (SELECT {cols}, count(*) AS n FROM {left} WHERE {not_null} GROUP BY ALL) l
            JOIN {counted} r USING ({cols})"""
    ).fetchone()
    return int(row[0]) if row else 0


def choose_blocking(
    con: duckdb.DuckDBPyConnection, fields: FieldChoice, left: str, right: str,
    prepared: Prepared | None = None,
) -> tuple[tuple[tuple[str, ...], ...], list[str], int]:  # fmt: skip
    """The blocking rules for this run, a note on each wide rule taken or left out, and the
    pairs the wide rules taken bring."""
    rules = list(blocking_keys(fields))
    n = con.execute(f"SELECT count(*) FROM {left}").fetchone()[0]  # type: ignore[index]
    budget = max(PAIRS_MIN, PAIRS_PER_RECORD * n)
    spent, notes = 0, []
    costs = sorted(
        ((count_pairs(con, keys, left, right, prepared.key_counts(keys) if prepared else None), i, keys)
         for i, keys in enumerate(WIDE_KEYS) if _usable(keys, fields))
    )  # fmt: skip
    for pairs, _, keys in costs:
        name = " + ".join(keys)
        if spent + pairs <= budget:
            rules.append(keys)
            spent += pairs
            notes.append(f"wide blocking rule {name}: {pairs:,} pairs, taken")
        else:
            notes.append(
                f"wide blocking rule {name}: {pairs:,} pairs, left out (budget {budget:,})"
            )
    return tuple(rules), notes, spent


def _reads(field: str, fields: FieldChoice) -> set[str]:
    """The fields a comparison reads (see ``_comparisons``)."""
    return {"forename", "surname"} if field == "forename" and "surname" in fields else {field}


def em_rules(fields: FieldChoice) -> tuple[tuple[str, ...], ...]:
    """Two EM passes: each leaves at least two informative fields free, and every field the
    first pass blocks on is free in the second (so every field gets an m estimate)."""
    strong = [f for f in fields.used if f not in WEAK_FIELDS]

    def free(keys: tuple[str, ...]) -> set[str]:
        # Splink leaves out of a pass every comparison that reads a blocked column: the forename
        # comparison also reads the surname (its "forename and surname swapped" level)
        blocked = {DERIVED.get(k, k) for k in keys}
        return {f for f in strong if not (_reads(f, fields) & blocked)}

    ok = [k for k in EM_KEYS if _usable(k, fields) and len(free(k)) >= 2]
    if not ok:
        return ()
    first = ok[0]
    blocked = {DERIVED.get(k, k) for k in first}
    second = next((k for k in ok[1:] if blocked <= free(k)), None)
    if second is None:
        return (first,)
    # the second pass also holds the weak fields fixed (their m comes from the first): with few
    # fields free, EM otherwise settles on "same sex" (half of all pairs) as the match class
    weak = tuple(f for f in WEAK_FIELDS if f in fields and f not in second)
    return (first, second + weak)


def blocking_keys(fields: FieldChoice | None = None) -> tuple[tuple[str, ...], ...]:
    """The standard blocking rules whose fields all carry information (all when ``None``)."""
    if fields is None:
        return BLOCKING_KEYS
    return tuple(k for k in BLOCKING_KEYS if _usable(k, fields))


def blocking_sql(rules: tuple[tuple[str, ...], ...] | None = None) -> tuple[str, ...]:
    """Blocking rules as SQL over a pair (l, r), for the report's recall check."""
    return tuple(" AND ".join(f"l.{c} = r.{c}" for c in keys) for keys in rules or BLOCKING_KEYS)


@dataclass(frozen=True)
class Trained:
    """What a run learnt, kept so that a refresh can score its new records the same way."""

    model: dict[str, Any]
    rules: tuple[tuple[str, ...], ...]
    share_matched: float
    notes: tuple[str, ...] = ()
    scored: int = 0  # records the run scored (pi was estimated on them)
    wide_pairs: int = 0  # pairs its wide blocking rules brought

    def as_json(self) -> dict[str, Any]:
        return {"model": self.model, "rules": [list(r) for r in self.rules],
                "share_matched": self.share_matched, "notes": list(self.notes),
                "scored": self.scored, "wide_pairs": self.wide_pairs}  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Trained:
        return cls(d["model"], tuple(tuple(r) for r in d["rules"]), float(d["share_matched"]),
                   tuple(d.get("notes", ())), int(d.get("scored", 0)),
                   int(d.get("wide_pairs", 0)))  # fmt: skip


@dataclass
class ProbabilisticResult:
    """Candidate pairs (``candidates`` table in the connection) and the trained model."""

    model: dict[str, Any] | None
    trained_on: int
    scored: int
    pairs: int
    notes: list[str] = field(default_factory=list)
    linker: Any = None  # the Splink linker that scored (for charts)
    predictions: str | None = None  # physical table of scored pairs (intermediate columns kept)
    fields: FieldChoice | None = None  # what was compared, and what was left out and why
    rules: tuple[tuple[str, ...], ...] = ()  # the blocking rules of this run
    register_size: int = 0
    wide_pairs: int = 0  # pairs the wide blocking rules brought


def prior_weight(model: dict[str, Any]) -> float:
    """Splink's match weight of a pair before any comparison: log2(lambda / (1 - lambda)).
    A pair's log2 Bayes factor is its match weight minus this."""
    lam = float(model["probability_two_random_records_match"])
    return math.log2(lam / (1 - lam))


def address_sql(address_parquet: Path | str) -> str:
    """One row per person: the current postcode and the list of every postcode held."""
    return f"""SELECT person_id,
            arg_max(postcode, coalesce(from_date, DATE '1900-01-01')) AS current_postcode,
            list_distinct(list(postcode)) AS postcodes
        FROM read_parquet('{address_parquet}') WHERE postcode IS NOT NULL GROUP BY person_id"""


def prepare_register(
    con: duckdb.DuckDBPyConnection, reg: RegisterVersion | None, person_sql: str | None = None
) -> Prepared | None:
    """Create ``splink_reg`` (one row per register person, with histories). A register version
    prepared when it was loaded is read as it is (see ``prepared.py``) and returned."""
    if reg is not None:
        # a version loaded before preparation existed is prepared now, once
        ready = prepared.ensure(reg.folder)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE splink_reg AS SELECT * FROM read_parquet('{ready.features}')"
        )
        return ready
    else:
        assert person_sql is not None
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE reg_addresses AS
                SELECT person_id, postcode AS current_postcode, list_filter([postcode], x -> x IS NOT NULL) AS postcodes
                FROM ({person_sql})"""
        )
        source = f"({person_sql})"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE splink_reg AS {_features(source, register=True)}"
        )
        return None


def _register_tf(db: Any, linker: Any, ready: Prepared) -> None:
    """Term frequencies from the prepared register rather than recomputed per run."""
    for col in TF_COLUMNS:
        if ready.tf(col).is_file():
            con = db._con
            table = f"prepared_tf_{col}"
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_parquet('{ready.tf(col)}')"
            )
            linker.table_management.register_term_frequency_lookup(
                db.register(table, dataset_display_name=table), col
            )


def _apply_prepared_u(linker: Any, ready: Prepared) -> bool:
    """Set u of every comparison level from the prepared register; False if any is missing."""
    known = ready.u_levels()
    settings = linker._settings_obj
    wanted = []
    for comp in settings.comparisons:
        for level in comp.comparison_levels:
            if level.is_null_level:
                continue
            key = (comp.output_column_name, level.label_for_charts)
            if key not in known:
                return False
            # a level no sampled pair of different people reached (a name swap): rarer than
            # once in the pairs sampled
            u = known[key]
            wanted.append((level, u if u is not None else 1 / U_MAX_PAIRS))
    for level, u in wanted:
        level.u_probability = u
    return True


M_UNOBSERVED = 0.01


PRIOR_M_EXACT, PRIOR_M_ELSE = 0.9, 0.02


def _check_m(model: dict[str, Any]) -> list[str]:
    """EM can settle on the wrong class (pairs that share a family's surname, or a sex). Among
    true matches exact agreement is far more common than total disagreement; where the fitted m
    says otherwise, the comparison falls back to a prior (exact 0.9, disagreement 0.02, the rest
    shared by the partial levels) and the report says so."""
    notes = []
    for comp in model["comparisons"]:
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        if len(levels) < 2:
            continue
        exact, other = levels[0].get("m_probability"), levels[-1].get("m_probability")
        if exact is None or other is None or exact > other:
            continue
        partial = levels[1:-1]
        levels[0]["m_probability"] = PRIOR_M_EXACT
        levels[-1]["m_probability"] = PRIOR_M_ELSE
        for lv in partial:
            lv["m_probability"] = (1 - PRIOR_M_EXACT - PRIOR_M_ELSE) / len(partial)
        if not partial:
            levels[-1]["m_probability"] = 1 - PRIOR_M_EXACT
        notes.append(
            f"m of {comp['output_column_name']}: EM found exact agreement rarer among matches "
            f"than disagreement ({exact:.3f} against {other:.3f}); prior m used"
        )
    return notes


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
    prepared: Prepared | None = None,
    fixed: Trained | None = None,
) -> ProbabilisticResult:
    """Train on a sample of ``all_records``, score ``remaining`` against ``splink_reg``; with
    ``fixed`` (the parameters of an earlier run), score with them and train nothing.

    Leaves ``candidates(system_id, person_id, match_weight, match_probability)`` in ``con``.
    """

    n_all = con.execute(f"SELECT count(*) FROM {all_records}").fetchone()[0]  # type: ignore[index]
    n_rem = con.execute(f"SELECT count(*) FROM {remaining}").fetchone()[0]  # type: ignore[index]
    frac = min(1.0, TRAIN_SAMPLE / max(n_all, 1))
    sample = all_records if fixed is None else remaining
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE splink_train AS {_features(sample, register=False)} "
        f"WHERE hash(unique_id || '{seed}') % 1000000 < {int(frac * 1_000_000)}"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE splink_todo AS {_features(remaining, register=False)}"
    )
    fields = choose_fields(con, "splink_train", "splink_reg")
    notes: list[str] = (
        fields.notes() if fixed is None else [f"earlier run: {n}" for n in fixed.notes]
    )
    n_reg = con.execute("SELECT count(*) FROM splink_reg").fetchone()[0]  # type: ignore[index]
    if fixed is not None:
        model, rules, wide_pairs = fixed.model, fixed.rules, fixed.wide_pairs
        notes.append("model, blocking rules and share matched reused from the earlier run")
    elif not blocking_keys(fields):
        notes.append("probabilistic stage skipped: no blocking rule has all its fields")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE candidates (system_id BIGINT, person_id BIGINT, match_weight DOUBLE, match_probability DOUBLE)"
        )
        return ProbabilisticResult(
            model=None, trained_on=0, scored=int(n_rem), pairs=0, notes=notes, fields=fields,
            register_size=int(n_reg),
        )  # fmt: skip
    else:
        model, rules, more, wide_pairs = _train(con, fields, n_reg, seed=seed, prepared=prepared)
        notes += more
    res = _score(con, model, rules, prepared, notes, n_all, frac, n_rem, n_reg, fields)
    res.wide_pairs = wide_pairs
    return res


def _train(
    con: duckdb.DuckDBPyConnection, fields: FieldChoice, n_reg: int, *, seed: int,
    prepared: Prepared | None,
) -> tuple[dict[str, Any], tuple[tuple[str, ...], ...], list[str], int]:  # fmt: skip
    """u (prepared, or by random sampling) and m by EM on ``splink_train`` against ``splink_reg``."""
    from splink import DuckDBAPI, Linker, block_on

    notes: list[str] = []
    db = DuckDBAPI(connection=con)
    train_rec = db.register("splink_train", dataset_display_name="records")
    train_reg = db.register("splink_reg", dataset_display_name="register")
    rules, rule_notes, wide_pairs = choose_blocking(
        con, fields, "splink_todo", "splink_reg", prepared
    )
    notes += rule_notes
    linker = Linker(
        [train_rec, train_reg], _settings(fields, rules, n_reg), log_level=logging.ERROR
    )
    if prepared is not None:
        _register_tf(db, linker, prepared)
    if prepared is not None and _apply_prepared_u(linker, prepared):
        notes.append("u from the prepared register version (estimated once, when it was loaded)")
    else:
        linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
    passes = em_rules(fields)
    notes.append("EM passes blocked on: " + ("; ".join(" + ".join(k) for k in passes) or "none"))
    for rule in (block_on(*keys) for keys in passes):
        before = linker.misc.save_model_to_json()
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True, max_pairs=EM_MAX_PAIRS
            )
        except Exception as exc:  # a degenerate pass (nothing blocked, m underflow) is skipped
            # Splink leaves the linker's settings without the pass's blocked comparisons when a
            # pass fails: start again from the model as it was before the pass
            linker = Linker([train_rec, train_reg], before, log_level=logging.ERROR)
            notes.append(
                f"EM on {rule.get_blocking_rule('duckdb').blocking_rule_sql} skipped: {exc.__class__.__name__}"
            )
    model = linker.misc.save_model_to_json()
    notes += _check_m(model)
    notes += _floor_m(model)
    return model, rules, notes, wide_pairs


def _score(
    con: duckdb.DuckDBPyConnection, model: dict[str, Any], rules: tuple[tuple[str, ...], ...],
    prepared: Prepared | None, notes: list[str], n_all: int, frac: float, n_rem: int, n_reg: int,
    fields: FieldChoice,
) -> ProbabilisticResult:  # fmt: skip
    from splink import DuckDBAPI, Linker

    pairs = 0
    scorer: Any = None
    table = None
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
        if prepared is not None:
            _register_tf(db2, scorer, prepared)
        # keep every pair that could matter to a decision: a Bayes factor within 2^16 of the
        # register size (the posterior of anything below is negligible, see assign.py)
        floor = prior_weight(model) + math.log2(max(n_reg, 2)) - CANDIDATE_FLOOR_BITS
        pred = scorer.inference.predict(threshold_match_weight=floor, warning_mode="never")
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
        linker=scorer, predictions=table, fields=fields, rules=rules, register_size=int(n_reg),
    )  # fmt: skip


def save_model(model: dict[str, Any], path: Path) -> None:
    Path(path).write_text(json.dumps(model, indent=2, default=str) + "\n")
