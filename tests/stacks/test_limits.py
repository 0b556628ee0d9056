"""CloudFormation limit guards: every shipped stack is within them, and going over fails synth."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns

from stacks.limits import (
    MAX_OUTPUTS,
    MAX_RESOURCES,
    MAX_TEMPLATE_BYTES,
    check_template_sizes,
    count_elements,
    enforce_cloudformation_limits,
)
from tests.conftest import new_app


def test_every_shipped_stack_is_within_limits(synthesized):
    for stage in synthesized.stages.values():
        for stack in [stage.platform, *stage.model_stacks.values()]:
            counts = count_elements(stack)
            assert 0 < counts.resources <= MAX_RESOURCES and counts.outputs <= MAX_OUTPUTS
    assert not check_template_sizes(synthesized.assembly)


def test_counts_only_the_stacks_own_elements(synthesized):
    stack = synthesized.stages["dev"].platform
    template = synthesized.template(stack)
    counts = count_elements(stack)
    assert counts.resources == len(template["Resources"])
    assert counts.outputs == len(template["Outputs"])


def _stack_with(resources: int, outputs: int = 0) -> tuple[cdk.App, cdk.Stack]:
    app = new_app()
    stack = cdk.Stack(cdk.Stage(app, "Big"), "Fleet")
    for index in range(resources):
        topic = sns.CfnTopic(stack, f"Topic{index}")
        if index < outputs:
            cdk.CfnOutput(stack, f"Output{index}", value=topic.attr_topic_arn)
    enforce_cloudformation_limits(stack)
    return app, stack


def test_too_many_resources_fail_synth_naming_the_stack_and_count(tmp_path):
    app, _ = _stack_with(MAX_RESOURCES + 1)
    with pytest.raises(RuntimeError) as raised:
        app.synth()
    assert "stack Big/Fleet has 501 resources; CloudFormation allows at most 500" in str(raised.value)


def test_too_many_outputs_fail_synth():
    app, _ = _stack_with(MAX_OUTPUTS + 1, outputs=MAX_OUTPUTS + 1)
    with pytest.raises(RuntimeError, match="has 201 outputs; CloudFormation allows at most 200"):
        app.synth()


def test_exactly_at_the_limit_passes():
    app, _ = _stack_with(MAX_RESOURCES)
    app.synth()


def test_oversized_template_is_reported(tmp_path):
    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Huge")
    # Metadata pushes the template over the size limit without many resources.
    for index in range(30):
        sns.CfnTopic(stack, f"Topic{index}").add_metadata("padding", "x" * (MAX_TEMPLATE_BYTES // 25))
    problems = check_template_sizes(app.synth())
    assert len(problems) == 1 and problems[0].startswith("stack Huge template is ")


def test_synthesize_removes_the_whole_assembly_when_a_template_is_too_big(tmp_path):
    from stacks.application import synthesize

    app = new_app(tmp_path / "out")
    stack = cdk.Stack(app, "Huge")
    for index in range(30):
        sns.CfnTopic(stack, f"Topic{index}").add_metadata("padding", "x" * (MAX_TEMPLATE_BYTES // 25))
    problems = synthesize(app)
    assert problems and "Huge" in problems[0]
    assert not list((tmp_path / "out").rglob("*.template.json"))


def test_elements_of_a_nested_stack_count_for_the_nested_stack_only():
    app = new_app()
    parent = cdk.Stack(app, "Parent")
    sns.CfnTopic(parent, "Own")
    nested = cdk.NestedStack(parent, "Child")
    for index in range(3):
        sns.CfnTopic(nested, f"Topic{index}")
    # The parent also holds the nested stack's AWS::CloudFormation::Stack resource.
    assert count_elements(parent).resources == 2
    assert count_elements(nested).resources == 3
