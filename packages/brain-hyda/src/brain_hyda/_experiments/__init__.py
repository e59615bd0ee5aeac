"""What ``brain-hyda reproduce`` and ``brain-hyda bench`` run, apart from the method.

One module per table or study, registered by name in :mod:`.registry`, each configured by the
frozen :class:`.config.Config` of its mode (``QUICK`` or ``FULL``); :mod:`.reproduce` runs them,
:mod:`.bench` times the package against its peer. This package imports the method; the method never
imports it (``tools/meta.py`` checks that only ``cli.py`` does, inside its command functions).
Nothing is re-exported here, so that ``_experiments.reproduce`` stays the module, not its function.
"""
