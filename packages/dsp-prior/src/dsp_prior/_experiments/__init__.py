"""What ``dsp-prior reproduce`` and ``dsp-prior bench`` run; imports the method, never the other
way round.

One module per table or study, registered by name in :mod:`.registry`, each configured by the
frozen :class:`.config.Config` of its mode (``QUICK`` or ``FULL``).
"""

from .bench import bench as bench
from .reproduce import reproduce as reproduce

__all__ = ["bench", "reproduce"]
