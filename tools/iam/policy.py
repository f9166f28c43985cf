"""IAM policy evaluation for one request: identity policies, and the resource's own policy.

The rules are IAM's (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html),
for requests within one account:

- an explicit Deny in any policy that applies wins over every Allow;
- otherwise the request is allowed when an identity policy or the resource's policy allows it
  (for KMS, identity policies count only when the key policy lets the account's IAM decide);
- otherwise it is denied implicitly.

Actions match case-insensitively, resources case-sensitively, both with `*` and `?` wildcards;
`NotAction` and `NotResource` are honoured. A condition is evaluated when the request names
its key; a condition on a key the request does not name is "not judged": the statement is then
neither counted as allowing nor as denying, and the verdict says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any


class Decision(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"  # an explicit Deny matched
    NOT_ALLOWED = "not allowed"  # no Allow matched: IAM's implicit deny
    NOT_JUDGED = "not judged"  # only statements with conditions on unknown keys could decide


@dataclass(frozen=True)
class Statement:
    """One statement of a policy, normalised (lists everywhere); `origin` names its policy."""

    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    principals: Mapping[str, tuple[str, ...]] | None = None  # resource policies only
    sid: str = ""
    origin: str = ""

    @property
    def label(self) -> str:
        return f"{self.origin}#{self.sid}" if self.sid else self.origin


@dataclass(frozen=True)
class Request:
    """What IAM authorises: a principal doing an action on a resource, with the condition keys
    this request is known to carry (values always lists, as for multivalued keys)."""

    principal: str
    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    request: Request
    matched: tuple[Statement, ...] = ()  # the statements that decided
    unjudged: tuple[str, ...] = ()  # condition keys that kept a statement from deciding

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def parse_policy(document: Mapping[str, Any], origin: str) -> list[Statement]:
    """The statements of a policy document (as json.loads gives it)."""
    raw = document.get("Statement", [])
    statements = [raw] if isinstance(raw, Mapping) else list(raw)
    parsed = []
    for index, statement in enumerate(statements):
        principal = statement.get("Principal")
        principals = None
        if principal is not None:
            principals = (
                {"AWS": ("*",)}
                if principal == "*"
                else {kind: _as_tuple(ids) for kind, ids in principal.items()}
            )
        parsed.append(
            Statement(
                effect=statement["Effect"],
                actions=_as_tuple(statement.get("Action")),
                not_actions=_as_tuple(statement.get("NotAction")),
                resources=_as_tuple(statement.get("Resource")),
                not_resources=_as_tuple(statement.get("NotResource")),
                conditions={
                    operator: {key: _as_tuple(values) for key, values in keys.items()}
                    for operator, keys in (statement.get("Condition") or {}).items()
                },
                principals=principals,
                sid=statement.get("Sid") or f"statement {index}",
                origin=origin,
            )
        )
    return parsed


@lru_cache(maxsize=4096)
def _pattern(wildcard: str, ignore_case: bool) -> re.Pattern[str]:
    # IAM wildcards: `*` any run of characters (`/` and `:` included), `?` exactly one.
    body = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in wildcard
    )
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return bool(_pattern(pattern, ignore_case).match(value))


def _action_matches(statement: Statement, action: str) -> bool:
    if statement.not_actions:
        return not any(wildcard_match(p, action, ignore_case=True) for p in statement.not_actions)
    return any(wildcard_match(p, action, ignore_case=True) for p in statement.actions)


def _resource_matches(statement: Statement, resource: str) -> bool:
    if statement.not_resources:
        return not any(_resource_pattern_matches(p, resource) for p in statement.not_resources)
    if not statement.resources:  # a resource policy's statement applies to its own resource
        return statement.principals is not None
    return any(_resource_pattern_matches(p, resource) for p in statement.resources)


def _resource_pattern_matches(pattern: str, resource: str) -> bool:
    # A request on no particular resource ("*": actions without resource-level permissions)
    # is matched only by a statement whose resource is "*".
    if resource == "*":
        return pattern == "*"
    return wildcard_match(pattern, resource)


def _principal_matches(statement: Statement, principal: str) -> bool:
    if statement.principals is None:
        return True
    return any(
        candidate in ("*", principal, *_account_of(principal))
        for candidate in statement.principals.get("AWS", ())
    )


def _account_of(principal: str) -> tuple[str, str]:
    """The account of a principal ARN, as a policy may name it: its id, and its root ARN."""
    parts = principal.split(":")
    if len(parts) < 6:
        return ("", "")
    return parts[4], f"arn:{parts[1]}:iam::{parts[4]}:root"


# Condition operators: what each compares, by a function of (policy value, request value).
_STRING_OPERATORS = {
    "StringEquals": lambda p, v: p == v,
    "StringNotEquals": lambda p, v: p != v,
    "StringEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
    "StringNotEqualsIgnoreCase": lambda p, v: p.lower() != v.lower(),
    "StringLike": lambda p, v: wildcard_match(p, v),
    "StringNotLike": lambda p, v: not wildcard_match(p, v),
    "ArnEquals": lambda p, v: p == v,
    "ArnNotEquals": lambda p, v: p != v,
    "ArnLike": lambda p, v: wildcard_match(p, v),
    "ArnNotLike": lambda p, v: not wildcard_match(p, v),
    "Bool": lambda p, v: p.lower() == v.lower(),
}
_NEGATED = {
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
    "ArnNotEquals",
    "ArnNotLike",
}


def _condition_holds(
    operator: str, key: str, allowed: tuple[str, ...], request: Request
) -> bool | None:
    """True or False when judged; None when the request does not say (the key is unknown)."""
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base == "Null":
        present = key in request.context
        return present != (allowed[0].lower() == "true")
    compare = _STRING_OPERATORS.get(base)
    if compare is None:
        return None  # an operator this checker does not evaluate
    if key not in request.context:
        if if_exists or qualifier == "ForAllValues":
            return True  # IAM: ...IfExists and ForAllValues hold when the key is absent
        return None
    values = request.context[key]
    negated = base in _NEGATED

    def one(value: str) -> bool:
        results = [compare(p, value) for p in allowed]
        return all(results) if negated else any(results)

    if qualifier == "ForAllValues":
        return all(one(value) for value in values)
    if qualifier == "ForAnyValue":
        return any(one(value) for value in values)
    return bool(values) and all(one(value) for value in values)


def _conditions(statement: Statement, request: Request) -> tuple[bool | None, tuple[str, ...]]:
    unknown = []
    for operator, keys in statement.conditions.items():
        for key, allowed in keys.items():
            holds = _condition_holds(operator, key, allowed, request)
            if holds is False:
                return False, ()
            if holds is None:
                unknown.append(f"{operator} {key}")
    return (None, tuple(unknown)) if unknown else (True, ())


def evaluate(
    request: Request,
    identity: Sequence[Statement],
    resource_policy: Sequence[Statement] = (),
    *,
    resource_policy_must_delegate: bool = False,
) -> Verdict:
    """IAM's decision on `request` for a principal holding `identity` statements, on a
    resource whose own policy is `resource_policy`. With `resource_policy_must_delegate`
    (KMS keys), identity policies count only when the key policy allows the account."""
    applicable_identity: Iterable[Statement] = identity
    if resource_policy_must_delegate and not _delegates_to_account(resource_policy, request):
        applicable_identity = ()
    allowing: list[Statement] = []
    unjudged_allows: list[str] = []
    unjudged_denies: list[str] = []
    for statement in [*applicable_identity, *resource_policy]:
        if not (
            _action_matches(statement, request.action)
            and _resource_matches(statement, request.resource)
            and _principal_matches(statement, request.principal)
        ):
            continue
        holds, unknown = _conditions(statement, request)
        if holds is False:
            continue
        if holds and statement.effect == "Deny":
            return Verdict(Decision.DENIED, request, (statement,))
        if holds:
            allowing.append(statement)
            continue
        found = [f"{statement.label}: {u}" for u in unknown]
        (unjudged_denies if statement.effect == "Deny" else unjudged_allows).extend(found)
    if unjudged_denies:  # a Deny might apply: nothing can be said for sure
        return Verdict(Decision.NOT_JUDGED, request, tuple(allowing), tuple(unjudged_denies))
    if allowing:
        return Verdict(Decision.ALLOWED, request, tuple(allowing))
    if unjudged_allows:
        return Verdict(Decision.NOT_JUDGED, request, (), tuple(unjudged_allows))
    return Verdict(Decision.NOT_ALLOWED, request)


def _delegates_to_account(key_policy: Sequence[Statement], request: Request) -> bool:
    account = _account_of(request.principal)
    return any(
        s.effect == "Allow"
        and s.principals is not None
        and any(p in account for p in s.principals.get("AWS", ()))
        and _action_matches(s, request.action)
        for s in key_policy
    )
