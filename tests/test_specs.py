"""Spec validation: every content value is bounded, or the spec is refused."""

from __future__ import annotations

import pytest

from justicelink.formats import InputError
from justicelink.specs import available_specs, load_spec
from justicelink.specs.model import parse_spec

HEAD = 'dataset = "T"\ntitle = "t"\nprovider = "p"\nversion = "1"\n[[tables]]\nname = "T"\n'


def _spec(columns: str):
    return parse_spec((HEAD + f"columns = [{columns}]\n").encode(), "t.toml")


def test_every_shipped_content_string_is_bounded() -> None:
    for name in available_specs():
        for t in load_spec(name).tables:
            for c in t.columns:
                if c.cls == "content" and c.type == "string":
                    assert c.codes is not None or (c.regex and c.max_length), (name, c.name)
                if c.type == "date":
                    assert c.min and c.max, (name, c.name)
                if c.cls == "content" and c.type in ("integer", "decimal"):
                    assert c.codes is not None or (c.min is not None and c.max is not None), (
                        name,
                        c.name,
                    )


@pytest.mark.parametrize(
    "column,reason",
    [
        ('{ name = "X", class = "content", type = "string" }', "needs a code list, or a pattern"),
        ('{ name = "X", class = "content", type = "string", pattern = "[A-Z]+" }', "max_length"),
        (
            '{ name = "X", class = "content", type = "string", pattern = "([", max_length = 3 }',
            "not a regular expression",
        ),
        (
            '{ name = "X", class = "content", type = "string", codes = ["a"], max_length = 0 }',
            "positive whole number",
        ),
        ('{ name = "X", class = "content", type = "date", max = "tomorrow" }', "YYYY-MM-DD"),
        (
            '{ name = "X", class = "content", type = "integer", min = "a", max = 1 }',
            "numeric bound",
        ),
        ('{ name = "X", class = "content", type = "integer" }', "needs a code list, or a min"),
        (
            '{ name = "X", class = "content", type = "decimal", min = 0 }',
            "needs a code list, or a min",
        ),
        (
            '{ name = "X", class = "content", type = "string", codes = ["a"], min = 1 }',
            "apply to dates and numbers",
        ),
        (
            '{ name = "X", class = "content", type = "date", not_before = "DOB" }',
            "unknown not_before",
        ),
    ],
)
def test_unbounded_or_broken_bounds_are_refused(column: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        _spec(column)


def test_dates_default_to_a_range() -> None:
    spec = _spec('{ name = "X", class = "content", type = "date" }')
    col = spec.tables[0].columns[0]
    assert (col.min, col.max) == ("1900-01-01", "today")
