"""Provider zone: split an extract into identifiers (to the TTP) and content (to the bank)."""

from justicelink.provider.split import SplitResult, deliver, split

__all__ = ["SplitResult", "deliver", "split"]
