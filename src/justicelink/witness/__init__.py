"""Witness zone: the audit chain's heads, replayed and signed outside the control plane."""

from justicelink.witness.log import Head, Witness, WitnessRefused, verify_quote

__all__ = ["Head", "Witness", "WitnessRefused", "verify_quote"]
