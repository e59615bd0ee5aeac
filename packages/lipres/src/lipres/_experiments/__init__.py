"""What ``lipres reproduce`` and ``lipres bench`` run; imports the method, never the other way
round.

One module per study (:mod:`.approximation`, :mod:`.digits`), registered by name in
:mod:`.registry`, each configured by the frozen :class:`.config.Config` of its mode (``QUICK`` or
``FULL``); shared helpers in :mod:`.models`. Only ``cli.py`` imports this package, lazily.
"""

from .bench import bench as bench
from .reproduce import reproduce as reproduce

__all__ = ["bench", "reproduce"]
