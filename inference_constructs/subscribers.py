"""Who receives a topic's messages: e-mail, HTTPS, SQS or Lambda (SNS subscription protocols)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from inference_constructs.settings import Settings

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HTTPS_URL = re.compile(r"^https://[^\s/]+(/\S*)?$")
SQS_QUEUE_ARN = re.compile(r"^arn:aws[a-z-]*:sqs:[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d:\d{12}:[\w-]{1,80}(\.fifo)?$")
LAMBDA_FUNCTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d:\d{12}:function:[\w-]{1,64}(:[\w$-]{1,128})?$"
)

Protocol = Literal["email", "https", "sqs", "lambda"]
_PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "email": (EMAIL, "an e-mail address"),
    "https": (HTTPS_URL, "an https:// URL"),
    "sqs": (SQS_QUEUE_ARN, "an SQS queue ARN such as arn:aws:sqs:eu-west-1:111111111111:alerts"),
    "lambda": (
        LAMBDA_FUNCTION_ARN,
        "a Lambda function ARN such as arn:aws:lambda:eu-west-1:111111111111:function:page",
    ),
}


class Subscriber(Settings):
    """One subscription: exactly one of ``email``, ``https``, ``sqs`` (queue ARN) or ``lambda``
    (function ARN). E-mail and HTTPS endpoints must confirm the subscription before they receive
    anything; an SQS queue's policy must let this topic send to it (and its key, if it has one,
    let ``sns.amazonaws.com`` use it); a Lambda function is given permission here, so it must be
    in the environment's own account."""

    email: str | None = Field(default=None, description="An e-mail address; receives nothing until it confirms.")
    https: str | None = Field(default=None, description="An https:// URL; receives nothing until it confirms.")
    sqs: str | None = Field(
        default=None, description="An SQS queue ARN; the queue's policy must let the topic send to it."
    )
    lambda_: str | None = Field(
        default=None,
        alias="lambda",
        description="A Lambda function ARN in the environment's account; SNS is granted permission to invoke it.",
    )

    @model_validator(mode="after")
    def _exactly_one_valid_endpoint(self) -> Subscriber:
        given = {protocol: value for protocol, value in self._endpoints().items() if value is not None}
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(_PATTERNS)}; got {', '.join(given) or 'none'}")
        ((protocol, value),) = given.items()
        pattern, what = _PATTERNS[protocol]
        if not pattern.fullmatch(value):
            raise ValueError(f"{protocol}: expected {what}, got {value!r}")
        return self

    def _endpoints(self) -> dict[str, str | None]:
        return {"email": self.email, "https": self.https, "sqs": self.sqs, "lambda": self.lambda_}

    @property
    def protocol(self) -> Protocol:
        return next(protocol for protocol, value in self._endpoints().items() if value is not None)  # type: ignore[return-value]

    @property
    def endpoint(self) -> str:
        return next(value for value in self._endpoints().values() if value is not None)

    @property
    def account(self) -> str | None:
        """The account of an SQS or Lambda endpoint (None for e-mail and HTTPS)."""
        return self.endpoint.split(":")[4] if self.protocol in ("sqs", "lambda") else None


class NotificationSettings(Settings):
    """Subscribers of an environment's two topics. Alarms to a topic nobody reads help no one:
    give each environment at least one alarm subscriber."""

    alarm_subscribers: tuple[Subscriber, ...] = Field(
        default=(), description="Receive every alarm's ALARM and OK transitions."
    )
    notification_subscribers: tuple[Subscriber, ...] = Field(
        default=(), description="Receive one message per batch transform run (succeeded or failed)."
    )
