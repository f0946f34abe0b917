"""The rules every zone reads have one home: status codes and filters, schema names."""

from __future__ import annotations

import pytest

from justicelink.formats import (
    ALF_STATUS,
    LOOSE_FILTER,
    RESEARCH_FILTER,
    STRICT_FILTER,
    AlfStatus,
    ProjectGrant,
    project_schema,
    status_in,
    status_list,
    workspace_schema,
)


def test_status_meanings_come_from_the_enum() -> None:
    assert {s.value: s.meaning for s in AlfStatus} == ALF_STATUS
    assert list(ALF_STATUS) == [1, 4, 39, 35, 99]


def test_the_filters_nest_strict_research_loose() -> None:
    assert STRICT_FILTER == (1,)
    assert RESEARCH_FILTER == (1, 4, 39)
    assert LOOSE_FILTER == (1, 4, 39, 35)
    assert set(STRICT_FILTER) < set(RESEARCH_FILTER) < set(LOOSE_FILTER)


def test_a_filter_renders_once_for_sql_and_for_labels() -> None:
    assert status_list(RESEARCH_FILTER) == "(1, 4, 39)"
    assert status_list(STRICT_FILTER) == "(1)"  # not Python's "(1,)", which SQL refuses
    assert status_in("p.ALF_STS_CD", LOOSE_FILTER) == "p.ALF_STS_CD IN (1, 4, 39, 35)"


@pytest.mark.parametrize("codes", [(), (1, 2), ("1); DROP TABLE x; --",)])
def test_a_filter_holds_only_known_codes(codes: tuple) -> None:
    with pytest.raises(ValueError):
        status_list(codes)


def test_sail_schema_names() -> None:
    assert project_schema("0001") == "SAIL0001V"
    assert workspace_schema("0001") == "SAILW0001V"
    grant = ProjectGrant(project_id="0042", title="t")
    assert (grant.schema, grant.workspace_schema) == ("SAIL0042V", "SAILW0042V")
