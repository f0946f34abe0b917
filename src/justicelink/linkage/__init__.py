"""Linkage zone (trusted third party): register, matching cascade, ALF files for the bank."""

from justicelink.linkage.contract import MatchResult, match_files
from justicelink.linkage.register import RegisterVersion, current_version, load_register
from justicelink.linkage.run import RunResult, run_submission

__all__ = [
    "MatchResult",
    "RegisterVersion",
    "RunResult",
    "current_version",
    "load_register",
    "match_files",
    "run_submission",
]
