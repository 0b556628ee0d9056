from __future__ import annotations

import aws_cdk as cdk
import pytest
from constructs import Construct

from inference_constructs.stack_values import stack_values
from tests.conftest import new_app

CONCRETE = cdk.Environment(account="123456789012", region="eu-west-1")


@pytest.fixture(params=[None, CONCRETE], ids=["env-agnostic", "concrete-env"])
def stack(request: pytest.FixtureRequest) -> cdk.Stack:
    return cdk.Stack(new_app(), "Test", env=request.param)


@pytest.mark.parametrize(
    ("components", "kwargs"),
    [
        (
            {"service": "logs", "resource": "log-group", "resource_name": "/aws/x-*", "sep": ":"},
            {"arn_format": cdk.ArnFormat.COLON_RESOURCE_NAME},
        ),
        ({"service": "ec2", "resource": "subnet", "resource_name": "subnet-1"}, {}),
        ({"service": "s3", "resource": "bucket", "resource_name": "key/*", "region": "", "account": ""}, {}),
        ({"service": "s3", "resource": "bucket", "region": "", "account": ""}, {}),
        ({"service": "sns", "resource": "*"}, {}),
        ({"service": "ecr", "resource": "repository", "resource_name": "repo", "account": "111111111111"}, {}),
    ],
)
def test_arn_resolves_as_format_arn_does(stack: cdk.Stack, components: dict, kwargs: dict) -> None:
    """What CloudFormation receives must not change: each ARN resolves exactly as the stack's
    own format_arn with the same components."""
    ours = stack_values(stack).arn(**components)
    cdk_components = {key: value for key, value in components.items() if key != "sep"}
    theirs = stack.format_arn(**cdk_components, **kwargs)
    assert stack.resolve(ours) == stack.resolve(theirs)


def test_concrete_environment_gives_literal_arns() -> None:
    stack = cdk.Stack(new_app(), "Test", env=CONCRETE)
    assert stack_values(stack).arn("sns", "*") == "arn:aws:sns:eu-west-1:123456789012:*"


def test_values_are_read_once_per_stack_and_shared_with_children(stack: cdk.Stack) -> None:
    child = Construct(stack, "Child")
    grandchild = Construct(child, "Grandchild")
    values = stack_values(stack, child)
    assert stack_values(child) is values
    assert stack_values(grandchild) is values  # found through Stack.of, then remembered
    assert values.region is values.region  # read from jsii once, then kept
    assert stack.resolve(values.region) == stack.resolve(stack.region)


def test_values_of_another_stack_are_its_own() -> None:
    app = new_app()
    first = cdk.Stack(app, "First", env=CONCRETE)
    second = cdk.Stack(app, "Second", env=cdk.Environment(account="210987654321", region="us-east-1"))
    assert stack_values(first).account == "123456789012"
    assert stack_values(second).account == "210987654321"
    assert stack_values(second).region == "us-east-1"


def test_a_stack_is_never_remembered_as_a_child(stack: cdk.Stack) -> None:
    nested = cdk.Stack(stack, "Nested")
    with pytest.raises(ValueError, match="a nested stack has values of its own"):
        stack_values(stack, nested)


def test_what_a_stacks_constructs_share_is_made_once_per_stack():
    app = new_app()
    first, second = cdk.Stack(app, "First"), cdk.Stack(app, "Second")
    made: list[str] = []

    def make() -> dict:
        made.append("made")
        return {}

    inner = Construct(first, "Inner")
    shared = stack_values(first).shared("artifacts", make)
    assert stack_values(inner).shared("artifacts", make) is shared
    assert stack_values(second).shared("artifacts", make) is not shared
    assert stack_values(first).shared("other", make) is not shared
    assert made == ["made", "made", "made"]
