"""Building outputs with ACRO inside the workspace, and turning them into an output request.

ACRO (AI-SDC) does the statistical disclosure control: threshold, dominance (N-K), p-ratio,
residual degrees of freedom, zeros. Its defaults apply unless the platform configures others
(``SDC_DEFAULTS``). Its ``results.json`` is kept as it is, so SACRO-Viewer can read our folders.
What ACRO lacks, the airlock adds: differencing against the project's released tables.

ACRO (with statsmodels and pandas behind it) is imported when a builder is made, not when the
airlock is: it takes seconds, and it configures logging as it loads, which is the entry point's
business (``justicelink.logsetup.quiet_libraries``).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from acro import ACRO

# the platform's SDC parameters (ACRO's names); ACRO's own defaults are the same values
SDC_DEFAULTS: dict[str, Any] = {
    "safe_threshold": 10,
    "safe_dof_threshold": 10,
    "safe_nk_n": 2,
    "safe_nk_k": 0.9,
    "safe_pratio_p": 0.1,
    "zeros_are_disclosive": True,
    "survival_safe_threshold": 10,
}


@dataclass
class OutputBuilder:
    """A researcher's ACRO session: use ``builder.acro`` as ACRO (crosstab, pivot_table, ols,
    logit, probit, surv_func, hist, custom_output)."""

    sdc: dict[str, Any] = field(default_factory=dict)
    suppress: bool = True
    acro: ACRO = field(init=False)
    justifications: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from acro import ACRO

        self.acro = ACRO(suppress=self.suppress)
        # ACRO reads its thresholds from this dict at check time
        self.acro.config.update({**SDC_DEFAULTS, **self.sdc})

    def custom(self, path: Path, justification: str) -> None:
        """A file made another way (a chart, a CSV): marked for manual review, with a reason."""
        if not justification.strip():
            raise ValueError("a custom output needs the researcher's justification")
        self.acro.custom_output(str(path), comment=justification)
        self.justifications[Path(path).name] = justification

    def finalise(self, folder: Path) -> dict[str, Any]:
        """Write ACRO's outputs and results.json into ``folder`` (which must not exist)."""
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-acro-", dir=Path(folder).parent))
        out = tmp / "acro"
        try:
            self.acro.finalise(str(out), "json")
            if not (out / "results.json").is_file():
                raise ValueError("the request has no outputs")
            shutil.move(str(out), str(folder))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return json.loads((Path(folder) / "results.json").read_text())
