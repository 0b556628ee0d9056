"""A small hand-made cloud assembly with every mode, to test the bundle on what main lacks yet.

Two environments (dev, prod), each a nested stage assembly with a platform stack and one model
stack serving the model as serverless (with provisioned concurrency and its autoscaling), async
(scale to zero: target tracking on the backlog plus a step policy driven by an alarm on
HasBacklogWithoutCapacity), real-time with a canary deployment policy and rollback alarms, and
batch transform (a Step Functions state machine calling createTransformJob, started by a
schedule and by S3 uploads). Shapes follow what CDK synthesizes for these resources.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

KEY_EXPORT = "{stage}-Platform:ExportsOutputFnGetAttPlatformKeyArn"
TOPIC_EXPORT = "{stage}-Platform:ExportsOutputRefSuccessTopic"
BUCKET_EXPORT = "{stage}-Platform:ExportsOutputRefAsyncBucket"


def _import(template: str, stage: str) -> dict[str, str]:
    return {"Fn::ImportValue": template.format(stage=stage)}


def platform_template(stage: str) -> dict[str, Any]:
    return {
        "Resources": {
            "PlatformKey1C4A1A63": {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "EnableKeyRotation": True,
                    "KeyPolicy": {
                        "Statement": [
                            {
                                "Action": "kms:*",
                                "Effect": "Allow",
                                "Principal": {
                                    "AWS": {"Fn::Join": ["", ["arn:aws:iam::", {"Ref": "AWS::AccountId"}, ":root"]]}
                                },
                                "Resource": "*",
                            }
                        ]
                    },
                },
                "DeletionPolicy": "Retain",
            },
            "PlatformKeyAlias2E5C3B1F": {
                "Type": "AWS::KMS::Alias",
                "Properties": {
                    "AliasName": f"alias/{stage.lower()}/sagemaker-inference",
                    "TargetKeyId": {"Fn::GetAtt": ["PlatformKey1C4A1A63", "Arn"]},
                },
            },
            "AsyncBucket5A7F3B2C": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {
                                "ServerSideEncryptionByDefault": {
                                    "SSEAlgorithm": "aws:kms",
                                    "KMSMasterKeyID": {"Fn::GetAtt": ["PlatformKey1C4A1A63", "Arn"]},
                                }
                            }
                        ]
                    },
                    "VersioningConfiguration": {"Status": "Enabled"},
                },
                "DeletionPolicy": "Retain",
            },
            "SuccessTopic495EB1E1": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": ["PlatformKey1C4A1A63", "Arn"]}},
            },
        },
        "Outputs": {
            "AsyncBucketName": {"Value": {"Ref": "AsyncBucket5A7F3B2C"}},
            "KeyExport": {
                "Value": {"Fn::GetAtt": ["PlatformKey1C4A1A63", "Arn"]},
                "Export": {"Name": KEY_EXPORT.format(stage=stage)},
            },
            "TopicExport": {
                "Value": {"Ref": "SuccessTopic495EB1E1"},
                "Export": {"Name": TOPIC_EXPORT.format(stage=stage)},
            },
            "BucketExport": {
                "Value": {"Ref": "AsyncBucket5A7F3B2C"},
                "Export": {"Name": BUCKET_EXPORT.format(stage=stage)},
            },
        },
    }


def model_template(stage: str, sizes: dict[str, Any]) -> dict[str, Any]:
    env = stage.lower()
    key = _import(KEY_EXPORT, stage)
    bucket = _import(BUCKET_EXPORT, stage)
    definition = [
        '{"StartAt":"Transform","States":{"Transform":{"Type":"Task","Resource":"arn:',
        {"Ref": "AWS::Partition"},
        ':states:::sagemaker:createTransformJob.sync","Parameters":{"TransformJobName.$":"$$.Execution.Name",'
        '"ModelName":"',
        {"Fn::GetAtt": ["Model2AD80A05", "ModelName"]},
        '","BatchStrategy":"MultiRecord","MaxPayloadInMB":6,"MaxConcurrentTransforms":4,'
        '"TransformInput":{"ContentType":"text/csv","SplitType":"Line","DataSource":{"S3DataSource":'
        '{"S3DataType":"S3Prefix","S3Uri":"s3://',
        bucket,
        '/batch/input/"}}},"TransformOutput":{"S3OutputPath":"s3://',
        bucket,
        f'/batch/output/"}},"TransformResources":{{"InstanceCount":{sizes["batch_count"]},'
        f'"InstanceType":"{sizes["batch_type"]}"}}}},"Retry":[{{"ErrorEquals":["SageMaker.AmazonSageMakerException"],'
        '"MaxAttempts":3}],"End":true}},"TimeoutSeconds":172800}',
    ]
    return {
        "Resources": {
            "ModelRole1E6D4D6B": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Statement": [
                            {
                                "Action": "sts:AssumeRole",
                                "Effect": "Allow",
                                "Principal": {"Service": "sagemaker.amazonaws.com"},
                            }
                        ]
                    },
                    "Description": "Execution role of the fraud model",
                },
            },
            "ModelRoleDefaultPolicy3A1B2C4D": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyDocument": {
                        "Statement": [
                            {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": key},
                            {
                                "Action": ["s3:GetObject", "s3:PutObject"],
                                "Effect": "Allow",
                                "Resource": {"Fn::Join": ["", ["arn:aws:s3:::", bucket, f"/{env}/fraud/*"]]},
                            },
                        ]
                    },
                    "PolicyName": "ModelRoleDefaultPolicy",
                    "Roles": [{"Ref": "ModelRole1E6D4D6B"}],
                },
            },
            "Model2AD80A05": {
                "Type": "AWS::SageMaker::Model",
                "Properties": {
                    "ExecutionRoleArn": {"Fn::GetAtt": ["ModelRole1E6D4D6B", "Arn"]},
                    "PrimaryContainer": {"Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fraud:1"},
                    "EnableNetworkIsolation": True,
                },
            },
            "ServerlessModel9C1E2F3A": {
                "Type": "AWS::SageMaker::Model",
                "Properties": {
                    "ExecutionRoleArn": {"Fn::GetAtt": ["ModelRole1E6D4D6B", "Arn"]},
                    "PrimaryContainer": {"Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fraud:1"},
                },
            },
            "ServerlessEndpointConfig0A1B2C3D": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Properties": {
                    "KmsKeyId": key,
                    "ProductionVariants": [
                        {
                            "ModelName": {"Fn::GetAtt": ["ServerlessModel9C1E2F3A", "ModelName"]},
                            "VariantName": "AllTraffic",
                            "ServerlessConfig": {
                                "MemorySizeInMB": sizes["memory"],
                                "MaxConcurrency": sizes["max_concurrency"],
                                "ProvisionedConcurrency": sizes["provisioned"],
                            },
                        }
                    ],
                },
            },
            "ServerlessEndpoint4E5F6A7B": {
                "Type": "AWS::SageMaker::Endpoint",
                "Properties": {
                    "EndpointConfigName": {"Fn::GetAtt": ["ServerlessEndpointConfig0A1B2C3D", "EndpointConfigName"]},
                    "EndpointName": f"{env}-fraud-serverless",
                },
            },
            "ServerlessScalableTarget8B9C0D1E": {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "Properties": {
                    "MinCapacity": sizes["provisioned"],
                    "MaxCapacity": sizes["max_concurrency"],
                    "ResourceId": f"endpoint/{env}-fraud-serverless/variant/AllTraffic",
                    "ScalableDimension": "sagemaker:variant:DesiredProvisionedConcurrency",
                    "ServiceNamespace": "sagemaker",
                },
                "DependsOn": ["ServerlessEndpoint4E5F6A7B"],
            },
            "ServerlessScalableTargetUtilization2F3A4B5C": {
                "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                "Properties": {
                    "PolicyName": f"{stage}ModelFraudServerlessUtilization1A2B3C4D",
                    "PolicyType": "TargetTrackingScaling",
                    "ScalingTargetId": {"Ref": "ServerlessScalableTarget8B9C0D1E"},
                    "TargetTrackingScalingPolicyConfiguration": {
                        "PredefinedMetricSpecification": {
                            "PredefinedMetricType": "SageMakerVariantProvisionedConcurrencyUtilization"
                        },
                        "TargetValue": 0.7,
                    },
                },
            },
            "AsyncEndpointConfig6D7E8F9A": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Properties": {
                    "KmsKeyId": key,
                    "AsyncInferenceConfig": {
                        "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 2},
                        "OutputConfig": {
                            "KmsKeyId": key,
                            "S3OutputPath": {"Fn::Join": ["", ["s3://", bucket, f"/{env}/fraud/output/"]]},
                            "S3FailurePath": {"Fn::Join": ["", ["s3://", bucket, f"/{env}/fraud/failure/"]]},
                            "NotificationConfig": {
                                "SuccessTopic": _import(TOPIC_EXPORT, stage),
                                "ErrorTopic": {"Ref": "AsyncErrorTopic7A8B9C0D"},
                                "IncludeInferenceResponseIn": ["SUCCESS_NOTIFICATION_TOPIC"],
                            },
                        },
                    },
                    "ProductionVariants": [
                        {
                            "ModelName": {"Fn::GetAtt": ["Model2AD80A05", "ModelName"]},
                            "VariantName": "AllTraffic",
                            "InstanceType": sizes["async_type"],
                            "InitialInstanceCount": 1,
                        }
                    ],
                },
            },
            "AsyncErrorTopic7A8B9C0D": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": key}},
            "AsyncEndpoint1B2C3D4E": {
                "Type": "AWS::SageMaker::Endpoint",
                "Properties": {
                    "EndpointConfigName": {"Fn::GetAtt": ["AsyncEndpointConfig6D7E8F9A", "EndpointConfigName"]},
                    "EndpointName": f"{env}-fraud-async",
                },
            },
            "AsyncScalableTarget5F6A7B8C": {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "Properties": {
                    "MinCapacity": 0,
                    "MaxCapacity": sizes["async_max"],
                    "ResourceId": {
                        "Fn::Join": [
                            "",
                            [
                                "endpoint/",
                                {"Fn::GetAtt": ["AsyncEndpoint1B2C3D4E", "EndpointName"]},
                                "/variant/AllTraffic",
                            ],
                        ]
                    },
                    "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                    "ServiceNamespace": "sagemaker",
                },
            },
            "AsyncScalableTargetBacklog9D0E1F2A": {
                "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                "Properties": {
                    "PolicyName": "Backlog",
                    "PolicyType": "TargetTrackingScaling",
                    "ScalingTargetId": {"Ref": "AsyncScalableTarget5F6A7B8C"},
                    "TargetTrackingScalingPolicyConfiguration": {
                        "CustomizedMetricSpecification": {
                            "MetricName": "ApproximateBacklogSizePerInstance",
                            "Namespace": "AWS/SageMaker",
                            "Statistic": "Average",
                        },
                        "TargetValue": 5,
                        "ScaleInCooldown": 600,
                    },
                },
            },
            "AsyncScalableTargetWakeUp3B4C5D6E": {
                "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                "Properties": {
                    "PolicyName": "WakeUp",
                    "PolicyType": "StepScaling",
                    "ScalingTargetId": {"Ref": "AsyncScalableTarget5F6A7B8C"},
                    "StepScalingPolicyConfiguration": {
                        "AdjustmentType": "ChangeInCapacity",
                        "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
                    },
                },
            },
            "AsyncWakeUpAlarm7F8A9B0C": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "MetricName": "HasBacklogWithoutCapacity",
                    "Namespace": "AWS/SageMaker",
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "Threshold": 1,
                    "EvaluationPeriods": 1,
                    "AlarmActions": [{"Ref": "AsyncScalableTargetWakeUp3B4C5D6E"}],
                },
            },
            "RealtimeEndpointConfigAAD45820": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Properties": {
                    "KmsKeyId": key,
                    "ProductionVariants": [
                        {
                            "ModelName": {"Fn::GetAtt": ["Model2AD80A05", "ModelName"]},
                            "VariantName": "AllTraffic",
                            "InstanceType": sizes["realtime_type"],
                            "InitialInstanceCount": sizes["realtime_min"],
                        }
                    ],
                },
            },
            "Realtime5xxAlarm1A2B3C4D": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": f"{env}-fraud-realtime-5xx",
                    "MetricName": "Invocation5XXErrors",
                    "Namespace": "AWS/SageMaker",
                    "ComparisonOperator": "GreaterThanThreshold",
                    "Threshold": 0,
                    "EvaluationPeriods": 1,
                },
            },
            "RealtimeEndpoint4C616D86": {
                "Type": "AWS::SageMaker::Endpoint",
                "Properties": {
                    "EndpointConfigName": {"Fn::GetAtt": ["RealtimeEndpointConfigAAD45820", "EndpointConfigName"]},
                    "EndpointName": f"{env}-fraud-realtime",
                    "RetainAllVariantProperties": True,
                    "DeploymentConfig": {
                        "BlueGreenUpdatePolicy": {
                            "TrafficRoutingConfiguration": {
                                "Type": "CANARY",
                                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
                                "WaitIntervalInSeconds": 600,
                            },
                            "TerminationWaitInSeconds": 300,
                            "MaximumExecutionTimeoutInSeconds": 3600,
                        },
                        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": {"Ref": "Realtime5xxAlarm1A2B3C4D"}}]},
                    },
                },
            },
            "RealtimeScalableTargetFEF84222": {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "Properties": {
                    "MinCapacity": sizes["realtime_min"],
                    "MaxCapacity": sizes["realtime_max"],
                    "ResourceId": f"endpoint/{env}-fraud-realtime/variant/AllTraffic",
                    "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                    "ServiceNamespace": "sagemaker",
                },
            },
            "BatchRole4D5E6F7A": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Statement": [
                            {
                                "Action": "sts:AssumeRole",
                                "Effect": "Allow",
                                "Principal": {"Service": "states.amazonaws.com"},
                            }
                        ]
                    }
                },
            },
            "BatchRoleDefaultPolicy8B9C0D1E": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Action": ["sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob"],
                                "Effect": "Allow",
                                "Resource": {
                                    "Fn::Join": [
                                        "",
                                        [
                                            "arn:aws:sagemaker:eu-west-1:",
                                            {"Ref": "AWS::AccountId"},
                                            f":transform-job/{env}-fraud-*",
                                        ],
                                    ]
                                },
                            },
                            {
                                "Action": "iam:PassRole",
                                "Effect": "Allow",
                                "Resource": {"Fn::GetAtt": ["ModelRole1E6D4D6B", "Arn"]},
                            },
                        ]
                    },
                    "PolicyName": "BatchRoleDefaultPolicy",
                    "Roles": [{"Ref": "BatchRole4D5E6F7A"}],
                },
            },
            "BatchStateMachine2F3A4B5C": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "DefinitionString": {"Fn::Join": ["", definition]},
                    "RoleArn": {"Fn::GetAtt": ["BatchRole4D5E6F7A", "Arn"]},
                },
            },
            "BatchScheduleRule6D7E8F9A": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "ScheduleExpression": "cron(0 2 * * ? *)",
                    "State": "ENABLED",
                    "Targets": [{"Arn": {"Ref": "BatchStateMachine2F3A4B5C"}, "Id": "Target0"}],
                },
            },
            "BatchUploadRule0B1C2D3E": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventPattern": {
                        "source": ["aws.s3"],
                        "detail-type": ["Object Created"],
                        "detail": {"bucket": {"name": [bucket]}, "object": {"key": [{"prefix": "batch/input/"}]}},
                    },
                    "State": "ENABLED",
                    "Targets": [{"Arn": {"Ref": "BatchStateMachine2F3A4B5C"}, "Id": "Target0"}],
                },
            },
        },
        "Outputs": {
            "AsyncEndpointName": {"Value": {"Fn::GetAtt": ["AsyncEndpoint1B2C3D4E", "EndpointName"]}},
            "AsyncInputPath": {"Value": {"Fn::Join": ["", ["s3://", bucket, f"/{env}/fraud/input/"]]}},
            "BatchStateMachineArn": {"Value": {"Ref": "BatchStateMachine2F3A4B5C"}},
        },
    }


# Construct paths by logical id: the bundle groups resources by their top-level construct.
PATHS = {
    "ModelRole1E6D4D6B": "Model/Role",
    "ModelRoleDefaultPolicy3A1B2C4D": "Model/Role/DefaultPolicy",
    "Model2AD80A05": "Model/Model",
    "ServerlessModel9C1E2F3A": "Serverless/Model",
    "ServerlessEndpointConfig0A1B2C3D": "Serverless/EndpointConfig",
    "ServerlessEndpoint4E5F6A7B": "Serverless/Endpoint",
    "ServerlessScalableTarget8B9C0D1E": "Serverless/ScalableTarget",
    "ServerlessScalableTargetUtilization2F3A4B5C": "Serverless/ScalableTarget/Utilization",
    "AsyncEndpointConfig6D7E8F9A": "Async/EndpointConfig",
    "AsyncErrorTopic7A8B9C0D": "Async/ErrorTopic/Topic",
    "AsyncEndpoint1B2C3D4E": "Async/Endpoint",
    "AsyncScalableTarget5F6A7B8C": "Async/ScalableTarget",
    "AsyncScalableTargetBacklog9D0E1F2A": "Async/ScalableTarget/Backlog",
    "AsyncScalableTargetWakeUp3B4C5D6E": "Async/ScalableTarget/WakeUp",
    "AsyncWakeUpAlarm7F8A9B0C": "Async/WakeUpAlarm",
    "RealtimeEndpointConfigAAD45820": "Realtime/EndpointConfig",
    "Realtime5xxAlarm1A2B3C4D": "Realtime/Alarm5xx",
    "RealtimeEndpoint4C616D86": "Realtime/Endpoint",
    "RealtimeScalableTargetFEF84222": "Realtime/ScalableTarget",
    "BatchRole4D5E6F7A": "Batch/StateMachine/Role",
    "BatchRoleDefaultPolicy8B9C0D1E": "Batch/StateMachine/Role/DefaultPolicy",
    "BatchStateMachine2F3A4B5C": "Batch/StateMachine",
    "BatchScheduleRule6D7E8F9A": "Batch/Schedule",
    "BatchUploadRule0B1C2D3E": "Batch/OnUpload",
    "PlatformKey1C4A1A63": "PlatformKey/Key",
    "PlatformKeyAlias2E5C3B1F": "PlatformKey/Key/Alias",
    "AsyncBucket5A7F3B2C": "AsyncInference/Bucket",
    "SuccessTopic495EB1E1": "Notifications/Topic",
}

SIZES = {
    "dev": {
        "memory": 2048,
        "max_concurrency": 5,
        "provisioned": 1,
        "async_type": "ml.m5.large",
        "async_max": 2,
        "realtime_type": "ml.t2.medium",
        "realtime_min": 1,
        "realtime_max": 2,
        "batch_type": "ml.m5.large",
        "batch_count": 1,
    },
    "prod": {
        "memory": 4096,
        "max_concurrency": 20,
        "provisioned": 2,
        "async_type": "ml.m5.xlarge",
        "async_max": 4,
        "realtime_type": "ml.m5.large",
        "realtime_min": 2,
        "realtime_max": 6,
        "batch_type": "ml.m5.xlarge",
        "batch_count": 2,
    },
}
UNUSED_ACKNOWLEDGEMENT = "AwsSolutions::AwsSolutions-SNS3"


def _stack_artifact(stage: str, name: str, region: str | None, tags: dict[str, str], metadata_file: str) -> dict:
    return {
        "type": "aws:cloudformation:stack",
        "environment": f"aws://unknown-account/{region or 'unknown-region'}",
        "properties": {"templateFile": f"{stage}{name}.template.json", "tags": tags, "stackName": f"{stage}-{name}"},
        "additionalMetadataFile": metadata_file,
        "displayName": f"{stage}/{name}",
    }


def write_fixture_assembly(directory: Path) -> Path:
    """Write the assembly under ``directory`` and return it."""
    nested = {}
    report_findings = []
    for env, region in (("dev", None), ("prod", "eu-west-1")):
        stage = env.capitalize()
        folder = directory / f"assembly-{stage}"
        folder.mkdir(parents=True)
        artifacts = {}
        for name, template, tags in (
            ("Platform", platform_template(stage), {"environment": env}),
            ("ModelFraud", model_template(stage, SIZES[env]), {"environment": env, "model": "fraud"}),
        ):
            (folder / f"{stage}{name}.template.json").write_text(json.dumps(template, indent=1))
            metadata: dict[str, list[dict]] = {
                f"/{stage}/{name}/{PATHS[logical_id]}": [{"type": "aws:cdk:logicalId", "data": logical_id}]
                for logical_id in template["Resources"]
            }
            if name == "ModelFraud":
                role_path = f"/{stage}/{name}/Model/Role"
                metadata[role_path].append(
                    {
                        "type": "aws:cdk:acknowledged-rules",
                        "data": {
                            "AwsSolutions::AwsSolutions-IAM5[Resource::*]": "A reason long enough to be specific."
                        },
                    }
                )
                metadata[f"/{stage}/{name}/Async/ErrorTopic"] = [
                    {
                        "type": "aws:cdk:acknowledged-rules",
                        "data": {UNUSED_ACKNOWLEDGEMENT: "An exception nothing needs any more, left behind."},
                    }
                ]
                report_findings.append(f"{stage}/{name}/Model/Role/DefaultPolicy/Resource")
            (folder / f"{stage}{name}.metadata.json").write_text(json.dumps(metadata))
            artifacts[f"{stage}{name}"] = _stack_artifact(stage, name, region, tags, f"{stage}{name}.metadata.json")
        (folder / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))
        nested[f"assembly-{stage}"] = {
            "type": "cdk:cloud-assembly",
            "properties": {"directoryName": f"assembly-{stage}"},
        }
    (directory / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": nested}))
    report = {
        "version": "55.0.0",
        "title": "Validation Report",
        "pluginReports": [
            {
                "pluginName": "AwsSolutions",
                "conclusion": "failure",
                "violations": [
                    {
                        "ruleName": "AwsSolutions-SQS3",
                        "description": "The SQS queue is not used as a dead-letter queue.",
                        "severity": "error",
                        "violatingConstructs": [{"constructPath": "Prod/ModelFraud/Async/DeadLetters/Resource"}],
                    }
                ],
                "suppressedViolations": [
                    {
                        "ruleName": "AwsSolutions-IAM5[Resource::*]",
                        "description": "The IAM entity contains wildcard permissions.",
                        "severity": "error",
                        "violatingConstructs": [{"constructPath": path} for path in report_findings],
                        "acknowledgedId": "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                        "reason": "A reason long enough to be specific.",
                        "acknowledgedAt": report_findings[0].rsplit("/DefaultPolicy", 1)[0],
                    },
                    {
                        "ruleName": "AwsSolutions-IAM5[Resource::*]",
                        "description": "The IAM entity contains wildcard permissions.",
                        "severity": "error",
                        "violatingConstructs": [{"constructPath": report_findings[1]}],
                        "acknowledgedId": "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                        "reason": "A reason long enough to be specific.",
                        "acknowledgedAt": report_findings[1].rsplit("/DefaultPolicy", 1)[0],
                    },
                ],
            }
        ],
    }
    # The first suppressed entry covers the dev role only; the second the prod role.
    report["pluginReports"][0]["suppressedViolations"][0]["violatingConstructs"] = [
        {"constructPath": report_findings[0]}
    ]
    (directory / "validation-report.json").write_text(json.dumps(report))
    return directory
