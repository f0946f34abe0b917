"""A register version prepared once, reused by every run against it.

Built when ``linkage register load`` writes a version, in its ``prepared/`` folder:

- ``features.parquet``: one row per person as the probabilistic stage compares it (normalised
  names, the surname and postcode histories as lists, the derived blocking keys f1, s1, yob, md);
- ``tf_forename.parquet``, ``tf_surname.parquet``: term frequencies over the register (Splink's
  lookup format: the value and ``tf_<column>``);
- ``keys_<key>.parquet``: people per value of each wide blocking key, so a run counts the pairs
  a rule would bring from its own records alone;
- ``u.json``: u probabilities (how often two different people agree at each comparison level),
  estimated by random sampling of register pairs, for every field the register carries.

A run then reads these instead of rebuilding them: only m (trained by EM on the records at hand)
and the scoring are paid per run. u from register pairs stands for u from record-register pairs:
both are pairs of different people of the same population (records add typos, which move u of
the fuzzy levels very little); the run says when it used them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb

from justicelink.formats import atomic_dir
from justicelink.linkage import spill

PREPARED = "prepared"
TF_COLUMNS = ("forename", "surname")


@dataclass(frozen=True)
class Prepared:
    folder: Path

    @property
    def features(self) -> Path:
        return self.folder / "features.parquet"

    def tf(self, column: str) -> Path:
        return self.folder / f"tf_{column}.parquet"

    @property
    def u(self) -> Path:
        return self.folder / "u.json"

    def key_counts(self, keys: tuple[str, ...]) -> Path:
        """People per value of a blocking key (for counting a rule's pairs without a scan)."""
        return self.folder / f"keys_{'_'.join(keys)}.parquet"

    def exists(self) -> bool:
        return self.features.is_file() and self.u.is_file()

    def u_levels(self) -> dict[tuple[str, str], float | None]:
        """(comparison, level label) -> u probability (None: no sampled pair was at that level)."""
        model = json.loads(self.u.read_text())
        return {
            (c["output_column_name"], lv["label_for_charts"]): lv.get("u_probability")
            for c in model["comparisons"]
            for lv in c["comparison_levels"]
            if not lv.get("is_null_level")
        }


def prepared_of(version_folder: Path) -> Prepared:
    return Prepared(Path(version_folder) / PREPARED)


def ensure(version_folder: Path) -> Prepared:
    """The prepared folder of a version, built (whole, atomically) if it is not there: a version
    loaded before preparation existed is prepared on first use."""
    ready = prepared_of(version_folder)
    if not ready.exists():
        with atomic_dir(ready.folder, replace=True) as tmp:
            build(version_folder, out=tmp)
    return ready


def build(version_folder: Path, *, out: Path | None = None, seed: int = 42) -> Prepared:
    """Write the prepared folder of a register version (``person.parquet``, ``address.parquet``)
    into ``out`` (default: the version's ``prepared/``)."""
    folder = Path(version_folder)
    out_p = Prepared(Path(out)) if out is not None else prepared_of(folder)
    out_p.folder.mkdir(parents=True, exist_ok=True)
    with spill.connect(folder.parent, "prepare") as con:
        return _build(con, folder, out_p, seed)


def _build(con: duckdb.DuckDBPyConnection, folder: Path, out: Prepared, seed: int) -> Prepared:
    from splink import DuckDBAPI, Linker

    from justicelink.linkage.fields import choose_fields
    from justicelink.linkage.probabilistic import (
        U_MAX_PAIRS,
        WIDE_KEYS,
        _features,
        _settings,
        address_sql,
    )

    con.execute(f"CREATE TEMP TABLE reg_addresses AS {address_sql(folder / 'address.parquet')}")
    source = f"read_parquet('{folder / 'person.parquet'}')"
    con.execute(f"CREATE TEMP TABLE splink_reg AS {_features(source, register=True)}")
    con.execute(f"COPY splink_reg TO '{out.features}' (FORMAT parquet, COMPRESSION zstd)")
    for col in TF_COLUMNS:
        con.execute(
            f"""COPY (SELECT {col}, CAST(count(*) AS DOUBLE) / (SELECT count({col}) FROM splink_reg) AS tf_{col}
                FROM splink_reg WHERE {col} IS NOT NULL GROUP BY {col})
                TO '{out.tf(col)}' (FORMAT parquet)"""
        )
    for keys in WIDE_KEYS:
        cols = ", ".join(keys)
        not_null = " AND ".join(f"{k} IS NOT NULL" for k in keys)
        con.execute(
            f"""COPY (SELECT {cols}, count(*) AS n FROM splink_reg WHERE {not_null} GROUP BY ALL)
                TO '{out.key_counts(keys)}' (FORMAT parquet)"""
        )
    fields = choose_fields(con, "splink_reg", "splink_reg")
    settings = _settings(fields, (), 2, link_type="dedupe_only")
    db = DuckDBAPI(connection=con)
    reg = db.register("splink_reg", dataset_display_name="register")
    linker = Linker(reg, settings, log_level=logging.ERROR)
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
    model = linker.misc.save_model_to_json()
    out.u.write_text(json.dumps(model, indent=2, default=str) + "\n")
    return out
