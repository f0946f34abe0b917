"""Synthetic population register and provider extracts, seeded and reproducible, truth apart."""

from justicelink.synth.generate import SynthResult, generate

__all__ = ["SynthResult", "generate"]
