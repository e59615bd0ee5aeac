"""What ``fno-conserve reproduce`` and ``fno-conserve bench`` run; imports the method, never the
other way round.

``config`` (the frozen ``QUICK`` and ``FULL`` configs), ``registry`` (the studies in run order and
the context they get), ``reproduce``, ``bench``; one module per study (``burgers_mass``,
``nls_norm``, ``ns_mean``), with the shared training/evaluation of a case in ``cases`` and its
figures in ``figures``.
Nothing is re-exported here, so
that ``_experiments.reproduce`` and ``_experiments.bench`` stay the modules.
"""
