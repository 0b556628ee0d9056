from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from inference_config.loader import ConfigError, load_environment, load_environments
from tests.conftest import CONFIG_DIR, ENVIRONMENTS, REPO_ROOT

VALID = """\
environment: {name}
tags: {{team: ml}}
models:
  - name: iris
    image: {{framework: sklearn, version: "1.4-2"}}
    model_data: s3://my-bucket/iris/model.tar.gz
    realtime:
      instance_type: ml.m5.large
"""


def write(tmp_path: Path, text: str, name: str = "dev") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_environment(path, base_dir=path.parent)
    return raised.value.problems


def test_shipped_configs_load(model_artifact):
    configs = load_environments([CONFIG_DIR / f"{name}.yaml" for name in ENVIRONMENTS], base_dir=REPO_ROOT)
    assert [config.environment for config in configs] == list(ENVIRONMENTS)
    assert all(config.models for config in configs)


def test_valid_config_is_typed_and_frozen(tmp_path):
    config = load_environment(write(tmp_path, VALID.format(name="dev")), base_dir=tmp_path)
    assert config.models[0].realtime.instance_type == "ml.m5.large"
    assert config.account is None and config.region is None  # environment-agnostic
    assert config.termination_protection and config.retain_stateful_resources  # secure defaults
    with pytest.raises(Exception, match="frozen"):
        config.environment = "prod"  # type: ignore[misc]


def test_every_problem_names_file_line_path_value_and_what_is_allowed(tmp_path):
    path = write(
        tmp_path,
        """\
        environment: dev
        account: "12345"
        region: mars-1
        models:
          - name: iris
            image: {framework: sklearn, version: "9.9"}
            model_data: s3://my-bucket/iris/model.tar.gz
            realtime:
              instance_type: ml.m5.huge
              initial_instance_count: 0
              instance_size: 3
    """,
    )
    problems = problems_of(path)
    assert len(problems) == 6, problems
    assert all(problem.startswith("dev.yaml:") for problem in problems)
    text = "\n".join(problems)
    assert "dev.yaml:2: account: expected a 12-digit AWS account id, quoted as a string (got '12345')" in text
    assert "dev.yaml:3: region: expected an AWS region such as eu-west-1" in text
    assert "models[0].image: unknown sklearn image version '9.9'; allowed: 1.0-1, 1.2-1, 1.4-2" in text
    assert "models[0].realtime.instance_type: 'ml.m5.huge' is not an instance type SageMaker offers" in text
    assert "models[0].realtime.initial_instance_count: Input should be greater than or equal to 1 (got 0)" in text
    assert "models[0].realtime.instance_size: unknown field; allowed fields: instance_type," in text


def test_problems_of_all_files_are_reported_together(tmp_path):
    bad_dev = write(tmp_path, "environment: dev\nmodels: []\n", "dev")
    bad_prod = write(tmp_path, "environment: prod\n", "prod")
    with pytest.raises(ConfigError) as raised:
        load_environments([bad_dev, bad_prod], base_dir=tmp_path)
    text = "\n".join(raised.value.problems)
    assert "dev.yaml:2: models: List should have at least 1 item" in text
    assert "prod.yaml" in text and "models: required field is missing" in text
    assert raised.value.report().startswith("Invalid configuration (2 problems)")


def test_environment_must_match_file_name(tmp_path):
    path = write(tmp_path, VALID.format(name="prod"), "staging")
    assert any("environment: must match the file name: expected 'staging' (got 'prod')" in p for p in problems_of(path))


def test_duplicate_model_names(tmp_path):
    valid = VALID.format(name="dev")
    text = valid + valid.split("models:\n")[1]
    assert any("duplicated: iris" in p for p in problems_of(write(tmp_path, text)))


def test_duplicate_yaml_keys_are_refused(tmp_path):
    path = write(tmp_path, "environment: dev\nenvironment: prod\nmodels: []\n")
    assert problems_of(path) == ["dev.yaml:2: YAML syntax error: duplicate key 'environment' (first on line 1)"]


def test_empty_file(tmp_path):
    assert "file is empty" in problems_of(write(tmp_path, ""))[0]


def test_yaml_syntax_error_has_a_line(tmp_path):
    (problem,) = problems_of(write(tmp_path, "environment: dev\nmodels: [\n  - name: x\n"))
    assert problem.startswith("dev.yaml:") and "YAML syntax error" in problem


def test_top_level_must_be_a_mapping(tmp_path):
    assert (
        "expected a mapping at the top level (environment:, models:, ...), got a list"
        in problems_of(write(tmp_path, "- a\n- b\n"))[0]
    )


def test_alias_bomb_is_refused_quickly(tmp_path):
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    (problem,) = problems_of(write(tmp_path, "\n".join(lines) + "\n"))
    assert "aliases expand to more than" in problem


def test_missing_local_artifact_points_to_the_build(tmp_path):
    text = VALID.format(name="dev").replace("s3://my-bucket/iris/model.tar.gz", "dist/none.tar.gz")
    assert any("local artifact not found" in p and "make model" in p for p in problems_of(write(tmp_path, text)))


@pytest.mark.parametrize(
    ("model_data", "expected"),
    [("s3://Bad_Bucket/x.tar.gz", "valid bucket name"), ("https://example.com/m.tar.gz", "local path to a .tar.gz")],
)
def test_bad_model_data(tmp_path, model_data, expected):
    text = VALID.format(name="dev").replace("s3://my-bucket/iris/model.tar.gz", model_data)
    assert any(expected in p for p in problems_of(write(tmp_path, text)))


def test_model_must_be_served_somewhere(tmp_path):
    text = VALID.format(name="dev").split("    realtime:")[0]
    assert any("serve the model in at least one mode" in p for p in problems_of(write(tmp_path, text)))


def test_complex_mapping_keys_are_refused(tmp_path):
    (problem,) = problems_of(write(tmp_path, "environment: dev\n? [a, b]\n: 1\n"))
    assert "mapping keys must be plain names" in problem


SERVERLESS_ONLY = """\
environment: dev
models:
  - name: iris
    image: {framework: sklearn, version: "1.4-2"}
    model_data: s3://my-bucket/iris/model.tar.gz
    serverless:
      memory_size_in_mb: 3072
      max_concurrency: 10
      provisioned_concurrency: 2
      autoscaling: {min_capacity: 1, max_capacity: 4, target_utilization: 0.5}
"""


def test_serverless_block_is_typed_and_counts_as_a_mode(tmp_path):
    config = load_environment(write(tmp_path, SERVERLESS_ONLY), base_dir=tmp_path)
    model = config.models[0]
    assert model.modes == ["serverless"]
    assert (model.serverless.memory_size_in_mb, model.serverless.max_concurrency) == (3072, 10)
    assert model.serverless.autoscaling.target_utilization == 0.5


def test_serverless_problems_name_file_line_field_and_reason(tmp_path):
    text = SERVERLESS_ONLY.replace("memory_size_in_mb: 3072", "memory_size_in_mb: 3000").replace(
        "      provisioned_concurrency: 2\n", "      provisioned_concurrency: 2\n      instance_type: ml.g5.xlarge\n"
    )
    problems = problems_of(write(tmp_path, text))
    assert problems == [
        "dev.yaml:7: models[0].serverless.memory_size_in_mb: memory_size_in_mb must be one of 1024, 2048, 3072, "
        "4096, 5120, 6144 (1 GB steps from 1 to 6 GB) (got 3000)",
        "dev.yaml:10: models[0].serverless.instance_type: ml.g5.xlarge is a GPU instance type; serverless endpoints "
        "run on CPU only: GPUs, Elastic Inference and Inferentia/Trainium accelerators are not available; remove "
        "instance_type and serve the model from a realtime endpoint on a GPU or accelerator instance type "
        "(e.g. ml.g5.xlarge) (got 'ml.g5.xlarge')",
    ]


def test_serverless_provisioned_concurrency_above_max_is_refused(tmp_path):
    text = SERVERLESS_ONLY.replace("provisioned_concurrency: 2", "provisioned_concurrency: 11").replace(
        "      autoscaling: {min_capacity: 1, max_capacity: 4, target_utilization: 0.5}\n", ""
    )
    (problem,) = problems_of(write(tmp_path, text))
    assert problem.startswith("dev.yaml:7: models[0].serverless: provisioned_concurrency (11) is above max_concurrency")


def test_no_mode_error_lists_every_mode(tmp_path):
    text = SERVERLESS_ONLY.split("    serverless:")[0]
    assert any(
        "serve the model in at least one mode: realtime, serverless" in p for p in problems_of(write(tmp_path, text))
    )


def test_an_own_container_from_a_dockerfile(tmp_path):
    (tmp_path / "containers" / "iris").mkdir(parents=True)
    (tmp_path / "containers" / "iris" / "Dockerfile").write_text("FROM scratch\n")
    text = VALID.format(name="dev").replace(
        '{framework: sklearn, version: "1.4-2"}', "{dockerfile: containers/iris/Dockerfile}"
    )
    (model,) = load_environment(write(tmp_path, text), base_dir=tmp_path).models
    assert model.image.dockerfile == "containers/iris/Dockerfile"
    assert not model.image.is_framework


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("{dockerfile: containers/none/Dockerfile}", "Dockerfile not found under"),
        ("{dockerfile: 'https://example.com/Dockerfile'}", "expected a local path to a Dockerfile"),
        ('{dockerfile: Dockerfile, framework: sklearn, version: "1.4-2"}', "give either dockerfile, or uri"),
        ("{}", "or dockerfile (your own image, built at deploy time)"),
    ],
)
def test_bad_dockerfile_images(tmp_path, image, expected):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    text = VALID.format(name="dev").replace('{framework: sklearn, version: "1.4-2"}', image)
    assert any(expected in problem for problem in problems_of(write(tmp_path, text)))


NETWORK = """\
environment: dev
network:
  vpc_id: vpc-0123456789abcdef0
  subnets:
    - {{id: subnet-0123456789abcdef0, availability_zone: eu-west-1a{first}}}
    - {{id: subnet-0123456789abcdef1, availability_zone: eu-west-1b, route_table_id: rtb-0123456789abcdef1}}
  security_group_ids: [sg-0123456789abcdef0]
  create_vpc_endpoints: {endpoints}
models:
  - name: iris
    image: {{framework: sklearn, version: "1.4-2"}}
    model_data: s3://my-bucket/iris/model.tar.gz
    realtime:
      instance_type: ml.m5.large
"""


def test_a_bad_item_is_reported_alone_not_as_a_list_too_short(tmp_path):
    path = write(tmp_path, NETWORK.format(first=", route_table_id: rt-1", endpoints="false"))
    assert problems_of(path) == [
        "dev.yaml:5: network.subnets[0].route_table_id: String should match pattern '^rtb-[0-9a-f]{8,17}$' (got 'rt-1')"
    ]


def test_vpc_endpoints_need_every_route_table(tmp_path):
    (problem,) = problems_of(write(tmp_path, NETWORK.format(first="", endpoints="true")))
    assert problem.startswith("dev.yaml:3: network: create_vpc_endpoints needs route_table_id on every subnet")
    assert problem.endswith("missing on subnet-0123456789abcdef0")
    config = load_environment(
        write(tmp_path, NETWORK.format(first=", route_table_id: rtb-0123456789abcdef0", endpoints="true")),
        base_dir=tmp_path,
    )
    assert config.network is not None and config.network.create_vpc_endpoints


def test_log_retention_must_be_a_cloudwatch_period(tmp_path):
    path = write(tmp_path, VALID.format(name="dev") + "log_retention_days: 731\n")
    assert load_environment(path, base_dir=tmp_path).log_retention_days == 731
    (problem,) = problems_of(write(tmp_path, VALID.format(name="dev") + "log_retention_days: 0\n"))
    assert problem.startswith("dev.yaml:9: log_retention_days: must be one of the periods CloudWatch Logs offers: 1, 3")


@pytest.mark.parametrize(
    ("image", "environment", "expected"),
    [
        (
            '{framework: sklearn, version: "1.4-2"}',
            "{SAGEMAKER_PROGRAM: other.py}",
            "models[0].environment: SAGEMAKER_PROGRAM is set by the platform for framework images",
        ),
        (
            "{uri: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-model:1.0}",
            "{SAGEMAKER_MODEL_SERVER_WORKERS: '4'}",
            "models[0].environment: SAGEMAKER_MODEL_SERVER_WORKERS is set by the platform from each mode's limits",
        ),
    ],
)
def test_variables_the_platform_sets_are_refused_as_the_construct_refuses_them(tmp_path, image, environment, expected):
    # One rule (inference_model.check_reserved_environment) for the config file and InferenceModel.
    text = VALID.format(name="dev").replace('{framework: sklearn, version: "1.4-2"}', image)
    text = text.replace("    realtime:", f"    environment: {environment}\n    realtime:")
    assert any(expected in problem for problem in problems_of(write(tmp_path, text)))


def test_a_framework_variable_is_free_in_an_own_container(tmp_path):
    text = VALID.format(name="dev").replace(
        '{framework: sklearn, version: "1.4-2"}', "{uri: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-model:1.0}"
    )
    text = text.replace("    realtime:", "    environment: {SAGEMAKER_PROGRAM: serve.py}\n    realtime:")
    (model,) = load_environment(write(tmp_path, text), base_dir=tmp_path).models
    assert model.environment == {"SAGEMAKER_PROGRAM": "serve.py"}
