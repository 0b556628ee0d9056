"""docs/configuration.md is what the pydantic models say, and the generator says all of it."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import Field

from inference_config.schema import EnvironmentConfig, PipelineConfig
from inference_constructs.settings import Settings
from scripts import config_reference
from scripts.config_reference import REFERENCE_MD, collect_blocks, render, render_block, undescribed


def test_reference_is_what_the_models_say():
    assert REFERENCE_MD.read_text() == render(), (
        f"docs/configuration.md is stale; regenerate it: {config_reference.REGENERATE}"
    )


def test_check_fails_on_a_stale_reference_and_passes_on_a_fresh_one(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "configuration.md"
    # A hand edit that drifted from the code: the shadow variant's default traffic share.
    stale.write_text(
        render().replace("| `traffic_percent` | integer | `100` |", "| `traffic_percent` | integer | `50` |")
    )
    monkeypatch.setattr(config_reference, "REFERENCE_MD", stale)
    assert config_reference.main(["--check"]) == 1
    assert "configuration.md is stale; regenerate it: .venv/bin/python -m scripts.config_reference" in (
        capsys.readouterr().err
    )
    assert config_reference.main([]) == 0
    assert stale.read_text() == render()
    assert config_reference.main(["--check"]) == 0


def test_check_fails_when_the_reference_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(config_reference, "REFERENCE_MD", tmp_path / "configuration.md")
    assert config_reference.main(["--check"]) == 1


@pytest.mark.parametrize("root", [EnvironmentConfig, PipelineConfig])
def test_every_configuration_key_has_a_description(root):
    assert undescribed(root) == [], "add a Field(description=...) so the reference says what the key means"


def test_reference_lists_yaml_keys_defaults_and_ranges():
    reference = REFERENCE_MD.read_text()
    # Aliases, not Python names: the YAML keys are `async` and `lambda`.
    assert "| `async` | [block](#environment-models-async) | none |" in reference
    assert "| `lambda` | string | none |" in reference
    assert "| `async_` |" not in reference
    assert "| `lambda_` |" not in reference
    # The shadow variant's defaults, which the hand-written tables had lost (issue 17).
    assert "| `traffic_percent` | integer | `100` | 1 to 100 |" in reference
    assert "| `variant_name` | string | `Shadow` |" in reference
    # A validator with a fixed set of values lists the set.
    assert "one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400" in reference
    assert "`sklearn`: `1.0-1`, `1.2-1`, `1.4-2`" in reference
    # A shared block is documented once, at every path it sits under.
    assert "`models[].realtime.deployment`, `models[].serverless.deployment`, `models[].async.deployment`" in reference
    assert reference.count("Model `DeploymentPolicy`") == 1


class _Toy(Settings):
    """A toy block."""

    count: int = Field(default=2, ge=1, le=5, description="How many.")
    ratio: float | None = Field(default=None, gt=0, lt=1, description="A share.")
    kind: Literal["a", "b"] = Field(default="a", description="Which.")
    names: tuple[str, ...] = Field(min_length=1, max_length=3, description="Some names.")
    label: str = Field(pattern=r"^x|y$", max_length=8, description="A label.")


def test_a_block_renders_type_default_range_and_description():
    blocks = collect_blocks(_Toy, "toy")
    table = "\n".join(render_block(blocks[_Toy], blocks, "Toy"))
    assert '<a id="toy-top"></a>' in table
    assert "| `count` | integer | `2` | 1 to 5 | How many. |" in table
    assert "| `ratio` | number | none | > 0; < 1 | A share. |" in table
    assert "| `kind` | string | `a` | one of `a`, `b` | Which. |" in table
    assert "| `names` | list of string | required | 1 to 3 entries | Some names. |" in table
    # A pipe in a pattern is escaped, or it would split the Markdown cell.
    assert "| `label` | string | required | at most 8 characters; matches `^x\\|y$` | A label. |" in table


class _Unknown(Settings):
    when: complex = Field(default=0j, description="No rendering for this.")


def test_a_type_the_generator_cannot_render_fails_loudly():
    blocks = collect_blocks(_Unknown, "unknown")
    with pytest.raises(TypeError, match="no rendering for the type <class 'complex'>"):
        render_block(blocks[_Unknown], blocks, "Unknown")
