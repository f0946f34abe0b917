"""Assignment: from scored candidate pairs to one decision per record.

Splink gives each candidate pair a Bayes factor BF (its match weight, less the prior weight). A
record links to at most one register person, so the candidates of a record compete. With N
people on the register and a share pi of the records having their person on it, the posterior
that record i is person j is

    P(i = j) = (pi / N) BF_ij / ((1 - pi) + pi * BLOCKING_MISS + (pi / N) * sum_k BF_ik)

(the sum over the record's candidates; ``BLOCKING_MISS`` is the share of true matches no blocking
rule reaches, whose person is among the unscored). pi is estimated from the data by EM over the
records (the mean posterior of having a match), so thresholds follow the fitted model and the
register at hand rather than constants tuned on one world: the same Bayes factor means more on a
register of 500 than on one of 3M, and more when nearly every record has a match.

The best candidate takes status 39 when P >= 0.9 and 35 when 0.5 <= P < 0.9 (the SAIL meanings of
the codes); otherwise 99. When a second person is nearly as likely (within ``AMBIGUITY_WEIGHT``
bits) and the two together are likely (twins, same-name relatives), the record is not guessed: it
stays unlinked (99) and the reason says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np

from justicelink.formats import AlfStatus

AMBIGUITY_WEIGHT = 2.0  # bits: the best must be at least 4x as likely as the runner-up
P_HIGH = 0.9
P_LOW = 0.5
BLOCKING_MISS = 1e-3
EM_ITERATIONS = 500


@dataclass(frozen=True)
class Posterior:
    """What the assignment estimated: pi, and the constants of the posterior."""

    share_matched: float  # pi: share of scored records whose person is on the register
    register_size: int
    records: int

    reused: bool = False  # pi taken from an earlier run (a refresh), not estimated here

    def note(self) -> str:
        how = "share matched reused from the earlier run" if self.reused else "estimated share"
        return (
            f"posterior per record: register of {self.register_size:,}; {how} of the "
            f"{self.records:,} scored records with a match on the register {self.share_matched:.4f}"
        )


def _estimate_pi(log2_sum: np.ndarray, n_records: int, register_size: int) -> float:
    """EM for pi: each record's posterior of having a match, averaged, until it settles."""
    if n_records == 0 or len(log2_sum) == 0:
        return 0.0
    pi = 0.5
    log2_n = math.log2(max(register_size, 1))
    none = n_records - len(log2_sum)  # scored records without any candidate
    for _ in range(EM_ITERATIONS):
        eps = pi * BLOCKING_MISS  # the mass of a match no blocking rule reached
        b = (1 - pi) + eps
        a = np.exp2(np.clip(math.log2(pi) - log2_n + log2_sum, -1000, 1000))
        # posterior that the record has a match: among its candidates, or unreached
        has = np.sum((a + eps) / (a + b)) + none * eps / b
        new = float(has) / n_records
        new = min(max(new, 1e-9), 1 - 1e-9)
        if abs(new - pi) < 1e-10:
            return new
        pi = new
    return pi


def assign(
    con: duckdb.DuckDBPyConnection, *, prior_weight: float, register_size: int, records: int,
    share_matched: float | None = None,
) -> Posterior:  # fmt: skip
    """From ``candidates`` create ``prob_assign(system_id, person_id, status, p, weight, reason)``.

    ``records``: how many records were scored (those with no candidate count as unmatched).
    ``share_matched``: pi as an earlier run estimated it (a refresh decides as that run did);
    estimated here when not given.
    """
    probable, possible, unmatched = (
        AlfStatus.PROBABLE.value,
        AlfStatus.POSSIBLE.value,
        AlfStatus.UNMATCHED.value,
    )
    # one Bayes factor (log2) per record and person: a person reached by several blocking rules
    # is scored once
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE cand_bf AS
            SELECT system_id, person_id, max(match_weight) AS w, max(match_weight) - {prior_weight!r} AS lbf
            FROM candidates GROUP BY 1, 2"""
    )
    con.execute(
        # summed in a fixed order (sorted), so a record's posterior is the same bit for bit
        # whichever other records share the run (an incremental refresh equals a full relink)
        """CREATE OR REPLACE TEMP TABLE cand_sum AS
           SELECT system_id,
               m + log2(list_reduce(list_sort(list(pow(2.0, lbf - m))), (a, b) -> a + b)) AS log2_sum
           FROM (SELECT system_id, lbf, max(lbf) OVER (PARTITION BY system_id) AS m FROM cand_bf)
           GROUP BY system_id, m"""
    )
    sums = con.execute("SELECT log2_sum FROM cand_sum").fetchnumpy()["log2_sum"]
    pi = (
        share_matched
        if share_matched is not None
        else _estimate_pi(np.asarray(sums, dtype=np.float64), records, register_size)
    )
    post = Posterior(pi, register_size, records, reused=share_matched is not None)
    if pi == 0.0:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE prob_assign (system_id BIGINT, person_id BIGINT, "
            "status INTEGER, p DOUBLE, weight DOUBLE, reason VARCHAR)"
        )
        return post
    c = math.log2(pi) - math.log2(max(register_size, 1))
    b = (1 - pi) + pi * BLOCKING_MISS
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE prob_assign AS
        WITH post AS (
            SELECT f.system_id, f.person_id, f.w, f.lbf,
                least(1.0, pow(2.0, greatest(({c!r} + f.lbf) - log2({b!r} + pow(2.0, least({c!r} + s.log2_sum, 1000))), -1000))) AS p
            FROM cand_bf f JOIN cand_sum s USING (system_id)
        ), ranked AS (
            SELECT *, row_number() OVER (PARTITION BY system_id ORDER BY lbf DESC, person_id) AS rk
            FROM post
        ), best AS (
            SELECT b.system_id, b.person_id, b.p, b.w, b.lbf, s.p AS p2, s.lbf AS lbf2
            FROM ranked b LEFT JOIN ranked s ON s.system_id = b.system_id AND s.rk = 2
            WHERE b.rk = 1
        )
        SELECT system_id,
            CASE WHEN ambiguous OR p < {P_LOW} THEN NULL ELSE person_id END AS person_id,
            CASE WHEN ambiguous OR p < {P_LOW} THEN {unmatched} WHEN p >= {P_HIGH} THEN {probable} ELSE {possible} END AS status,
            p, w AS weight,
            CASE
                WHEN ambiguous THEN 'two register people nearly equally likely (twins or same-name relatives): not guessed'
                WHEN p >= {P_HIGH} THEN 'probabilistic match, p >= 0.9'
                WHEN p >= {P_LOW} THEN 'probabilistic match, 0.5 <= p < 0.9'
                ELSE 'best candidate below p = 0.5' END AS reason
        FROM (
            SELECT *, (lbf2 IS NOT NULL AND lbf - lbf2 < {AMBIGUITY_WEIGHT} AND p + p2 >= {P_LOW}) AS ambiguous
            FROM best
        )
        """
    )
    return post
