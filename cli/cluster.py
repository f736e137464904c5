"""Where a command's replications run: --workers, or a Dask cluster (--scheduler, --security).

A Dask scheduler on plain ``tcp://`` is a door: anyone who reaches its port can
run code on the workers, and results come back as pickles that egrid loads.
The options say so in ``--help``, a plain-TCP address other than this machine's
loopback gets a warning, and ``--security FILE`` connects over TLS with
certificates (:func:`sim.executors.load_security`; docs/sweeps.md).
"""

from __future__ import annotations

import argparse
import sys


DASK_SAFETY = ("Plain tcp:// is unauthenticated and unencrypted: anyone who can reach the scheduler's port can "
               "run code on the workers, and results come back as pickles that egrid loads. Bind the scheduler "
               "to a private interface, or use tls:// with --security (docs/sweeps.md).")


def add_dask_args(p: argparse.ArgumentParser) -> None:
    """--scheduler and --security, shared by egrid run and egrid sweep."""
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask distributed cluster, e.g. tls://10.0.0.5:8786 (workers need this package). "
                        + DASK_SAFETY)
    p.add_argument("--security", metavar="FILE",
                   help="TLS settings of the Dask cluster: a TOML file with ca_file, cert and key (PEM paths "
                        "relative to it); the address must then be tls://")


def make_cli_executor(args, replications: int | None = None):
    """The executor of --workers / --scheduler / --security; warns about a plain-TCP scheduler."""
    from enforcement_grid.experiments.executors import make_executor, plain_tcp_warning

    scheduler, security = getattr(args, "scheduler", None), getattr(args, "security", None)
    if security is not None and scheduler is None:
        from enforcement_grid.sim.errors import ScenarioError

        raise ScenarioError("--security: only with --scheduler (the TLS settings of a Dask cluster)")
    if scheduler is not None and security is None:
        warning = plain_tcp_warning(scheduler)
        if warning:
            print(warning, file=sys.stderr)
    workers = 1 if replications == 1 and scheduler is None else args.workers
    return make_executor(workers, scheduler, security)


__all__ = ["add_dask_args", "make_cli_executor", "DASK_SAFETY"]
