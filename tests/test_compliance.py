"""cdk-nag over every environment: no unacknowledged finding, no stale acknowledgement."""

from __future__ import annotations

from inference_constructs.compliance import recorded_acknowledgements
from tests.nag import stale_acknowledgements


def test_shipped_app_synthesizes_with_nag_packs_registered(synthesized):
    # app.synth() raises ValidationFailed on any unacknowledged finding, so the session
    # fixture existing proves there is none; the templates must also be there.
    # Per environment: the platform stack, one stack per model and the monitoring stack (and the
    # shared endpoint's stack where the environment declares one).
    assert len(synthesized.template_files()) == sum(
        2 + len(stage.model_stacks) + (stage.shared_endpoint is not None) for stage in synthesized.stages.values()
    )


def test_every_acknowledgement_matches_a_finding_under_its_scope(synthesized):
    acknowledgements = [
        ack for ack in recorded_acknowledgements(synthesized.app) if not ack.finding_id.startswith("checkov::")
    ]
    assert acknowledgements, "expected the known, justified exceptions to be recorded"
    stale = stale_acknowledgements(synthesized.app)
    assert not stale, f"acknowledgements that no longer match any finding: {stale}"


def test_every_acknowledgement_gives_a_specific_reason(synthesized):
    for ack in recorded_acknowledgements(synthesized.app):
        assert len(ack.reason) >= 30 and ack.finding_id.split("::")[1] not in ack.reason
