"""A lower bound for any construct design: the shipped templates rebuilt at one jsii call per element.

    CDK_OUTDIR=... .venv/bin/python bench/replay_app.py ASSEMBLY [--nag]

Reads an assembly the shipped app wrote (``cdk.out``) and builds an app with the same stages
and stacks in which every resource is one ``CfnResource`` whose properties were built in
Python (one call), every mapping one ``CfnMapping`` and every output one ``CfnOutput``, then
synthesizes it. That is the fewest Python-to-Node calls a CDK app writing these templates can
make, so its time is what no rewrite of the constructs can go below: the imports, jsii's
start, Node's own synth of these templates and, with ``--nag``, the four cdk-nag packs (which
report findings here, because the replay carries none of the shipped acknowledgements; the
report is caught, its cost is counted). ``bench/synth_benchmark.py`` runs it next to the floor.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk

# Attributes CloudFormation reads beside Properties; the replay sets each with one override.
RESOURCE_ATTRIBUTES = ("DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy", "UpdatePolicy")


def output_value(value: Any) -> str:
    """An output's value as a string token: Ref and GetAtt as CDK renders them, else as written."""
    if isinstance(value, dict) and "Ref" in value:
        return cdk.Fn.ref(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return cdk.Fn.get_att(logical_id, attribute).to_string()
    if isinstance(value, dict) and "Fn::Join" in value:
        delimiter, parts = value["Fn::Join"]
        return cdk.Fn.join(delimiter, [output_value(part) for part in parts])
    return value if isinstance(value, str) else json.dumps(value)


def replay_stack(stage: cdk.Stage, artifact_id: str, stack_name: str, template: dict[str, Any]) -> None:
    stack = cdk.Stack(stage, artifact_id, stack_name=stack_name, description=template.get("Description"))
    for logical_id, mapping in template.get("Mappings", {}).items():
        cdk.CfnMapping(stack, logical_id, mapping=mapping)
    for logical_id, resource in template.get("Resources", {}).items():
        element = cdk.CfnResource(stack, logical_id, type=resource["Type"], properties=resource.get("Properties"))
        for attribute in RESOURCE_ATTRIBUTES:
            if attribute in resource:
                element.add_override(attribute, resource[attribute])
    for logical_id, output in template.get("Outputs", {}).items():
        export = output.get("Export", {}).get("Name")
        cdk.CfnOutput(stack, logical_id, value=output_value(output["Value"]), export_name=export)


def replay(app: cdk.App, assembly: Path) -> None:
    manifest = json.loads((assembly / "manifest.json").read_text())
    for artifact in manifest["artifacts"].values():
        if artifact["type"] != "cdk:cloud-assembly":
            continue
        directory = assembly / artifact["properties"]["directoryName"]
        stage = cdk.Stage(app, artifact["properties"]["directoryName"].removeprefix("assembly-"))
        nested = json.loads((directory / "manifest.json").read_text())
        for artifact_id, stack in nested["artifacts"].items():
            if stack["type"] != "aws:cloudformation:stack":
                continue
            template = json.loads((directory / stack["properties"]["templateFile"]).read_text())
            replay_stack(stage, artifact_id, stack["properties"]["stackName"], template)


def main(argv: list[str]) -> int:
    assembly = Path(argv[0])
    # Written like app.py writes it: the templates and manifests, no construct tree (tree.json).
    app = cdk.App(tree_metadata=False)
    if "--nag" in argv:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from stacks.application import register_compliance_checks

        register_compliance_checks(app)
    replay(app, assembly)
    try:
        app.synth()
    except RuntimeError as error:  # the replay has no acknowledgements: the packs report findings
        if "Validation failed" not in str(error):
            raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
