"""What each candidate cut of issue 16 would save, measured before any construct is restructured.

    .venv/bin/python bench/synth_cuts.py [--repeats 5] [--baseline-tree DIR] [--resources 30]

Two parts, both printed as tables:

1. Whole-app variants, each a fresh process running ``app.py`` the way ``cdk synth`` does
   (``bench/synth_benchmark.py``'s environment), interleaved round-robin so that changes in the
   machine's load hit every variant alike; median wall time, median CPU time (user + system of
   the app and its jsii Node.js child: steadier than wall time on a shared machine) and jsii
   round trips:

   - ``as is``: this tree;
   - ``baseline tree``: another checkout (``--baseline-tree``, e.g. ``git archive`` of main
     before this branch, with the same .venv and model artifact), to measure committed cuts;
   - ``no nag packs``: the four cdk-nag packs not registered (what the checks themselves cost);
   - ``no nag packs, no acknowledgements``: as above and every ``Validations.acknowledge``
     skipped (what recording the acknowledgements costs; without the packs nothing reads them);
   - ``no nag packs, no construct validations``: as above and no ``node.add_validation`` hook
     from Python (the per-construct Python callbacks Node makes during synth: stack limits,
     wildcard acknowledgements, the serverless check). The project has no ``Aspects``; these
     validations are its per-construct Python hooks.

   The variants that drop a check do not produce a shippable app; they bound what a cut saves.

2. L2 against L1 for the resources the profile shows as the heaviest (alarms with SNS actions,
   metrics, KMS-encrypted buckets, roles with grants): ``--resources`` of each, built in one
   stack in this process, construction and synth timed separately, with the jsii round trips
   each needs. The L1 versions write the same CloudFormation properties by hand in one call.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import synth_profile  # noqa: E402  (bench/ is not a package)
from synth_benchmark import PYTHON, children_cpu, synth_env  # noqa: E402

VARIANTS = {
    "as is": (),
    "no nag packs": ("no-nag",),
    "no nag packs, no acknowledgements": ("no-nag", "no-ack"),
    "no nag packs, no construct validations": ("no-nag", "no-validations"),
}


def run_variant(tree: Path, patches: tuple[str, ...]) -> None:
    """In a fresh process: apply ``patches``, then run the app in ``tree`` (counting round trips)."""
    synth_profile.install()
    sys.path.insert(0, str(tree))
    os.chdir(tree)
    import aws_cdk as cdk
    import constructs

    import app as app_module

    if "no-nag" in patches:
        app_module.register_compliance_checks = lambda app: None
    if "no-ack" in patches:
        cdk.Validations.acknowledge = lambda self, *rules: None
    if "no-validations" in patches:
        constructs.Node.add_validation = lambda self, validation: None
    code = app_module.main()
    trips = sum(phase.round_trips for phase in synth_profile.PROFILE.phases.values())
    Path(os.environ["CUTS_RESULT"]).write_text(json.dumps({"round_trips": trips}))
    sys.exit(code)


def measure_variants(trees: dict[str, tuple[Path, tuple[str, ...]]], repeats: int) -> None:
    times: dict[str, list[float]] = {label: [] for label in trees}
    cpu: dict[str, list[float]] = {label: [] for label in trees}
    trips: dict[str, int] = {}
    for _ in range(repeats):
        for label, (tree, patches) in trees.items():
            with tempfile.TemporaryDirectory() as outdir:
                env = {**synth_env(outdir, {}), "CUTS_RESULT": f"{outdir}/cuts.json"}
                command = [PYTHON, __file__, "--run", str(tree), *[f"--patch={patch}" for patch in patches]]
                start, cpu_start = time.perf_counter(), children_cpu()
                subprocess.run(command, cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)
                times[label].append(time.perf_counter() - start)
                cpu[label].append(children_cpu() - cpu_start)
                trips[label] = json.loads(Path(f"{outdir}/cuts.json").read_text())["round_trips"]
    reference = statistics.median(times["as is"])
    cpu_reference = statistics.median(cpu["as is"])
    print(
        "| variant | median wall (s) | min-max (s) | vs as is (s) | median cpu (s) | vs as is (s) | jsii round trips |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, values in times.items():
        median, cpu_median = statistics.median(values), statistics.median(cpu[label])
        print(
            f"| {label} | {median:.2f} | {min(values):.2f}-{max(values):.2f} | {median - reference:+.2f} | "
            f"{cpu_median:.2f} | {cpu_median - cpu_reference:+.2f} | {trips[label]:,} |"
        )


# L2 against L1 -------------------------------------------------------------------------------


def _alarms_l2(stack: object, count: int) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_cloudwatch as cloudwatch
    from aws_cdk import aws_cloudwatch_actions as actions
    from aws_cdk import aws_sns as sns

    topic = sns.Topic.from_topic_arn(stack, "Topic", "arn:aws:sns:eu-west-1:111111111111:alarms")
    for index in range(count):
        metric = cloudwatch.Metric(
            namespace="AWS/SageMaker",
            metric_name="Invocation5XXErrors",
            dimensions_map={"EndpointName": f"endpoint-{index}", "VariantName": "AllTraffic"},
            statistic="Sum",
            period=cdk.Duration.minutes(1),
        )
        alarm = cloudwatch.Alarm(
            stack,
            f"Alarm{index}",
            alarm_name=f"endpoint-{index}-Invocation5XXErrors",
            metric=metric,
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description="5XX errors",
        )
        alarm.add_alarm_action(actions.SnsAction(topic))
        alarm.add_ok_action(actions.SnsAction(topic))


def _alarms_l1(stack: object, count: int) -> None:
    from aws_cdk import aws_cloudwatch as cloudwatch

    topic_arn = "arn:aws:sns:eu-west-1:111111111111:alarms"
    for index in range(count):
        cloudwatch.CfnAlarm(
            stack,
            f"Alarm{index}",
            alarm_name=f"endpoint-{index}-Invocation5XXErrors",
            namespace="AWS/SageMaker",
            metric_name="Invocation5XXErrors",
            dimensions=[
                cloudwatch.CfnAlarm.DimensionProperty(name="EndpointName", value=f"endpoint-{index}"),
                cloudwatch.CfnAlarm.DimensionProperty(name="VariantName", value="AllTraffic"),
            ],
            statistic="Sum",
            period=60,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            evaluation_periods=5,
            datapoints_to_alarm=3,
            treat_missing_data="notBreaching",
            alarm_description="5XX errors",
            alarm_actions=[topic_arn],
            ok_actions=[topic_arn],
        )


def _buckets_l2(stack: object, count: int) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

    key = kms.Key(stack, "Key", enable_key_rotation=True)
    for index in range(count):
        s3.Bucket(
            stack,
            f"Bucket{index}",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=cdk.Duration.days(30))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )


def _buckets_l1(stack: object, count: int) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

    key = kms.Key(stack, "Key", enable_key_rotation=True)
    key_arn = key.key_arn
    for index in range(count):
        bucket = s3.CfnBucket(
            stack,
            f"Bucket{index}",
            bucket_encryption={
                "serverSideEncryptionConfiguration": [
                    {
                        "bucketKeyEnabled": True,
                        "serverSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn},
                    }
                ]
            },
            public_access_block_configuration={
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
            versioning_configuration={"status": "Enabled"},
            lifecycle_configuration={
                "rules": [{"status": "Enabled", "noncurrentVersionExpiration": {"noncurrentDays": 30}}]
            },
        )
        bucket.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        bucket_arn = bucket.attr_arn
        s3.CfnBucketPolicy(
            stack,
            f"Bucket{index}Policy",
            bucket=bucket.ref,
            policy_document={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Action": "s3:*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Resource": [bucket_arn, cdk.Fn.join("", [bucket_arn, "/*"])],
                    }
                ],
            },
        )


def _roles_l2(stack: object, count: int) -> None:
    from aws_cdk import aws_iam as iam

    for index in range(count):
        role = iam.Role(stack, f"Role{index}", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
        for action, resource in (
            ("s3:GetObject", f"arn:aws:s3:::models-{index}/model.tar.gz"),
            ("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111111111111:repository/sklearn"),
            ("logs:PutLogEvents", "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/sagemaker/*"),
        ):
            role.add_to_policy(iam.PolicyStatement(actions=[action], resources=[resource]))


def _roles_l1(stack: object, count: int) -> None:
    from aws_cdk import aws_iam as iam

    for index in range(count):
        iam.CfnRole(
            stack,
            f"Role{index}",
            assume_role_policy_document={
                "Version": "2012-10-17",
                "Statement": [
                    {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}
                ],
            },
            policies=[
                {
                    "policyName": "Default",
                    "policyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Action": action, "Effect": "Allow", "Resource": resource}
                            for action, resource in (
                                ("s3:GetObject", f"arn:aws:s3:::models-{index}/model.tar.gz"),
                                ("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111111111111:repository/sklearn"),
                                ("logs:PutLogEvents", "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/sagemaker/*"),
                            )
                        ],
                    },
                }
            ],
        )


PAIRS: dict[str, tuple[Callable[[object, int], None], Callable[[object, int], None]]] = {
    "alarm + metric + 2 SNS actions": (_alarms_l2, _alarms_l1),
    "S3 bucket, KMS, TLS-only policy": (_buckets_l2, _buckets_l1),
    "IAM role + 3 grants": (_roles_l2, _roles_l1),
}


def _trips() -> int:
    return sum(phase.round_trips for phase in synth_profile.PROFILE.phases.values())


def measure_l2_l1(count: int, repeats: int) -> None:
    synth_profile.install()
    import aws_cdk as cdk

    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    # Warm up jsii and the modules involved, so no row pays for loading them.
    for l2, l1 in PAIRS.values():
        for build in (l2, l1):
            app = cdk.App(context=context, builtin_cloud_formation_validation=False)
            build(cdk.Stack(app, "Warm"), 1)
            app.synth()
    print("| resource | style | construct ms / resource | synth ms / resource | round trips / resource |")
    print("|---|---|---:|---:|---:|")
    for label, (l2, l1) in PAIRS.items():
        for style, build in (("L2", l2), ("L1, properties in one call", l1)):
            built, synthesized, trips = [], [], 0
            for _ in range(repeats):
                with tempfile.TemporaryDirectory() as outdir:
                    app = cdk.App(outdir=outdir, context=context, builtin_cloud_formation_validation=False)
                    stack = cdk.Stack(app, "Bench")
                    before, start = _trips(), time.perf_counter()
                    build(stack, count)
                    middle = time.perf_counter()
                    app.synth()
                    end = time.perf_counter()
                    trips = _trips() - before
                    built.append((middle - start) / count * 1000)
                    synthesized.append((end - middle) / count * 1000)
            print(
                f"| {label} | {style} | {statistics.median(built):.1f} | {statistics.median(synthesized):.1f} | "
                f"{trips / count:.1f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline-tree", type=Path, help="another checkout to compare with (same .venv)")
    parser.add_argument("--resources", type=int, default=30, help="resources of each kind in the L2/L1 part")
    parser.add_argument("--skip-variants", action="store_true")
    parser.add_argument("--only", help="comma-separated variant labels to run (e.g. 'as is,baseline tree')")
    parser.add_argument("--skip-l2-l1", action="store_true")
    parser.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--patch", action="append", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    if args.run:
        run_variant(args.run, tuple(args.patch))
        return
    print(f"nproc {os.cpu_count()}, load {' '.join(Path('/proc/loadavg').read_text().split()[:3])} at start")
    if not args.skip_variants:
        trees = {label: (REPO_ROOT, patches) for label, patches in VARIANTS.items()}
        if args.baseline_tree:
            trees["baseline tree"] = (args.baseline_tree.resolve(), ())
        if args.only:
            wanted = {label.strip() for label in args.only.split(",")} | {"as is"}
            trees = {label: tree for label, tree in trees.items() if label in wanted}
        measure_variants(trees, args.repeats)
    if not args.skip_l2_l1:
        measure_l2_l1(args.resources, max(1, args.repeats // 2))
    print(f"load {' '.join(Path('/proc/loadavg').read_text().split()[:3])} at the end")


if __name__ == "__main__":
    main()
