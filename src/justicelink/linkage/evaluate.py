"""Linkage accuracy against a truth file: precision, recall and F1, overall and by group.

Truth file: ``system_id, person_id`` (the true register person; NULL if the person is not on the
register). A record counts as linked when its status is in the research filter
(``formats.RESEARCH_FILTER``: 1, 4, 39) unless another set of statuses is given.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from justicelink.formats import RESEARCH_FILTER, AlfStatus, status_in


@dataclass(frozen=True)
class Accuracy:
    records: int
    linked: int
    correct: int
    matchable: int

    @property
    def precision(self) -> float:
        return self.correct / self.linked if self.linked else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.matchable if self.matchable else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "records": self.records, "linked": self.linked, "correct": self.correct,
            "matchable": self.matchable, "precision": round(self.precision, 6),
            "recall": round(self.recall, 6), "f1": round(self.f1, 6),
        }  # fmt: skip


def accuracy(
    con: duckdb.DuckDBPyConnection,
    result: str,
    truth: str,
    *,
    statuses: tuple[int, ...] = RESEARCH_FILTER,
    where: str = "TRUE",
    group_by: str | None = None,
) -> dict[str, Accuracy]:
    """``result``: relation with system_id, person_id, alf_sts_cd; ``truth``: system_id, person_id.

    Returns {"all": Accuracy} or one entry per value of the ``group_by`` SQL expression (over the
    joined row, aliases ``r`` result and ``t`` truth).
    """
    key = group_by or "'all'"
    is_linked = status_in("r.alf_sts_cd", statuses)
    rows = con.execute(
        f"""
        SELECT CAST({key} AS VARCHAR) AS g, count(*),
            count(*) FILTER (WHERE {is_linked} AND r.person_id IS NOT NULL),
            count(*) FILTER (WHERE {is_linked} AND r.person_id = t.person_id),
            count(*) FILTER (WHERE t.person_id IS NOT NULL)
        FROM {result} r JOIN {truth} t USING (system_id)
        WHERE {where}
        GROUP BY 1 ORDER BY 1
        """
    ).fetchall()
    return {str(g): Accuracy(int(n), int(linked), int(ok), int(m)) for g, n, linked, ok, m in rows}


def threshold_curve(
    con: duckdb.DuckDBPyConnection, result: str, truth: str
) -> list[dict[str, float]]:
    """Precision, recall and F1 if the linked set were 'p >= threshold' (deterministic links
    count at p = 1)."""
    # each record relabelled: a status in the research filter if p >= threshold, else unmatched
    linked, unlinked = AlfStatus.PROBABLE.value, AlfStatus.UNMATCHED.value
    out = []
    for thr in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99):
        a = accuracy(
            con,
            f"(SELECT system_id, person_id, CASE WHEN alf_mtch_pct >= {thr} AND person_id IS NOT NULL THEN {linked} ELSE {unlinked} END AS alf_sts_cd FROM {result})",
            truth,
        )["all"]
        out.append({"threshold": thr, "precision": a.precision, "recall": a.recall, "f1": a.f1})
    return out
