"""Seeded PDE solvers (numpy/scipy) used by :func:`fno_conserve.generate`."""
