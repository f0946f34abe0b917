"""Output requests through the facade on a real demo home: two checkers, never the author; the
platform decides; returned requests are changed and reviewed again; a release is decided from
the reviews in the control plane, never from a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy
from signin import sign_in

from justicelink.formats import RefusedError
from justicelink.platform import Platform


@pytest.fixture(scope="module")
def people(demo_home: Path):
    ps = {u: sign_in(demo_home, u) for u in ("rhys", "olwen", "owain", "dana")}
    yield ps
    for p in ps.values():
        p.close()


def _new(people) -> str:  # type: ignore[no-untyped-def]
    return people["rhys"].analyses.example("0001").request_id


def test_two_different_checkers_never_the_author(people, demo_home: Path) -> None:
    rid = _new(people)
    rhys, olwen, owain = people["rhys"], people["olwen"], people["owain"]
    with pytest.raises(RefusedError, match="rhys is a researcher; airlock.review is for"):
        rhys.airlock.review(rid, "approve")
    with pytest.raises(RefusedError, match="dana is a data_manager"):
        people["dana"].airlock.review(rid, "approve")
    assert olwen.airlock.review(rid, "approve", "fine") == "partially_reviewed"
    with pytest.raises(RefusedError, match="olwen has already reviewed"):
        olwen.airlock.review(rid, "approve")
    with pytest.raises(RefusedError, match="is partially_reviewed: release is not allowed"):
        olwen.airlock.release(rid)
    assert not (demo_home / "airlock" / "released" / rid).exists()
    assert owain.airlock.review(rid, "approve", "agree") == "approved"
    decided = [e for e in olwen.cp.audit_entries(f"request:{rid}") if e.action == "airlock.decide"]
    assert decided[0].actor == "system" and decided[0].on_behalf_of == "user:owain"
    dest = owain.airlock.release(rid)
    assert (dest / "checksums.sha256").is_file()
    assert olwen.cp.request(rid).state == "released"


@pytest.mark.parametrize("votes,final", [(("approve", "return"), "returned"),
                                         (("approve", "reject"), "rejected")])  # fmt: skip
def test_votes_decide(people, votes: tuple[str, str], final: str) -> None:
    rid = _new(people)
    people["olwen"].airlock.review(rid, votes[0])
    assert people["owain"].airlock.review(rid, votes[1], "see cell (2016, D)") == final


def test_a_returned_request_is_changed_and_checked_again(people) -> None:
    rid = _new(people)
    rhys, olwen, owain = people["rhys"], people["olwen"], people["owain"]
    with pytest.raises(RefusedError, match="is submitted: update_file is not allowed"):
        rhys.airlock.update(rid, "output_0_0.csv", b"issue_year,n\n2015,120\n")
    olwen.airlock.review(rid, "approve")
    owain.airlock.review(rid, "return", "round the counts")
    with pytest.raises(RefusedError, match="olwen is an output_checker; airlock.update is for"):
        olwen.airlock.update(rid, "output_0_0.csv", b"x")
    rhys.airlock.update(rid, "output_0_0.csv", b"issue_year,n\n2015,120\n")
    assert rhys.airlock.submit(rid) == "submitted"
    req = rhys.cp.request(rid)
    assert req.round == 2 and req.current_reviews() == [] and len(req.reviews) == 2
    # the same checkers review afresh in the new round
    olwen.airlock.review(rid, "approve")
    assert owain.airlock.review(rid, "approve") == "approved"


def test_a_request_file_edited_to_approved_is_not_released(people, demo_home: Path) -> None:
    rid = _new(people)
    folder = demo_home / "airlock" / "requests" / rid
    (folder / "request.json").write_text(json.dumps({"request_id": rid, "state": "approved",
                                                     "reviews": [{"checker": "olwen", "vote": "approve"},
                                                                 {"checker": "owain", "vote": "approve"}]}))  # fmt: skip
    with pytest.raises(RefusedError, match="is submitted: release is not allowed"):
        people["olwen"].airlock.release(rid)
    assert not (demo_home / "airlock" / "released" / rid).exists()
    (folder / "request.json").unlink()


def test_a_state_edited_in_the_database_is_not_released(people, demo_home: Path) -> None:
    rid = _new(people)
    olwen: Platform = people["olwen"]
    with olwen.cp.engine.begin() as conn:
        conn.execute(sqlalchemy.text(
            f"UPDATE output_requests SET state = 'approved' WHERE request_id = '{rid}'"))  # fmt: skip
    with pytest.raises(RefusedError, match="does not have two approving reviews"):
        olwen.airlock.release(rid)
    assert not (demo_home / "airlock" / "released" / rid).exists()
    problems = olwen.cp.verify_audit().problems
    assert any(f"request {rid} is approved (round 1) but the audit log records submitted" in p
               for p in problems)  # fmt: skip
    with olwen.cp.engine.begin() as conn:  # put it back for the tests that follow
        conn.execute(sqlalchemy.text(
            f"UPDATE output_requests SET state = 'submitted' WHERE request_id = '{rid}'"))  # fmt: skip
    assert olwen.cp.verify_audit().ok


def test_an_output_changed_after_approval_is_not_released(people, demo_home: Path) -> None:
    rid = _new(people)
    people["olwen"].airlock.review(rid, "approve")
    people["owain"].airlock.review(rid, "approve")
    csv = demo_home / "airlock" / "requests" / rid / "acro" / "output_0_0.csv"
    csv.write_text(csv.read_text() + "2099,3\n")
    with pytest.raises(RefusedError, match="changed after it was checked"):
        people["olwen"].airlock.release(rid)
    assert not (demo_home / "airlock" / "released" / rid).exists()
    assert people["olwen"].cp.request(rid).state == "approved"


def test_nothing_leaves_a_revoked_project(people, demo_home: Path) -> None:
    from justicelink.demo import application

    rhys = people["rhys"]
    tables = ["CAFCASS_ALF", "CAFCASS_APPLICATION", "CAFCASS_APPLICATIONSERVICEUSERS"]
    pid = rhys.applications.submit(
        application("Short-lived", {"CAFW": rhys.catalogue.columns("CAFW", tables)}, ["rhys"])
    )
    with sign_in(demo_home, "gita") as gita:
        gita.applications.decide(pid, "approve", "ok")
        people["dana"].projects.provision(pid)
        rid = rhys.analyses.example(pid).request_id
        people["olwen"].airlock.review(rid, "approve")
        people["owain"].airlock.review(rid, "approve")
        gita.projects.revoke(pid, "consent withdrawn")
    with pytest.raises(RefusedError, match=f"project {pid} was revoked; nothing more leaves it"):
        people["olwen"].airlock.release(rid)
    assert not (demo_home / "airlock" / "released" / rid).exists()


def test_a_changed_file_is_marked_for_review(people) -> None:
    rid = _new(people)
    people["olwen"].airlock.review(rid, "approve")
    people["owain"].airlock.review(rid, "return", "round it")
    people["rhys"].airlock.update(rid, "output_0_0.csv", b"issue_year,n\n2015,125\n")
    f = next(f for f in people["rhys"].cp.request(rid).files if f.name == "output_0_0.csv")
    assert f.status == "review"
    assert people["olwen"].cp.verify_audit().ok
