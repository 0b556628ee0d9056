"""Subcommands of ``python -m inference_platform``. Each module defines NAME, HELP,
``add_arguments(parser)`` and ``run(args) -> int``; list it in ``COMMANDS``."""

from inference_platform.commands import invoke_async, outputs, run_batch, smoke

COMMANDS = [outputs, invoke_async, run_batch, smoke]
