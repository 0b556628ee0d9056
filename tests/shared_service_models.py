"""One copy of botocore's service models per test process.

botocore caches the JSON models it loads (service definitions, endpoint rules, paginators) on
each ``Loader``, and each ``botocore.Session`` has its own loader. The CLI commands make a
session per run, moto resets boto3's default session at each mock, and the tests run the
commands dozens of times: each run parsed the same models again. Measured on
test_smoke_command.py and test_run_batch_command.py: 1,655 JSON parses, 7.5 s of their 28 s.

What is shared is exactly what one session already shares between its clients (botocore hands
every client of a session the same cached dictionaries), keyed the same way. A loader with
search paths of its own (a custom ``data_path``) keeps its own cache, since its models may differ.
"""

from __future__ import annotations

from typing import Any

_MODELS: dict[tuple[Any, ...], Any] = {}


def share_between_sessions() -> None:
    from botocore import loaders

    if getattr(loaders.Loader.__init__, "shares_models", False):
        return
    original = loaders.Loader.__init__
    default_paths = list(loaders.Loader().search_paths)

    def init(self: loaders.Loader, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if list(self.search_paths) == default_paths:
            self._cache = _MODELS

    init.shares_models = True  # type: ignore[attr-defined]
    loaders.Loader.__init__ = init  # type: ignore[method-assign]
