"""Type stubs of carerules.dask (see dask.py for the documentation)."""

from typing import Any

from . import Ruleset

def evaluate(collection: Any, rs: Ruleset, **kw: Any) -> Any: ...
