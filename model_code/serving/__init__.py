"""A local model server with the SageMaker serving-container contract (``python -m model_code.serve``).

``modes`` holds each inference mode's limits, ``handlers`` resolves the packed ``inference.py``
the way the framework container does (``defaults`` are the container's fallbacks), ``app``
is the WSGI application (``/ping``, ``/invocations``, ``/execution-parameters``), ``server``
runs it under gunicorn, and ``process`` starts and stops a server for tests and benchmarks.
"""
