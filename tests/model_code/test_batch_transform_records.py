"""The handler under batch transform's record handling: MultiRecord, SplitType Line, AssembleWith Line.

SageMaker splits the input file into lines, packs whole lines into mini-batches of at most
MaxPayloadInMB, sends each mini-batch as one request, and joins the responses line by line.
That only reassembles into one prediction per input line, in order, if every response holds
exactly one line per record it was sent; this replays that flow through the handler.
"""

from __future__ import annotations

import random

import pytest


def invoke(handler, model, payload: bytes) -> str:
    body, content_type = handler.transform_fn(model, payload, "text/csv", "text/csv")
    assert content_type == "text/csv"
    return body


def mini_batches(lines: list[str], max_payload_bytes: int) -> list[bytes]:
    """MultiRecord with SplitType Line: as many whole lines as fit in the payload limit."""
    batches, current = [], b""
    for line in lines:
        record = (line + "\n").encode()
        if current and len(current) + len(record) > max_payload_bytes:
            batches.append(current)
            current = b""
        current += record
    return [*batches, current] if current else batches


def assemble_with_line(responses: list[str]) -> list[str]:
    """AssembleWith Line: the responses' lines, in order (each response newline-terminated)."""
    return [line for response in responses for line in response.splitlines()]


def rows(count: int, seed: int) -> list[str]:
    generator = random.Random(seed)
    return [
        ",".join(
            f"{generator.uniform(low, high):.1f}" for low, high in ((4.3, 7.9), (2.0, 4.4), (1.0, 6.9), (0.1, 2.5))
        )
        for _ in range(count)
    ]


@pytest.mark.parametrize("max_payload_bytes", [16, 100, 1000, 6 * 1024 * 1024])
def test_multi_record_line_batches_reassemble_to_one_prediction_per_input_line(handler, model, max_payload_bytes):
    lines = rows(257, seed=max_payload_bytes)
    batches = mini_batches(lines, max_payload_bytes)
    assert sum(batch.count(b"\n") for batch in batches) == len(lines)
    responses = [invoke(handler, model, batch) for batch in batches]
    for batch, response in zip(batches, responses, strict=True):
        assert response.endswith("\n") and response.count("\n") == batch.count(b"\n")
    assembled = assemble_with_line(responses)
    assert len(assembled) == len(lines)
    # Each record's prediction is the one it gets on its own: no shift across batch boundaries.
    assert assembled == [invoke(handler, model, (line + "\n").encode()).strip() for line in lines]


def test_single_record_strategy_gives_the_same_output(handler, model):
    lines = rows(20, seed=7)
    multi = assemble_with_line([invoke(handler, model, batch) for batch in mini_batches(lines, 64)])
    single = assemble_with_line([invoke(handler, model, (line + "\n").encode()) for line in lines])
    assert multi == single and len(single) == len(lines)


def test_a_file_without_trailing_newline_or_with_windows_line_ends_still_maps_one_to_one(handler, model):
    lines = rows(5, seed=11)
    assert len(invoke(handler, model, "\n".join(lines).encode()).splitlines()) == 5
    assert len(invoke(handler, model, ("\r\n".join(lines) + "\r\n").encode()).splitlines()) == 5
