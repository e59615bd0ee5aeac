"""What `chebnet-stable reproduce` and `chebnet-stable bench` run; imports the method, never the
other way round.

``config`` (the frozen budgets ``QUICK`` and ``FULL``), ``registry`` (the studies by name, in run
order), one module per study (``spectrum``, ``stability``, ``barbell``, ``ring``, ``transfer``,
``graphprop``), their shared helpers (``graphs``: small test graphs; ``zoo``: the compared models
and their training), ``reproduce`` and ``bench``.
"""

from .bench import bench as bench
from .reproduce import reproduce as reproduce

__all__ = ["bench", "reproduce"]
