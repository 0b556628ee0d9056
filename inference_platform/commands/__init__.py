"""Subcommands of ``python -m inference_platform``. Each module defines NAME, HELP,
``add_arguments(parser)`` and ``run(args) -> int``; list it in ``COMMANDS``."""

from inference_platform.commands import invoke_async, invoke_stream, outputs, run_batch, smoke

COMMANDS = [outputs, invoke_async, invoke_stream, run_batch, smoke]
