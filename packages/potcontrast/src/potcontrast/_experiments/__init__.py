"""What ``potcontrast reproduce`` and ``potcontrast bench`` run; imports the method, never the other
way round.

One module per study of the reproduction (spec §5), registered by name in :mod:`.registry` and
configured by the frozen :class:`.config.Config` of its mode (``QUICK`` or ``FULL``); the data the
studies share in :mod:`.data` and :mod:`.synthetic`; the benchmark (spec §6) in :mod:`.bench`,
with the workloads it shares with the speed study in :mod:`.workloads`. Only ``cli.py`` imports
this package, inside its command functions. Nothing is re-exported here, so that
``_experiments.reproduce`` and ``_experiments.bench`` stay the modules.
"""
