"""Subcommands of the ``gait`` command line. Each module has ``register(subparsers)``."""
