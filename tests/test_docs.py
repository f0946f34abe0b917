"""Docs that other people rely on stay in step with the code."""

from __future__ import annotations

from pathlib import Path

from justicelink.formats import (
    ALF_FILE_COLUMNS,
    ALF_STATUS,
    IDENTIFIER_FILE_COLUMNS,
    RESEARCH_FILTER,
    status_in,
)

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_interchange_doc_lists_every_column_and_status() -> None:
    text = (DOCS / "interchange.md").read_text()
    for col, sql_type in [*IDENTIFIER_FILE_COLUMNS.items(), *ALF_FILE_COLUMNS.items()]:
        assert f"| {col} | {sql_type} |" in text, f"docs/interchange.md does not document {col}"
    for code, meaning in ALF_STATUS.items():
        assert f"| {code} | {meaning} |" in text, f"docs/interchange.md: status {code}"
    assert f"`{status_in('ALF_STS_CD', RESEARCH_FILTER)}`" in text, "docs/interchange.md: filter"


def test_every_zone_has_a_guide() -> None:
    for zone in ("provider", "linkage", "bank", "control", "projects", "airlock"):
        assert (DOCS / "zones" / f"{zone}.md").is_file(), zone


def test_specs_page_is_generated_from_the_specs() -> None:
    from justicelink.specs.markdown import specs_markdown

    assert (DOCS / "specs.md").read_text() == specs_markdown(), (
        "docs/specs.md is stale: run `justicelink provider specs --markdown > docs/specs.md`"
    )
