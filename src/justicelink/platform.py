"""Composition layer: where a platform home keeps each zone, and the steps that move files
between zones. It uses only the zones' public APIs (``justicelink.<zone>``), never their insides.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from justicelink import airlock, analyses, bank, linkage, projects, provider
from justicelink.control import Application, ControlPlane
from justicelink.crypto import ZoneKeys, load_recipient
from justicelink.formats import RefusedError
from justicelink.specs import load_spec
from justicelink.workspace import ProjectSession

MARKER = ".justicelink-home"


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def provider(self) -> Path:
        return self.root / "provider"

    @property
    def linkage(self) -> Path:
        return self.root / "linkage"

    @property
    def bank(self) -> Path:
        return self.root / "bank"

    @property
    def control(self) -> Path:
        return self.root / "control"

    @property
    def projects(self) -> Path:
        return self.root / "projects"

    @property
    def airlock(self) -> Path:
        return self.root / "airlock"

    @property
    def truth(self) -> Path:
        return self.root / "truth"

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / MARKER).write_text("justicelink platform home\n")
        ZoneKeys.create(self.provider, "provider")
        ZoneKeys.create(self.linkage, "linkage")
        ZoneKeys.create(self.bank, "bank")
        for d in (self.control, self.projects, self.airlock):
            d.mkdir(parents=True, exist_ok=True)

    def control_plane(self) -> ControlPlane:
        """SQLite in the home by default; JUSTICELINK_CONTROL_URL selects a server database
        (e.g. postgresql+psycopg://user@host/db)."""
        return ControlPlane.open(
            self.control, url=os.environ.get("JUSTICELINK_CONTROL_URL") or None
        )

    def recipient(self, zone_dir: Path, zone: str) -> str:
        return ZoneKeys.open(zone_dir, zone).recipient


def split_and_deliver(home: Home, dataset: str, extract: Path) -> provider.SplitResult:
    spec = load_spec(dataset)
    keys = ZoneKeys.open(home.provider, "provider")
    staging = home.provider / "outbox" / f".staging-{dataset}"
    result = provider.split(
        spec,
        extract,
        staging,
        linkage_recipient=load_recipient(home.recipient(home.linkage, "linkage")),
        bank_recipient=load_recipient(home.recipient(home.bank, "bank")),
        provider_key=keys.prf_key(),
    )
    final = home.provider / "outbox" / result.submission_id
    staging.rename(final)
    provider.deliver(final, home.linkage / "inbox", "linkage")
    provider.deliver(final, home.bank / "inbox", "bank")
    return result


def link_and_deliver(home: Home, submission_id: str) -> linkage.RunResult:
    run = linkage.run_submission(
        home.linkage / "inbox" / submission_id,
        home.linkage,
        load_recipient(home.recipient(home.bank, "bank")),
    )
    dest = home.bank / "inbox" / "alf"
    dest.mkdir(parents=True, exist_ok=True)
    import shutil

    shutil.copytree(run.outbox, dest / submission_id)
    return run


def has_people(dataset: str) -> bool:
    return any(t.is_person_table for t in load_spec(dataset).tables)


def load_into_bank(home: Home, submission_id: str, refresh_date: str | None) -> bank.LoadResult:
    alf = home.bank / "inbox" / "alf" / submission_id
    return bank.load(
        home.bank / "inbox" / submission_id,
        alf if alf.exists() else None,
        home.bank,
        refresh_date=refresh_date,
    )


def all_columns(home: Home, dataset: str, tables: list[str] | None = None) -> dict[str, list[str]]:
    """Every bank column of a dataset's latest version (for an application asking for all)."""
    v = bank.latest(home.bank, dataset)
    if v is None:
        raise RefusedError(f"the bank holds no {dataset}")
    return {t: pq.read_schema(v.table_path(t)).names for t in (tables or v.tables)}


def provision_project(
    home: Home, project_id: str, actor: str, *, refresh: bool = False
) -> projects.Provisioned:
    cp = home.control_plane()
    try:
        grant = cp.grant(project_id)
        holdings = [bank.describe(home.bank, ds) for ds in grant.datasets]
        result = projects.provision(grant, holdings, home.projects, refresh=refresh)
        cp.audit(
            actor,
            "project.provision",
            f"project:{project_id}",
            pins=result.pins,
            tables=sorted(result.tables),
        )
        return result
    finally:
        cp.close()


def revoke_project(home: Home, project_id: str, actor: str, reason: str) -> Path | None:
    """Governance revokes; the project's store and key are withdrawn at once. Audited."""
    cp = home.control_plane()
    try:
        cp.revoke(project_id, actor, reason)
        moved = projects.withdraw(home.projects, project_id)
        cp.audit(
            actor,
            "project.withdraw",
            f"project:{project_id}",
            workspace_moved_to=str(moved) if moved else None,
        )
        return moved
    finally:
        cp.close()


def open_session(home: Home, project_id: str, user: str) -> ProjectSession:
    """A researcher's session: refused unless they are a member of a current project. Audited."""
    cp = home.control_plane()
    try:
        try:
            cp.require_member(project_id, user)
        except RefusedError as exc:
            cp.audit(
                user, "workspace.open.refused", f"project:{project_id}", reason=_safe_reason(exc)
            )
            raise
        cp.audit(user, "workspace.open", f"project:{project_id}")
    finally:
        cp.close()
    return ProjectSession(
        project_id,
        projects.store_path(home.projects, project_id),
        projects.workspace_path(home.projects, project_id),
    )


def _safe_reason(exc: BaseException) -> str:
    """A refusal's reason for the audit log: its first line, cut before any quoted value (a
    database error can quote a cell, and cells never go into logs)."""
    return str(exc).strip().splitlines()[0].split("'")[0].split('"')[0][:200]


def audited_query(home: Home, session: ProjectSession, user: str, sql: str):  # type: ignore[no-untyped-def]
    """Run researcher SQL; the query's hash (never its rows) and the outcome are audited."""
    digest = hashlib.sha256(sql.encode("utf-8")).hexdigest()
    obj = f"project:{session.project_id}"
    try:
        table = session.query(sql)
    except Exception as exc:
        _audit(
            home, user, "workspace.query.refused", obj, sql_sha256=digest, reason=_safe_reason(exc)
        )
        raise
    _audit(home, user, "workspace.query", obj, sql_sha256=digest, rows=table.num_rows)
    return table


@dataclass(frozen=True)
class AuditedSession:
    """A researcher's session whose every query is audited (what analyses receive)."""

    home: Home
    session: ProjectSession
    user: str

    @property
    def project_id(self) -> str:
        return self.session.project_id

    def query(self, sql: str):  # type: ignore[no-untyped-def]
        return audited_query(self.home, self.session, self.user, sql)


def _role(home: Home, user: str) -> str:
    cp = home.control_plane()
    try:
        return cp.role(user)
    finally:
        cp.close()


def _audit(home: Home, actor: str, action: str, obj: str, **details: Any) -> None:
    cp = home.control_plane()
    try:
        cp.audit(actor, action, obj, **details)
    finally:
        cp.close()


def airlock_request(
    home: Home,
    project_id: str,
    user: str,
    builder: airlock.OutputBuilder,
    *,
    title: str,
    description: str,
    sql: str = "",
) -> airlock.OutputRequest:
    """A member of the project turns their ACRO session into a request and submits it."""
    cp = home.control_plane()
    try:
        cp.require_member(project_id, user)
    finally:
        cp.close()
    req = airlock.create_request(
        home.airlock, project_id=project_id, author=user, builder=builder, title=title, description=description, sql=sql
    )  # fmt: skip
    _audit(home, user, "airlock.create", f"request:{req.request_id}", outcomes=req.outcomes)
    state = airlock.act(home.airlock, req.request_id, "submit", user, _role(home, user))
    _audit(home, user, "airlock.submit", f"request:{req.request_id}", state=state)
    return req


def airlock_review(home: Home, request_id: str, checker: str, vote: str, comment: str) -> str:
    state = airlock.act(
        home.airlock,
        request_id,
        "review",
        checker,
        _role(home, checker),
        vote=vote,
        comment=comment,
    )
    _audit(
        home,
        checker,
        "airlock.review",
        f"request:{request_id}",
        vote=vote,
        comment=comment,
        state=state,
    )
    return state


def airlock_release(home: Home, request_id: str, checker: str) -> Path:
    dest = airlock.release(home.airlock, request_id, checker, _role(home, checker))
    _audit(home, checker, "airlock.release", f"request:{request_id}", destination=str(dest))
    return dest


def airlock_view(home: Home, request_id: str, user: str) -> airlock.RequestState:
    """Checkers and the author may look at a request; every look is audited."""
    state = airlock.RequestState.load(airlock.request_folder(home.airlock, request_id))
    role = _role(home, user)
    if user != state.author and role != "output_checker":
        _audit(home, user, "airlock.view.refused", f"request:{request_id}")
        raise RefusedError(f"{user} may not see request {request_id}")
    _audit(home, user, "airlock.view", f"request:{request_id}")
    return state


def run_example_analysis(home: Home, project_id: str, user: str) -> airlock.OutputRequest:
    """The researcher counts children in care proceedings by year and asks for the table."""
    with open_session(home, project_id, user) as session:
        audited = AuditedSession(home, session, user)

        result = analyses.children_in_care_proceedings_by_year(audited)
    frame = result.table.to_pandas()
    builder = airlock.OutputBuilder()
    builder.acro.crosstab(frame["issue_year"], frame.assign(measure="children")["measure"])
    return airlock_request(
        home,
        project_id,
        user,
        builder,
        title=result.title,
        description=result.description,
        sql=result.sql,
    )


ANALYSES = ("children-by-la", "newborns", "recurrence", "parents-health", "private-law")


def _records(table: Any, count: str, columns: list[str], flag: str | None = None) -> pd.DataFrame:
    """Record-level rows rebuilt from aggregate counts, for ACRO (which counts records): one row
    per counted unit; with ``flag``, the first ``flag`` rows of each group carry 1, the rest 0."""
    agg = table.to_pandas()
    idx = agg.index.repeat(agg[count].astype(int))
    out = agg.loc[idx, columns].reset_index(drop=True)
    if flag is not None:
        rank = out.groupby(agg.index[idx].to_numpy()).cumcount().to_numpy()
        out["applied"] = (rank < agg.loc[idx, flag].to_numpy()).astype(int)
    return out


def run_family_justice_analyses(
    home: Home, project_id: str, user: str, names: tuple[str, ...] = ANALYSES
) -> tuple[Path, dict[str, str]]:
    """The family-justice analyses (all, or those named), with sensitivity bands; every output
    is submitted to the airlock (ACRO checks); the report stays in the project's workspace."""
    unknown = sorted(set(names) - set(ANALYSES))
    if unknown:
        raise RefusedError(f"unknown analyses {unknown}; known: {', '.join(ANALYSES)}")
    results: dict[str, Any] = {}
    with open_session(home, project_id, user) as session:
        audited = AuditedSession(home, session, user)
        if "children-by-la" in names:
            results["children-by-la"] = analyses.children_per_10k_by_la(audited)
        if "newborns" in names:
            results["newborns"] = analyses.newborns_in_care_proceedings(audited)
        if "recurrence" in names:
            results["recurrence"] = analyses.recurrent_proceedings(audited)
        if "parents-health" in names:
            results["parents-health"] = analyses.parents_health(audited)
        if "private-law" in names:
            results["private-law"] = analyses.private_law_rates(audited)
    requests: dict[str, str] = {}

    def submit(
        key: str, b: airlock.OutputBuilder, title: str, description: str, sql: str = ""
    ) -> None:
        requests[key] = airlock_request(
            home, project_id, user, b, title=title, description=description, sql=sql
        ).request_id

    if "children-by-la" in results:
        la = results["children-by-la"]
        b = airlock.OutputBuilder()
        kids = la.children.to_pandas()
        b.acro.crosstab(kids["la"], kids["yr"])
        pop = _records(la.by_year, "child_years", ["la", "yr"])
        b.acro.crosstab(pop["la"], pop["yr"])
        submit("children_by_la", b, "Children in s31 proceedings and child population, by local authority and year",
               "Numerators (children in s31 proceedings) and denominators (children aged 0-17 on 1 July).", la.sql)  # fmt: skip
    if "newborns" in results:
        newborn = results["newborns"]
        b = airlock.OutputBuilder()
        frame = newborn.record_level.to_pandas()
        b.acro.crosstab(frame["birth_year"], frame["issued"])
        submit("newborns", b, "Newborns in care proceedings by year of birth",
               "Newborn subjects of s31 applications by year of birth and days from birth to issue.", newborn.sql)  # fmt: skip
    if "recurrence" in results:
        b = airlock.OutputBuilder()
        rframe = results["recurrence"].record_level.to_pandas()
        b.acro.crosstab(rframe["age_band"], rframe["returned"])
        submit("recurrence", b, "Mothers returning to court by age at first case",
               "Mothers in s31 proceedings who came back to court, by age at their first case.")  # fmt: skip
    if "parents-health" in results:
        _, cohort = results["parents-health"]
        b = airlock.OutputBuilder()
        # ACRO builds pandas queries from column names: keep them plain identifiers
        hframe = pd.DataFrame(
            {
                "group": cohort.group,
                **{k.replace(" ", "_").replace("-", "_"): v for k, v in cohort.flags.items()},
            }
        )
        for measure in hframe.columns[1:]:
            b.acro.crosstab(hframe["group"], hframe[measure])
        submit("parents_health", b, "Parents' health in the 2 years before proceedings",
               "Parents in s31 proceedings and a comparison group matched on sex, year of birth and deprivation quintile, by measure.")  # fmt: skip
    if "private-law" in results:
        priv = results["private-law"]
        b = airlock.OutputBuilder()
        fam = _records(priv.family_years, "families", ["yr", "q", "la"], flag="applications")
        b.acro.crosstab(fam["q"], fam["applied"])
        b.acro.crosstab(fam["la"], fam["applied"])
        submit("private_law", b, "Private-law applications per family, by deprivation quintile and local authority",
               "Family-years (mothers with a child under 18 on 1 July) with and without a new private-law application.", priv.sql)  # fmt: skip
    report = (
        projects.workspace_path(home.projects, project_id).parent
        / "reports"
        / "family-justice-analyses.html"
    )
    analyses.write_report(report, project_id, results, requests)
    _audit(home, user, "analyses.run", f"project:{project_id}", requests=requests)
    return report, requests


def write_demo_json(home: Home, data: dict) -> Path:
    path = home.root / "demo.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def application(
    title: str, datasets: dict[str, dict[str, list[str]]], researchers: list[str]
) -> Application:
    today = date.today()
    return Application(
        title=title,
        purpose=f"{title}: research into how the family justice system works for children and families.",
        lay_summary="We will count and describe children and families in family court, using anonymised data only.",
        datasets=datasets,
        researchers=researchers,
        start_date=today.replace(day=1),
        end_date=date(today.year + 2, today.month, 1),
    )
