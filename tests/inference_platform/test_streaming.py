"""Streaming a text-generation endpoint: the client, the invoke-stream command and the smoke
check, against a local fake event stream parsed by botocore itself (no endpoint)."""

from __future__ import annotations

import json

import boto3
import pytest

from inference_platform.__main__ import main
from inference_platform.deployed import DeployedEnvironment
from inference_platform.smoke import Outcome, SmokeTests
from inference_platform.streaming import StreamTarget, lines_of, stream, text_generation_request, tokens_of
from tests.inference_platform.fake_event_stream import model_stream_error, payload_part, serve
from tests.inference_platform.test_smoke_command import REGION, aws, deploy_model  # noqa: F401 (fixture)

TGI_EVENTS = [
    b'data:{"token": {"id": 1, "text": "Hello", "special": false}}\n\n',
    b'data:{"token": {"id": 2, "text": ", w',  # a part cut mid-line
    b'orld", "special": false}}\n\ndata:{"token": {"id": 3, "text": "</s>", "special": true}, '
    b'"generated_text": "Hello, world"}\n\n',
]


def _client():
    return boto3.client("sagemaker-runtime", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")


def test_lines_are_reassembled_across_parts_even_inside_a_character():
    snowman = "☃".encode()
    assert list(lines_of([b"ab", b"c\nd" + snowman[:1], snowman[1:] + b"\n", b"tail"])) == ["abc", "d☃", "tail"]


def test_tgi_server_sent_events_and_lmi_json_lines_give_their_tokens():
    tgi = list(tokens_of(lines_of(TGI_EVENTS)))
    assert tgi == ["Hello", ", world"]  # the special end-of-sequence token is not text
    lmi = [json.dumps({"token": {"id": i, "text": t, "log_prob": -0.1}}) for i, t in enumerate(["Bon", "jour"])]
    assert list(tokens_of(lmi)) == ["Bon", "jour"]
    assert list(tokens_of(["not json"])) == ["not json\n"]


def test_stream_hands_over_each_token_and_counts_them():
    client = _client()
    requests = serve(client, [payload_part(part) for part in TGI_EVENTS])
    ticks = iter([0.0, 0.25, 2.0])  # started, first token, done
    seen: list[str] = []
    stats = stream(
        client,
        StreamTarget("dev-llm-realtime"),
        text_generation_request("Hi", 16),
        on_token=seen.append,
        clock=lambda: next(ticks),
    )
    assert seen == ["Hello", ", world"]
    assert (stats.tokens, stats.first_token_seconds, stats.seconds) == (2, 0.25, 2.0)
    assert stats.tokens_per_second == 1.0
    (request,) = requests
    assert request["url"].endswith("/endpoints/dev-llm-realtime/invocations-response-stream")
    assert json.loads(request["body"]) == {"inputs": "Hi", "parameters": {"max_new_tokens": 16}, "stream": True}


def test_a_failure_midway_is_raised_as_the_model_stream_error():
    client = _client()
    serve(client, [payload_part(TGI_EVENTS[0]), model_stream_error("CUDA out of memory")])
    seen: list[str] = []
    with pytest.raises(Exception, match=r"ModelStreamError.*CUDA out of memory"):
        stream(client, StreamTarget("e"), b"{}", on_token=seen.append)
    assert seen == ["Hello"]  # what came before the failure was still shown


@pytest.fixture
def streaming_client(monkeypatch):
    """Every sagemaker-runtime client the code creates answers with the fake stream."""
    frames: list[bytes] = []
    real_client = DeployedEnvironment.client

    def client(self, service):
        created = real_client(self, service)
        if service == "sagemaker-runtime":
            serve(created, frames)
        return created

    monkeypatch.setattr(DeployedEnvironment, "client", client)
    return frames


def test_invoke_stream_prints_tokens_and_progress(aws, streaming_client, capsys):  # noqa: F811
    deploy_model("llm", {"RealtimeEndpointName": "dev-llm-realtime", "RealtimeResponseStreaming": "text-generation"})
    streaming_client.extend(payload_part(part) for part in TGI_EVENTS)
    assert main(["invoke-stream", "--env", "dev", "--model", "llm", "--prompt", "Hi"]) == 0
    out, err = capsys.readouterr()
    assert out == "Hello, world\n"
    assert "streaming from dev-llm-realtime" in err and "2 tokens in" in err and "tokens/s" in err


def test_invoke_stream_refuses_an_endpoint_that_does_not_stream(aws, capsys):  # noqa: F811
    deploy_model("iris", {"RealtimeEndpointName": "dev-iris-realtime"})
    assert main(["invoke-stream", "--env", "dev", "--model", "iris", "--prompt", "Hi"]) == 2
    assert "does not stream" in capsys.readouterr().err


def test_invoke_stream_reports_a_failure_midway(aws, streaming_client, capsys):  # noqa: F811
    deploy_model("llm", {"RealtimeEndpointName": "dev-llm-realtime", "RealtimeResponseStreaming": "text-generation"})
    streaming_client.extend([payload_part(TGI_EVENTS[0]), model_stream_error("CUDA out of memory")])
    assert main(["invoke-stream", "--env", "dev", "--model", "llm", "--prompt", "Hi"]) == 1
    out, err = capsys.readouterr()
    assert out == "Hello" and "CUDA out of memory" in err


def test_smoke_checks_a_streaming_endpoint_by_streaming(aws, streaming_client):  # noqa: F811
    deploy_model("llm", {"RealtimeEndpointName": "dev-llm-realtime", "RealtimeResponseStreaming": "text-generation"})
    streaming_client.extend(payload_part(part) for part in TGI_EVENTS)
    smoke = SmokeTests(DeployedEnvironment.connect("dev"), run_id="run")
    serve(smoke.runtime, list(streaming_client))
    (realtime, *others) = smoke.run(["llm"])
    assert (realtime.mode, realtime.outcome) == ("realtime", Outcome.PASSED)
    assert "dev-llm-realtime streamed 2 tokens ('Hello, world')" in realtime.detail
    assert all(result.outcome is Outcome.SKIPPED for result in others)


def test_smoke_fails_a_streaming_endpoint_that_streams_nothing(aws):  # noqa: F811
    deploy_model("llm", {"RealtimeEndpointName": "dev-llm-realtime", "RealtimeResponseStreaming": "text-generation"})
    smoke = SmokeTests(DeployedEnvironment.connect("dev"), run_id="run")
    serve(smoke.runtime, [])
    realtime = smoke.run(["llm"])[0]
    assert realtime.outcome is Outcome.FAILED and "streamed no tokens" in realtime.detail
