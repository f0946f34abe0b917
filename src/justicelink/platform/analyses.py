"""The family-justice analyses, run by a researcher in their project through the facade:
every query audited, every output sent to the airlock (ACRO checks first); the report stays in
the project's workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from justicelink import airlock, analyses, projects
from justicelink.control import Permit
from justicelink.formats import RefusedError
from justicelink.platform.airlock import Submitted
from justicelink.platform.verbs import Namespace, verb


def _example(ns: Analyses, project_id: str) -> Submitted:
    """The researcher counts children in care proceedings by year and asks for the table."""
    with ns.p.workspace.session(project_id) as audited:
        result = analyses.children_in_care_proceedings_by_year(audited)
    frame = result.table.to_pandas()
    builder = airlock.OutputBuilder()
    builder.acro.crosstab(frame["issue_year"], frame.assign(measure="children")["measure"])
    return ns.p.airlock.create(
        project_id,
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


def _run(ns: Analyses, project_id: str, names: tuple[str, ...]) -> tuple[Path, dict[str, str]]:
    """The family-justice analyses (all, or those named), with sensitivity bands; every output
    is submitted to the airlock (ACRO checks); the report stays in the project's workspace."""
    unknown = sorted(set(names) - set(ANALYSES))
    if unknown:
        raise RefusedError(f"unknown analyses {unknown}; known: {', '.join(ANALYSES)}")
    results: dict[str, Any] = {}
    p = ns.p
    with p.workspace.session(project_id) as audited:
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
        requests[key] = p.airlock.create(
            project_id, b, title=title, description=description, sql=sql
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
        projects.workspace_path(p.home.projects, project_id).parent
        / "reports"
        / "family-justice-analyses.html"
    )
    analyses.write_report(report, project_id, results, requests)
    p.record("analyses.run", f"project:{project_id}", requests=requests)
    return report, requests


class Analyses(Namespace):
    @verb("analyses.run", lambda p, project_id, **_: p.project_resource(project_id))
    def run(
        self, permit: Permit, project_id: str, names: tuple[str, ...] | None = None
    ) -> tuple[Path, dict[str, str]]:
        """The analyses (all, or those named); returns the report and the airlock requests."""
        return _run(self, project_id, tuple(names) if names else ANALYSES)

    @verb("analyses.run", lambda p, project_id: p.project_resource(project_id))
    def example(self, permit: Permit, project_id: str) -> Submitted:
        """Children in care proceedings by year, sent to the airlock."""
        return _example(self, project_id)
