"""IAM policy documents written in IAM's JSON form in Python and handed to CDK in one call.

``PolicyStatement(...)`` costs a jsii round trip per statement, and ``addToPolicy`` another;
``PolicyDocument.fromJson`` builds the same ``PolicyStatement`` objects from the whole
document in one call, so the rendering (``@aws-cdk/aws-iam:minimizePolicies`` included) is
what statements built one by one give.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_iam as iam


def statement(
    sid: str | None, actions: list[str], resources: list[str], conditions: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An Allow statement in IAM's JSON form (what ``PolicyStatement.fromJson`` reads)."""
    rendered: dict[str, Any] = {"Action": actions, "Resource": resources}
    if sid is not None:
        rendered["Sid"] = sid
    if conditions:
        rendered["Condition"] = conditions
    return rendered


def document(statements: list[dict[str, Any]]) -> iam.PolicyDocument:
    """The statements as one ``PolicyDocument``, in one jsii call."""
    return iam.PolicyDocument.from_json({"Version": "2012-10-17", "Statement": statements})
