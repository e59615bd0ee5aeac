"""What ``invprob-core reproduce`` and ``invprob-core bench`` run; imports the method, never the
other way round.

One module per study, registered by name in :mod:`.registry` (:mod:`.ct`, :mod:`.convergence`,
:mod:`.deblurring`, and in ``--quick`` :mod:`.ar_shipped`), each configured by the frozen
:class:`.config.Config` of its mode (``QUICK`` or ``FULL``); the CT table's parts in
:mod:`.ct_data`, :mod:`.priors`, :mod:`.ct_methods` and :mod:`.evaluate`; every figure in
:mod:`.figures`; the ray-transform benchmark in :mod:`.bench`; the critic-budget sweep in
:mod:`.ar_critic_budget` (``python -m invprob_core._experiments.ar_critic_budget``); the
command that made the critic shipped in ``data/`` in :mod:`.train_critic`
(``python -m invprob_core._experiments.train_critic``) and its checked loader in
:mod:`.shipped_critic`. Only ``cli.py`` imports this package,
inside its command functions; nothing is re-exported here, so the modules are not shadowed.
"""
