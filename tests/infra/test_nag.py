"""cdk-nag: zero unacknowledged findings; each acknowledgment really suppresses its rule."""

from __future__ import annotations

import re

from aws_cdk.assertions import Annotations, Match

from infra.nag import ACKNOWLEDGED, Acknowledgment
from infra.stack import OAuthServerStack
from tests.infra.conftest import synth

ANY = Match.string_like_regexp(".*")


def findings(stack: OAuthServerStack) -> set[str]:
    annotations = Annotations.from_stack(stack)
    messages = annotations.find_error("*", ANY) + annotations.find_warning("*", ANY)
    return {str(m.entry.data).split(":")[0].split("[")[0] for m in messages}


def test_zero_unacknowledged_findings(stack: OAuthServerStack) -> None:
    assert findings(stack) == set()


def covers(ack: Acknowledgment, path: str, finding: str) -> bool:
    """Whether `ack` is the acknowledgment for this finding (rule, construct, resource)."""
    rule, _, detail = finding.partition("[")
    if rule != ack.rule:
        return False
    if ack.construct and not path.startswith(f"/OAuthServer/{ack.construct}"):
        return False
    if not ack.applies_to:
        return True
    resource = detail.split("]")[0]
    return any(
        re.match(a[len("regex:/") : -1], resource) if a.startswith("regex:") else a == resource
        for a in ack.applies_to
    )


def test_every_acknowledgment_suppresses_a_real_finding_and_unacknowledged_ones_fail() -> None:
    bare = synth(acknowledged=())
    annotations = Annotations.from_stack(bare)
    # A finding reads "Rule[Resource::...]: explanation" or "Rule: explanation".
    reported = [
        (m.id, str(m.entry.data).split(": ", 1)[0])
        for m in annotations.find_error("*", ANY) + annotations.find_warning("*", ANY)
    ]
    # Without the acknowledgments, each one's finding is reported: each is needed, and with it
    # the finding is gone (test_zero_unacknowledged_findings), so it really suppresses it.
    for ack in ACKNOWLEDGED:
        assert any(covers(ack, path, finding) for path, finding in reported), ack
    assert annotations.find_error("*", ANY), "unacknowledged findings are errors: synth fails"


def test_acknowledgments_carry_reasons() -> None:
    for ack in ACKNOWLEDGED:
        assert len(ack.reason) > 40, ack.rule
