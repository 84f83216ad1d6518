"""The factors table's conditional writes under moto's DynamoDB: a TOTP time step taken once
(M1), a recovery code spent once and kept only as its hash (M2)."""

from __future__ import annotations

import boto3

from oauth_core.config import Settings
from oauth_core.models import SecondFactors
from oauth_core.rules import recovery_codes
from oauth_core.storage.dynamodb_factors import DynamoFactorStore

SUB = "0b8e2c8e-6f35-4c53-9a0e-1f6f0f3d2a11"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enrolled(store: DynamoFactorStore, codes: list[str]) -> SecondFactors:
    factors = SecondFactors(
        sub=SUB,
        totp_secret=SECRET,
        totp_last_step=100,
        enrolled_at=1_800_000_000,
        recovery_codes=frozenset(recovery_codes.code_hash(SUB, c) for c in codes),
    )
    assert store.enrol(factors)
    return factors


def test_m1_a_time_step_is_taken_once_and_never_an_earlier_one(aws: Settings) -> None:
    store = DynamoFactorStore(aws.factors_table)
    assert store.get(SUB) is None
    enrolled(store, [])
    assert not store.enrol(SecondFactors(sub=SUB, totp_secret="A" * 32)), "one app per user"
    assert store.use_step(SUB, SECRET, 101)
    assert not store.use_step(SUB, SECRET, 101)
    assert not store.use_step(SUB, SECRET, 100)
    assert not store.use_step(SUB, "B" * 32, 102), "a secret replaced meanwhile"
    assert store.use_step(SUB, SECRET, 103)
    assert store.get(SUB) == SecondFactors(SUB, SECRET, 103, 1_800_000_000, frozenset())
    assert store.delete(SUB) and store.get(SUB) is None and not store.delete(SUB)
    assert not store.use_step(SUB, SECRET, 104), "no item, no step"


def test_m2_a_recovery_code_is_spent_once_and_only_its_hash_is_stored(aws: Settings) -> None:
    store = DynamoFactorStore(aws.factors_table)
    codes = ["abcd-efgh-ijkl-mnop", "qrst-uvwx-yz23-4567"]
    enrolled(store, codes)
    item = boto3.client("dynamodb").get_item(TableName=aws.factors_table, Key={"sub": {"S": SUB}})[
        "Item"
    ]
    assert not any(c.replace("-", "") in str(item) for c in codes)
    first = recovery_codes.code_hash(SUB, codes[0])
    assert store.use_recovery_code(SUB, first)
    assert not store.use_recovery_code(SUB, first)
    assert store.get(SUB).recovery_codes == {recovery_codes.code_hash(SUB, codes[1])}  # type: ignore[union-attr]
    fresh = frozenset({recovery_codes.code_hash(SUB, "2222-3333-4444-5555")})
    assert store.replace_recovery_codes(SUB, fresh)
    assert not store.use_recovery_code(SUB, recovery_codes.code_hash(SUB, codes[1]))
    assert store.get(SUB).recovery_codes == fresh  # type: ignore[union-attr]
    assert not store.replace_recovery_codes("someone-else", fresh)
