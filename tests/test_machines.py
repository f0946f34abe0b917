"""The state machines as tables: every state x action x kind of actor, and the generated docs."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from justicelink.control import (
    MACHINES,
    OUTPUT_REQUEST,
    PROJECT,
    Group,
    RequestAction,
    RequestState,
    state_machines_markdown,
)
from justicelink.control.machines import decision_for
from justicelink.formats import RefusedError

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_every_state_action_and_actor(machine) -> None:
    """Allowed exactly when the table has the row and the actor is in the row's group; a
    refusal names what is allowed now."""
    kinds = [{g} for g in Group] + [set(), {Group.AUTHOR, Group.CHECKER}]
    walked = 0
    for state, action, groups in itertools.product(machine.states, machine.actions, kinds):
        row = machine.find(state, action)
        if row is not None and row.by in groups:
            assert machine.step("x", state, action, groups).to == row.to
        else:
            with pytest.raises(RefusedError) as err:
                machine.step("x", state, action, groups)
            msg = str(err.value)
            assert f"is {state.value}" in msg
            if row is None:
                assert "allowed now" in msg or "nothing more can happen" in msg
            else:
                assert f"only the {row.by}" in msg
        walked += 1
    assert walked == len(machine.states) * len(machine.actions) * len(kinds)


def test_every_request_state_has_exactly_one_owner() -> None:
    for state in OUTPUT_REQUEST.states:
        owners = OUTPUT_REQUEST.owners(state)
        assert len(owners) <= 1, f"{state} is owned by {owners}"
    assert OUTPUT_REQUEST.terminal() == {"released", "rejected", "withdrawn"}


def test_authors_never_review_and_the_platform_decides() -> None:
    for t in OUTPUT_REQUEST.transitions:
        if t.action in (RequestAction.REVIEW, RequestAction.RELEASE):
            assert t.by == Group.CHECKER
        if t.state == RequestState.REVIEWED:
            assert t.by == Group.PLATFORM
    assert decision_for(["approve", "approve"]) == RequestAction.DECIDE_APPROVE
    assert decision_for(["approve", "return"]) == RequestAction.DECIDE_RETURN
    assert decision_for(["approve", "reject"]) == RequestAction.DECIDE_REJECT
    assert decision_for(["approve"]) == RequestAction.DECIDE_RETURN


def test_every_project_state_is_reachable_from_submission() -> None:
    seen, todo = {PROJECT.initial}, [PROJECT.initial]
    while todo:
        s = todo.pop()
        for t in PROJECT.transitions:
            if t.state == s and t.to not in seen:
                seen.add(t.to)
                todo.append(t.to)
    assert seen == {s.value for s in PROJECT.states}


def test_state_machine_diagrams_are_generated_from_the_tables() -> None:
    assert (DOCS / "state-machines.md").read_text() == state_machines_markdown(), (
        "docs/state-machines.md is stale: run `justicelink control machines > docs/state-machines.md`"
    )
