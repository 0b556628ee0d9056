"""``diff.md``: what one environment has that another does not, setting by setting.

Resources are matched by stack and construct path (the same code builds every environment,
so ``Realtime/Endpoint`` in dev is ``Realtime/Endpoint`` in prod). Values are compared after
the environment's own name is replaced by ``<env>``: ``dev-iris-realtime`` and
``prod-iris-realtime`` are the same setting, and only real differences remain.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inference_core.naming import stage_name
from review_bundle.assembly import PROMOTION_ORDER, Assembly, Stack
from review_bundle.template import Renderer, friendly_type, table

IGNORED_PROPERTIES = {"Tags"}
MISSING = "(not set)"


@dataclass(frozen=True)
class Change:
    stack: str
    resource: str
    setting: str
    before: str
    after: str


@dataclass
class EnvironmentDiff:
    base: str
    other: str
    stacks_added: list[str]
    stacks_removed: list[str]
    resources_added: list[tuple[str, str, str]]  # (stack, path, kind)
    resources_removed: list[tuple[str, str, str]]
    changes: list[Change]

    @property
    def added_settings(self) -> list[Change]:
        return [change for change in self.changes if change.before == MISSING]

    @property
    def removed_settings(self) -> list[Change]:
        return [change for change in self.changes if change.after == MISSING]

    @property
    def changed_settings(self) -> list[Change]:
        return [change for change in self.changes if MISSING not in (change.before, change.after)]


# CDK appends an 8-character hash of the construct path to generated names.
_GENERATED_SUFFIX = re.compile(r"(?<=[A-Za-z])[0-9A-F]{8}\b")
# An instance-backed endpoint's scalable target carries its instance type in its construct id
# (ScalableTargetMlM5Large, see inference_constructs/endpoint.py), and so do the paths and
# generated names of its policies. The instance type shows as the endpoint config's difference;
# here it would hide every scaling setting behind "added"/"removed".
_SCALABLE_TARGET_KEY = re.compile(r"ScalableTargetMl[A-Z][a-z0-9]*?(?:Nano|Micro|Small|Medium|Large|Xlarge|\d+xlarge)")
# Keys that name an element of a list, so lists compare element by element, not by position.
_ELEMENT_KEYS = ("Sid", "VariantName", "ScheduledActionName", "PolicyName", "Key", "Name", "Id")


def normalizer(stack: Stack, environment: str) -> Callable[[str], str]:
    """Replace what differs by construction only: the environment's name (``dev``, ``Dev``),
    generated-name hashes, and the partition and region a pinned environment spells out."""
    names = re.compile(rf"(?<![A-Za-z0-9])({re.escape(environment)}|{re.escape(stage_name(environment))})(?![a-z0-9])")

    def normal(text: str) -> str:
        text = names.sub("<env>", text)
        text = _GENERATED_SUFFIX.sub("<hash>", text)
        text = _SCALABLE_TARGET_KEY.sub("ScalableTarget<instance type>", text)
        text = text.replace("arn:aws:", "arn:${AWS::Partition}:")
        if stack.region:
            text = text.replace(stack.region, "${AWS::Region}")
        return text

    return normal


def describe_stack(assembly: Assembly, stack: Stack, environment: str) -> dict[str, dict[str, str]]:
    """``{resource path: {setting: value}}`` plus a ``(stack)`` entry for stack-level settings."""
    to_normal = normalizer(stack, environment)
    render = Renderer(stack, assembly)

    def normal(value: Any) -> str:
        return to_normal(value if isinstance(value, str) else json.dumps(value, sort_keys=True))

    described: dict[str, dict[str, str]] = {
        "(stack)": {
            "termination protection": "on" if stack.termination_protection else "off",
            "account": stack.account or "(from the deploying credentials)",
            "region": stack.region or "(from the deploying credentials)",
            **{f"tag {key}": normal(value) for key, value in stack.tags.items()},
            **{f"output {key}": normal(render.text(value.get("Value"))) for key, value in stack.outputs.items()},
        }
    }
    for logical_id, resource in stack.resources.items():
        settings = {"kind": friendly_type(resource.get("Type", "?"))}
        for attribute in ("DeletionPolicy", "UpdateReplacePolicy", "Condition"):
            if attribute in resource:
                settings[attribute] = str(resource[attribute])
        properties = {
            key: value for key, value in resource.get("Properties", {}).items() if key not in IGNORED_PROPERTIES
        }
        if resource.get("Type") == "AWS::CloudWatch::Dashboard":
            # A dashboard body is one long JSON string: compare its widget titles, not the string.
            properties["DashboardBody"] = _widget_titles(render.text(properties.get("DashboardBody")))
        for setting, value in _flatten(render.value(properties)):
            settings[setting] = normal(value)
        described[_SCALABLE_TARGET_KEY.sub("ScalableTarget<instance type>", stack.path_of(logical_id))] = settings
    return described


def _widget_titles(body: str) -> str:
    try:
        widgets = json.loads(body)["widgets"]
    except (TypeError, ValueError, KeyError):
        return "(not readable as JSON)"
    titles = [w.get("properties", {}).get("title") or w.get("properties", {}).get("markdown", "") for w in widgets]
    return f"{len(widgets)} widgets: " + "; ".join(title.splitlines()[0] for title in titles if title)


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        rows = []
        for key, item in value.items():
            rows += _flatten(item, f"{prefix}.{key}" if prefix else key)
        return rows
    if isinstance(value, list) and value and any(isinstance(item, dict | list) for item in value):
        rows = []
        seen: dict[str, int] = {}
        for index, item in enumerate(value):
            key = _element_key(item, index)
            seen[key] = seen.get(key, 0) + 1
            if isinstance(item, dict) and not any(isinstance(item.get(name), str) for name in _ELEMENT_KEYS):
                item = {name: part for name, part in item.items() if name not in ("Action", "NotAction")}  # in the key
            rows += _flatten(item, f"{prefix}[{key}{'' if seen[key] == 1 else f' #{seen[key]}'}]")
        return rows
    return [(prefix, value)]


def _element_key(item: Any, index: int) -> str:
    """A list element's identity: its name, or for a policy statement its actions."""
    if isinstance(item, dict):
        for key in _ELEMENT_KEYS:
            if isinstance(item.get(key), str):
                return item[key]
        for key in ("Action", "NotAction"):
            if key in item:
                actions = item[key] if isinstance(item[key], list) else [item[key]]
                return ("NOT " if key == "NotAction" else "") + ", ".join(map(str, actions))
    return str(index)


def compare(assembly: Assembly, base: str, other: str) -> EnvironmentDiff:
    before = {stack.short_name: stack for stack in assembly.stacks_of(base)}
    after = {stack.short_name: stack for stack in assembly.stacks_of(other)}
    result = EnvironmentDiff(
        base=base,
        other=other,
        stacks_added=sorted(after[name].stack_name for name in set(after) - set(before)),
        stacks_removed=sorted(before[name].stack_name for name in set(before) - set(after)),
        resources_added=[],
        resources_removed=[],
        changes=[],
    )
    for name in sorted(set(before) & set(after)):
        old = describe_stack(assembly, before[name], base)
        new = describe_stack(assembly, after[name], other)
        label = name
        for path in sorted(set(new) - set(old)):
            result.resources_added.append((after[name].stack_name, path, new[path]["kind"]))
        for path in sorted(set(old) - set(new)):
            result.resources_removed.append((before[name].stack_name, path, old[path]["kind"]))
        for path in sorted(set(old) & set(new)):
            for setting in sorted(set(old[path]) | set(new[path])):
                was, now = old[path].get(setting, MISSING), new[path].get(setting, MISSING)
                if was != now:
                    result.changes.append(Change(label, path, setting, was, now))
    return result


def pairs(environments: list[str]) -> list[tuple[str, str]]:
    """First against last (e.g. dev and prod), then each promotion step."""
    steps = list(itertools.pairwise(environments))
    if len(environments) > 2:
        return [(environments[0], environments[-1]), *steps]
    return steps


def diff_report(assembly: Assembly) -> str:
    environments = assembly.environments
    lines = [
        "# Differences between environments",
        "",
        "The same code builds every environment; the configuration in `config/<environment>.yaml` makes "
        "them differ. This page lists every difference in the synthesized templates: what the later "
        "environment has that the earlier one does not, what it drops, and each setting that changes. "
        "Stacks are named by their id within the environment (`ModelIris` is `Dev-ModelIris` in dev and "
        "`Prod-ModelIris` in prod). Differences that exist only by construction are hidden: the "
        "environment's own name is written `<env>` (`dev-iris-realtime` and `prod-iris-realtime` are the "
        "same setting), generated-name hashes `<hash>`, and a region or partition that one environment "
        "pins is written as the `${AWS::Region}` / `${AWS::Partition}` the other resolves at deploy time. "
        "List elements are matched by name (for policy statements: by their actions), so `[...]` in a "
        "setting names the element.",
        "",
    ]
    # Environments off the promotion path (config/examples.yaml's) are not a step of it.
    promoted = [name for name in environments if name in PROMOTION_ORDER]
    path = promoted if len(promoted) >= 2 else environments
    if len(path) < 2:
        return "\n".join([*lines, "Only one environment was synthesized: nothing to compare.", ""])
    others = [name for name in environments if name not in path]
    if others:
        lines += [
            f"Not compared, as they are not on the promotion path ({' → '.join(path)}): "
            + ", ".join(f"`{name}`" for name in others)
            + ".",
            "",
        ]
    for base, other in pairs(path):
        result = compare(assembly, base, other)
        lines += [f"## `{other}` compared with `{base}`", ""]
        lines += [f"### What `{other}` has that `{base}` does not", ""]
        lines += _list("Stacks", result.stacks_added)
        lines += _resources(result.resources_added)
        lines += _changes("Settings only set in " + other, result.added_settings, base, other, show_before=False)
        lines += _changes("Settings with another value", result.changed_settings, base, other, show_before=True)
        if not (result.stacks_added or result.resources_added or result.added_settings or result.changed_settings):
            lines += ["Nothing.", ""]
        lines += [f"### What `{base}` has that `{other}` does not", ""]
        lines += _list("Stacks", result.stacks_removed)
        lines += _resources(result.resources_removed)
        lines += _changes("Settings only set in " + base, result.removed_settings, base, other, show_before=True)
        if not (result.stacks_removed or result.resources_removed or result.removed_settings):
            lines += ["Nothing.", ""]
    return "\n".join(lines).rstrip() + "\n"


def _list(title: str, names: list[str]) -> list[str]:
    return [f"{title}: {', '.join(names)}", ""] if names else []


def _resources(rows: list[tuple[str, str, str]]) -> list[str]:
    if not rows:
        return []
    return ["Resources:", "", table(["Stack", "Resource", "Kind"], rows), ""]


def _changes(title: str, changes: list[Change], base: str, other: str, *, show_before: bool) -> list[str]:
    if not changes:
        return []
    if show_before and not all(change.after == MISSING for change in changes):
        rows = [(c.stack, c.resource, c.setting, c.before, c.after) for c in changes]
        return [f"{title}:", "", table(["Stack", "Resource", "Setting", base, other], rows), ""]
    value = base if show_before else other
    rows = [(c.stack, c.resource, c.setting, c.before if show_before else c.after) for c in changes]
    return [f"{title}:", "", table(["Stack", "Resource", "Setting", value], rows), ""]
