"""Subcommands of ``python -m inference_platform``. Each module defines NAME, HELP,
``add_arguments(parser)`` and ``run(args) -> int``; list it in ``COMMANDS``."""

from inference_platform.commands import outputs, run_batch

COMMANDS = [outputs, run_batch]
