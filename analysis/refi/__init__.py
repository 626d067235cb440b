"""REFI-QDA exchange: projects (.qdpx) and codebooks (.qdc) that NVivo, ATLAS.ti, MAXQDA
and QualCoder read and write.

export_qdpx and export_qdc write (every text through the leak check first); import_qdpx
and import_qdc read, leniently about known vendor deviations and strictly about hostile
archives and XML, and write into the study in one transaction. Refusals raise
ExchangeError, a StudyError whose message the researcher can act on.
"""

from __future__ import annotations

from analysis.refi.codebook import export_qdc, import_qdc
from analysis.refi.export import ExportReport, export_qdpx
from analysis.refi.import_ import ImportReport, import_qdpx
from analysis.refi.safe_archive import DEFAULT_LIMITS, ExchangeError, Limits

__all__ = ["DEFAULT_LIMITS", "ExchangeError", "ExportReport", "ImportReport", "Limits",
           "export_qdc", "export_qdpx", "import_qdc", "import_qdpx"]
