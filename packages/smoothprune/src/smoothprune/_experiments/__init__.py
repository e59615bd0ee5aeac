"""What ``smoothprune reproduce`` and ``smoothprune bench`` run: the experiments, apart from the method.

One module per table or study, registered by name in :mod:`.registry`, each configured by the
frozen :class:`.config.Config` of its mode (``QUICK`` or ``FULL``). This package imports the method;
the method never imports it (``tools/meta.py`` checks that only ``cli.py`` does, lazily).
"""

from .bench import bench as bench
from .reproduce import reproduce as reproduce

__all__ = ["bench", "reproduce"]
