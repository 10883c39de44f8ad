"""The validator (SPEC §8): execute a plan with real HFSL training and SL inference, measure it against the cost model.

Needs torch (the `torch` extra); the core toolkit does not import this package.
"""

from gaisnet_opt.validator.fedavg import Fault
from gaisnet_opt.validator.report import ValidationReport
from gaisnet_opt.validator.run import validate

__all__ = ["Fault", "ValidationReport", "validate"]
