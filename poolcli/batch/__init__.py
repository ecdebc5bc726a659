"""Batches: inputs to jobs, output names, the work of one input, runners, the console.

:mod:`~poolcli.batch.plan` turns what the user named into :mod:`~poolcli.batch.jobs` (plain,
picklable data), :mod:`~poolcli.batch.naming` decides where each result goes,
:mod:`~poolcli.batch.process` does one job with a :mod:`~poolcli.batch.recipe`,
:mod:`~poolcli.batch.runner` runs them all and stops cleanly on a signal, and
:mod:`~poolcli.batch.console` prints them in input order.
"""
