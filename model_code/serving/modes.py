"""The limits SageMaker applies to each inference mode, which the local server enforces.

From the service documentation: real-time payloads up to 6 MB and 60 s per invocation;
serverless 4 MB and 60 s; batch transform mini-batches up to ``MaxPayloadInMB`` = 100 MB
and an invocation timeout of 600 s by default (``ModelClientConfig``); asynchronous
payloads up to 1 GB and up to one hour of processing. SageMaker counts these sizes in
binary megabytes (the real-time limit is the ``InvokeEndpoint`` body limit of 6,291,456 bytes).
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024

# What /execution-parameters advertises to a batch transform job that does not set
# MaxPayloadInMB itself: SageMaker's own default. Mini-batches larger than this buy
# little throughput and risk the per-invocation timeout; a job may still ask for up
# to 100 MB explicitly, which the batch mode accepts.
ADVERTISED_BATCH_PAYLOAD_MIB = 6


@dataclass(frozen=True)
class ServingMode:
    """One inference mode's request limits."""

    name: str
    max_payload_bytes: int
    timeout_seconds: int
    description: str

    @property
    def max_payload_mib(self) -> int:
        return self.max_payload_bytes // MIB


MODES: dict[str, ServingMode] = {
    mode.name: mode
    for mode in (
        ServingMode("realtime", 6 * MIB, 60, "real-time endpoint: 6 MB payload, 60 s"),
        ServingMode("serverless", 4 * MIB, 60, "serverless endpoint: 4 MB payload, 60 s"),
        ServingMode("batch", 100 * MIB, 600, "batch transform: MaxPayloadInMB up to 100, 600 s per mini-batch"),
        ServingMode("async", 1024 * MIB, 3600, "asynchronous endpoint: 1 GB payload, 1 hour"),
    )
}
