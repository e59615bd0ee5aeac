"""What ``dsp-prior reproduce`` and ``dsp-prior bench`` run; imports the method, never the other
way round.

One module per table or study, registered by name in :mod:`.registry`, each configured by the
frozen :class:`.config.Config` of its mode (``QUICK`` or ``FULL``). Nothing is re-exported here,
so that ``_experiments.reproduce`` and ``_experiments.bench`` stay the modules.
"""
