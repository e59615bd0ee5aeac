"""What `chebnet-stable reproduce` and `chebnet-stable bench` run; imports the method, never the
other way round.

``config`` (the frozen budgets ``QUICK`` and ``FULL``), ``registry`` (the studies by name, in run
order, and the context they get), one module per study (``spectrum``, ``stability``, ``barbell``,
``ring``, ``transfer``, ``graphprop``), their shared helpers (``graphs``: small test graphs;
``zoo``: the compared models and their training), ``reproduce``, ``bench`` (timing against PyG)
and ``memory`` (``bench --memory``, one fresh interpreter per cell). Nothing is re-exported here,
so that ``_experiments.reproduce`` and ``_experiments.bench`` stay the modules.
"""
