"""``DataCaptureSettings``: copy requests and/or responses of an endpoint to S3, KMS-encrypted."""

from __future__ import annotations

from typing import Literal

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from pydantic import Field

from inference_constructs.settings import Settings

_CAPTURE_MODES = {"request": "Input", "response": "Output"}


class DataCaptureSettings(Settings):
    """What to capture. Captured data lands under the model's prefix in the data-capture bucket."""

    sampling_percentage: int = Field(default=100, ge=1, le=100, description="Share of requests captured, in percent.")
    capture: tuple[Literal["request", "response"], ...] = Field(
        default=("request", "response"), min_length=1, description="What is captured."
    )
    csv_content_types: tuple[str, ...] = Field(
        default=("text/csv",), description="Content types whose captured payloads are encoded as CSV."
    )
    json_content_types: tuple[str, ...] = Field(
        default=("application/json",), description="Content types whose captured payloads are encoded as JSON."
    )


def data_capture_config(
    settings: DataCaptureSettings, *, bucket: s3.IBucket, prefix: str, encryption_key: kms.IKey
) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
    return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
        enable_capture=True,
        initial_sampling_percentage=settings.sampling_percentage,
        destination_s3_uri=bucket.s3_url_for_object(prefix),
        kms_key_id=encryption_key.key_arn,
        capture_options=[
            sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode=_CAPTURE_MODES[mode])
            for mode in sorted(set(settings.capture))
        ],
        capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
            csv_content_types=list(settings.csv_content_types) or None,
            json_content_types=list(settings.json_content_types) or None,
        ),
    )


def data_capture_statements(*, bucket: s3.IBucket, prefix: str, encryption_key: kms.IKey) -> list[iam.PolicyStatement]:
    """What SageMaker needs, as the model's execution role, to write captured data: objects
    under this prefix only, encrypted with the platform key."""
    return [
        iam.PolicyStatement(
            sid="WriteOwnCapturedData", actions=["s3:PutObject"], resources=[bucket.arn_for_objects(f"{prefix}*")]
        ),
        iam.PolicyStatement(
            sid="EncryptCapturedData",
            actions=["kms:GenerateDataKey", "kms:Encrypt"],
            resources=[encryption_key.key_arn],
        ),
    ]


def grant_data_capture(role: iam.IRole, *, bucket: s3.IBucket, prefix: str, encryption_key: kms.IKey) -> None:
    """SageMaker writes captured data as the model's execution role: this prefix only."""
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["s3:PutObject"], resources=[bucket.arn_for_objects(f"{prefix}*")])
    )
    encryption_key.grant(role, "kms:GenerateDataKey", "kms:Encrypt")
