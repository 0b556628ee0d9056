"""The environment's observability: CloudWatch dashboards over the model stacks.

A dashboard holds at most 500 widgets, and a model served in all four modes takes about 20,
so an environment's models are shown on pages of :data:`MODELS_PER_DASHBOARD`, each page a
dashboard in a stack of its own (which also keeps every template far below CloudFormation's
1 MB). Most environments have one page: ``<Stage>-Monitoring``.
"""

from __future__ import annotations

from collections.abc import Iterable

import aws_cdk as cdk
from constructs import Construct

from inference_constructs.dashboard import InferenceDashboard
from inference_core.modes import registered
from inference_core.naming import dashboard_name
from stacks.model_stack import ModelStack
from stacks.modes import unit_of

# A model served in all four modes takes about 20 of a dashboard's at most 500 widgets.
MODELS_PER_DASHBOARD = 20


class MonitoringStack(cdk.Stack):
    """A dashboard showing every model's endpoints and batch jobs, in rows per model (each
    mode's row is its unit's, ``stacks/modes/``).

    Endpoints and their alarms are addressed by their stable names, so this stack imports
    nothing from the model stacks; it deploys after them (explicit dependencies) so every
    alarm it lists exists.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment: str,
        model_stacks: Iterable[ModelStack],
        page: int = 1,
        pages: int = 1,
        **kwargs: object,
    ) -> None:
        of_pages = f" (page {page} of {pages})" if pages > 1 else ""
        super().__init__(
            scope,
            id,
            description=f"SageMaker inference dashboard ({environment}){of_pages}",
            **kwargs,  # type: ignore[arg-type]
        )
        self.dashboard = InferenceDashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name(environment, self.region, page),
            title=f"SageMaker inference: {environment}{of_pages}",
        )
        for stack in model_stacks:
            self.add_stack_dependency(stack, "the dashboard lists the model stack's alarms by name")
            for mode in registered():
                if mode.name in stack.units:
                    unit_of(mode).add_to_dashboard(self.dashboard, stack.units[mode.name], model_name=stack.model_name)
        cdk.CfnOutput(self, "DashboardName", value=self.dashboard.dashboard_name)
