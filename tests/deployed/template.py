"""The synthesized template as CloudFormation reads it: the order it creates resources in, and
the values of intrinsic functions once resources exist (Ref, Fn::GetAtt, Fn::Join, Fn::Select,
Fn::Split, Fn::Sub, Fn::Base64, Fn::FindInMap). Anything else fails with the template path of
the value, so the suite never guesses."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


class Unresolvable(Exception):
    """A template value the suite cannot evaluate; the message names where it is."""


@dataclass
class Physical:
    """A created resource as intrinsic functions see it: its Ref value and its attributes."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Template:
    body: dict[str, Any]
    stack_name: str

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.body["Resources"]
        return resources

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] in types}

    def label(self, logical_id: str) -> str:
        """A resource's construct path without the stack and `/Resource`: `Data/Grants`."""
        path = str(self.resources[logical_id].get("Metadata", {}).get("aws:cdk:path", logical_id))
        return path.removeprefix(f"{self.stack_name}/").removesuffix("/Resource")

    def creation_order(self) -> list[str]:
        """Every resource after those it depends on (DependsOn, Ref, Fn::GetAtt, Fn::Sub), in
        template order otherwise, as CloudFormation may create them one at a time."""
        pending = {k: depends_on(r, self.resources) for k, r in self.resources.items()}
        order: list[str] = []
        while pending:
            ready = [k for k, needs in pending.items() if not needs - set(order)]
            if not ready:
                raise Unresolvable(f"circular dependencies among {sorted(pending)}")
            order.append(ready[0])
            del pending[ready[0]]
        return order


def depends_on(resource: dict[str, Any], resources: dict[str, Any]) -> set[str]:
    explicit = resource.get("DependsOn", [])
    found = set([explicit] if isinstance(explicit, str) else explicit)
    found |= set(_references(resource.get("Properties", {})))
    return {name for name in found if name in resources}


def _references(value: Any) -> Iterable[str]:
    if isinstance(value, list):
        for item in value:
            yield from _references(item)
    elif isinstance(value, dict):
        if set(value) == {"Ref"}:
            yield value["Ref"]
        elif set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            yield target[0] if isinstance(target, list) else str(target).split(".")[0]
        elif set(value) == {"Fn::Sub"}:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            yield from (name.split(".")[0] for name in _SUB_VARIABLE.findall(text))
            if isinstance(value["Fn::Sub"], list):
                yield from _references(value["Fn::Sub"][1])
        else:
            for item in value.values():
                yield from _references(item)


class Resolver:
    """Evaluates intrinsic functions against the resources created so far."""

    def __init__(
        self,
        template: Template,
        pseudo_parameters: dict[str, str],
        physical: dict[str, Physical],
    ):
        self._template = template
        self._pseudo = pseudo_parameters
        self._physical = physical

    def __call__(self, value: Any, where: str) -> Any:
        if isinstance(value, list):
            return [self(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            if name == "Ref" or name.startswith("Fn::") or name == "Condition":
                return self._intrinsic(name, argument, where)
        return {key: self(item, f"{where}.{key}") for key, item in value.items()}

    def text(self, value: Any, where: str) -> str:
        resolved = self(value, where)
        if not isinstance(resolved, str | int | float) or isinstance(resolved, bool):
            raise Unresolvable(f"{where}: expected a string, got {json.dumps(resolved)[:200]}")
        return str(resolved)

    def _intrinsic(self, name: str, argument: Any, where: str) -> Any:
        here = f"{where}.{name}"
        if name == "Ref":
            return self._ref(str(argument), here)
        if name == "Fn::GetAtt":
            target, attribute = (
                argument if isinstance(argument, list) else str(argument).split(".", 1)
            )
            return self._attribute(str(target), str(attribute), here)
        if name == "Fn::Join":
            separator, items = argument
            return str(separator).join(self.text(v, f"{here}[{i}]") for i, v in enumerate(items))
        if name == "Fn::Split":
            separator, source = argument
            return self.text(source, here).split(str(separator))
        if name == "Fn::Select":
            index, items = argument
            chosen = self(items, here)
            position = int(self.text(index, here))
            if not isinstance(chosen, list) or not 0 <= position < len(chosen):
                raise Unresolvable(f"{here}: index {position} is outside {chosen!r}")
            return chosen[position]
        if name == "Fn::Sub":
            return self._sub(argument, here)
        if name == "Fn::Base64":
            return base64.b64encode(self.text(argument, here).encode()).decode()
        if name == "Fn::FindInMap":
            table, first, second = (self.text(v, here) for v in argument)
            try:
                return self._template.body["Mappings"][table][first][second]
            except KeyError as exc:
                raise Unresolvable(f"{here}: no mapping {table}.{first}.{second}") from exc
        raise Unresolvable(f"{here}: {name} is not supported by the deployed-artifact suite")

    def _ref(self, name: str, where: str) -> str:
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._physical:
            return self._physical[name].ref
        if name in self._template.body.get("Parameters", {}):
            default = self._template.body["Parameters"][name].get("Default")
            if default is None:
                raise Unresolvable(f"{where}: parameter {name} has no default")
            return str(default)
        raise Unresolvable(f"{where}: Ref {name}: {self._why_missing(name)}")

    def _attribute(self, target: str, attribute: str, where: str) -> str:
        if target not in self._physical:
            raise Unresolvable(
                f"{where}: Fn::GetAtt {target}.{attribute}: {self._why_missing(target)}"
            )
        attributes = self._physical[target].attributes
        if attribute not in attributes:
            raise Unresolvable(
                f"{where}: Fn::GetAtt {target}.{attribute}: the suite knows only "
                f"{sorted(attributes)} of {self._template.resources[target]['Type']}"
            )
        return attributes[attribute]

    def _sub(self, argument: Any, where: str) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {k: self.text(v, f"{where}.{k}") for k, v in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return values[name]
            if "." in name and name.split(".")[0] in self._template.resources:
                target, attribute = name.split(".", 1)
                return self._attribute(target, attribute, where)
            return self._ref(name, where)

        return _SUB_VARIABLE.sub(substitute, str(text))

    def _why_missing(self, name: str) -> str:
        if name in self._template.resources:
            kind = self._template.resources[name]["Type"]
            return f"a {kind}, which the suite does not create (or not yet: a missing DependsOn?)"
        return "no such resource, parameter or pseudo parameter"
