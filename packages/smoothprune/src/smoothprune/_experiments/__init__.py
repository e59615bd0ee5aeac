"""What ``smoothprune reproduce`` and ``smoothprune bench`` run; imports the method, never the
other way round.

One module per table or study (``digits``, ``cifar``), registered by name in ``registry``, each
configured by the frozen ``config.Config`` of its mode (``QUICK`` or ``FULL``); ``reproduce`` and
``bench`` are the two entry points. Nothing is re-exported here, so that ``_experiments.reproduce``
and ``_experiments.bench`` stay the modules (``cli.py`` imports the functions from them, inside
its command functions; ``tools/meta.py`` checks that no other library module imports this
package).
"""
