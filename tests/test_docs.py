"""Docs that other people rely on stay in step with the code."""

from __future__ import annotations

from pathlib import Path

from justicelink import analyses
from justicelink.formats import (
    ALF_FILE_COLUMNS,
    ALF_STATUS,
    IDENTIFIER_FILE_COLUMNS,
    LOOSE_FILTER,
    RESEARCH_FILTER,
    status_in,
    status_list,
)

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_interchange_doc_lists_every_column_and_status() -> None:
    text = (DOCS / "interchange.md").read_text()
    for col, sql_type in [*IDENTIFIER_FILE_COLUMNS.items(), *ALF_FILE_COLUMNS.items()]:
        assert f"| {col} | {sql_type} |" in text, f"docs/interchange.md does not document {col}"
    for code, meaning in ALF_STATUS.items():
        assert f"| {code} | {meaning} |" in text, f"docs/interchange.md: status {code}"
    assert f"`{status_in('ALF_STS_CD', RESEARCH_FILTER)}`" in text, "docs/interchange.md: filter"


def test_the_filters_quoted_in_prose_are_the_ones_the_code_uses() -> None:
    """The analyses' methods (module docstrings, printed in the report) and docs/analyses.md
    quote the research and loose filters; they must be the constants the SQL is built from."""
    import sys

    default, loose = status_list(RESEARCH_FILTER), status_list(LOOSE_FILTER)
    assert list(analyses.FILTERS) == ["strict (1)", f"default {default}", f"loose {loose}"]
    for name in ("newborns", "private_law"):
        doc = sys.modules[f"justicelink.analyses.{name}"].__doc__ or ""
        assert f"ALF_STS_CD IN {default}" in " ".join(doc.split()), name
    text = (DOCS / "analyses.md").read_text()
    assert f"default: `IN {default}`" in text and f"loose: `IN {loose}`" in text


def test_every_zone_has_a_guide() -> None:
    for zone in ("provider", "linkage", "bank", "control", "projects", "airlock"):
        assert (DOCS / "zones" / f"{zone}.md").is_file(), zone


def test_specs_page_is_generated_from_the_specs() -> None:
    from justicelink.specs.markdown import specs_markdown

    assert (DOCS / "specs.md").read_text() == specs_markdown(), (
        "docs/specs.md is stale: run `justicelink provider specs --markdown > docs/specs.md`"
    )


def test_security_doc_names_only_tests_that_exist() -> None:
    """docs/security.md proves each protection by naming a test: every test file and test
    function it names must exist (a renamed or deleted test fails here, not silently)."""
    import re

    text = (DOCS / "security.md").read_text()
    root = DOCS.parent
    files = set(re.findall(r"`(tests/test_\w+\.py)(?:::\w+)?`", text))
    assert len(files) >= 8
    for f in files:
        assert (root / f).is_file(), f"docs/security.md names {f}, which does not exist"
    for f, name in re.findall(r"`(tests/test_\w+\.py)::(\w+)`", text):
        assert f"def {name}(" in (root / f).read_text(), f"{f} has no {name}"
    everything = "".join(p.read_text() for p in (root / "tests").glob("test_*.py"))
    for name in set(re.findall(r"`(test_\w+)`", text)):
        assert f"def {name}(" in everything, f"docs/security.md names {name}, which no test has"
