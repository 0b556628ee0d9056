"""A model served from its own Dockerfile: the stack resolves the path from the repository
root, synthesizes without Docker and stays clean under the four cdk-nag packs."""

from __future__ import annotations

import json
import shutil

from inference_config.loader import load_environment
from stacks.application import build_stages, register_compliance_checks
from tests.conftest import new_app

CONFIG = """\
environment: dev
models:
  - name: iris
    image: {dockerfile: containers/iris/Dockerfile}
    model_data: dist/model.tar.gz
    realtime:
      instance_type: ml.m5.large
"""


def test_dockerfile_model_synthesizes_clean_without_docker(model_artifact, tmp_path):
    repository = tmp_path / "repository"
    (repository / "containers" / "iris").mkdir(parents=True)
    (repository / "containers" / "iris" / "Dockerfile").write_text("FROM scratch\n")
    (repository / "dist").mkdir()
    shutil.copy(model_artifact, repository / "dist" / "model.tar.gz")
    (repository / "dev.yaml").write_text(CONFIG)
    config = load_environment(repository / "dev.yaml", base_dir=repository)

    app = new_app(tmp_path / "cdk.out")
    (stage,) = build_stages(app, [config], base_dir=str(repository))
    register_compliance_checks(app)
    assembly = app.synth()  # raises on any unacknowledged cdk-nag finding

    nested = assembly.get_nested_assembly("assembly-Dev")
    model_stack = nested.get_stack_by_name(stage.model_stacks["iris"].stack_name)
    template = json.dumps(model_stack.template)
    assert "cdk-hnb659fds-container-assets-" in template
    assert "SAGEMAKER_PROGRAM" not in template  # the framework's variables are for framework images only
    manifests = list((tmp_path / "cdk.out").rglob("*.assets.json"))
    images = [image for path in manifests for image in json.loads(path.read_text()).get("dockerImages", {}).values()]
    assert [image["source"]["dockerFile"] for image in images] == ["Dockerfile"]
