"""An output file of an airlock request, as it was checked: what the airlock records when it
prepares a request and the control plane keeps, so a release can prove a file is unchanged."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutputFile:
    name: str
    output: str  # ACRO's output id; "results" for results.json
    status: str  # ACRO's pass / review / fail, or review after a differencing finding
    sha256: str
    justification: str = ""
