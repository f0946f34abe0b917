"""Synthetic population register and provider extracts, seeded and reproducible, truth apart."""

from justicelink.synth.config import Calibration, ErrorRates, SynthConfig, load_config
from justicelink.synth.generate import DATASETS, SynthResult, generate

__all__ = [
    "DATASETS",
    "Calibration",
    "ErrorRates",
    "SynthConfig",
    "SynthResult",
    "generate",
    "load_config",
]
