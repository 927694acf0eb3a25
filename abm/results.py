"""What the result objects of the audits and the design lab share: a ``summary`` dict that is the
JSON their command prints, given out as a copy so a caller's edit cannot change the result."""

from __future__ import annotations

import copy

__all__ = ["SummaryResult"]


class SummaryResult:
    """Base of a result dataclass with a ``summary`` field."""

    summary: dict

    def to_dict(self) -> dict:
        """The summary as JSON-ready data: the keys the command's ``--json`` prints."""
        return copy.deepcopy(self.summary)
