"""Serial inference pipelines: containers a model runs in order in front of its own, each
request passing through every one (https://docs.aws.amazon.com/sagemaker/latest/dg/inference-pipelines.html).

A pipeline model lists its containers in ``Containers`` (at most 15, botocore's
``ContainerDefinitionList``) with ``InferenceExecutionConfig.Mode: Serial``; each has its own
image, optional artifact and environment, and each answer is the next container's request. The
model's own container (``image``, ``model_data``) comes last. Real-time endpoints and batch
transform run pipelines ("An inference pipeline ... can be used to make real-time predictions
and to process batch transforms directly"); serverless endpoints exclude them (the feature
exclusions of https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html).

The config validates with these settings too. (They build on ``inference_model.ModelImage``, so
importing this module loads aws-cdk-lib.)
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from inference_constructs.inference_model import ModelImage, check_model_data
from inference_constructs.multi_model import is_model_prefix
from inference_constructs.service_models import max_items
from inference_constructs.settings import Settings

# The model's own container is the last one of the list.
MAX_PIPELINE_CONTAINERS = max_items("sagemaker", "ContainerDefinitionList") - 1


class PipelineContainer(Settings):
    """A container in front of the model's own, e.g. a preprocessing step: its answer is the
    next container's request."""

    image: ModelImage = Field(description="Its image: a prebuilt framework image, an ECR uri or a dockerfile.")
    model_data: Annotated[str, AfterValidator(check_model_data)] | None = Field(
        default=None, description="Its artifact (.tar.gz, local or s3://), if it needs one."
    )
    environment: dict[str, str] = Field(
        default_factory=dict, description="Its environment variables (AWS's limits as for the model's)."
    )

    @model_validator(mode="after")
    def _framework_images_need_their_handler(self) -> PipelineContainer:
        # The framework images load the handler (code/inference.py) from the artifact.
        if self.image.is_framework and self.model_data is None:
            raise ValueError("a framework image reads its handler from model_data; give one, or use image.uri")
        if self.model_data is not None and is_model_prefix(self.model_data):
            raise ValueError(
                "a pipeline container's model_data is a .tar.gz (uncompressed S3 prefixes are not offered)"
            )
        return self
