"""justicelink: secure, anonymised linkage of family-court data for research.

One subpackage per zone (provider, linkage, bank, projects, workspace, airlock, control), plus
synthetic data (synth) and analyses. Zones meet only through the interchange formats in
``justicelink.formats`` and the shared helpers in ``justicelink.crypto``, ``justicelink.specs``
and ``justicelink.reporting``.
"""

__version__ = "0.1.0"
