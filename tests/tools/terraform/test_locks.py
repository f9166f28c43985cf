"""Reading the lock Terraform names, and releasing one in both places the S3 backend keeps it."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from tools.terraform.locks import HeldLock, held_lock, release

LOCK_ERROR = """
Error: Error acquiring the state lock

Error message: operation error DynamoDB: PutItem, https response error StatusCode: 400,
ConditionalCheckFailedException: The conditional request failed
Lock Info:
  ID:        9fc89623-d171-5186-6baf-27ae7b632831
  Path:      orders-local-tfstate/local/platform.tfstate
  Operation: OperationTypeApply
  Who:       root@vm
  Version:   1.11.4
  Created:   2026-12-02 14:20:06.922458876 +0000 UTC
"""
LOCK = HeldLock(
    "9fc89623-d171-5186-6baf-27ae7b632831",
    "orders-local-tfstate/local/platform.tfstate",
    "root@vm",
    1796221206.922458,
)


def test_the_lock_named_in_an_error_is_read_whole():
    lock = held_lock(LOCK_ERROR)
    assert lock == LOCK
    assert (lock.bucket, lock.key) == ("orders-local-tfstate", "local/platform.tfstate")
    assert held_lock("Error: something else") is None


@pytest.fixture
def backend():
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        dynamodb.create_table(
            TableName="locks",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        )
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket=LOCK.bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield dynamodb, s3


def _lock_item(dynamodb, lock_id: str) -> None:
    dynamodb.put_item(
        TableName="locks",
        Item={"LockID": {"S": LOCK.path}, "Info": {"S": json.dumps({"ID": lock_id})}},
    )


def test_a_lock_held_in_both_places_is_released_in_both(backend):
    dynamodb, s3 = backend
    _lock_item(dynamodb, LOCK.lock_id)
    s3.put_object(
        Bucket=LOCK.bucket, Key=f"{LOCK.key}.tflock", Body=json.dumps({"ID": LOCK.lock_id})
    )
    release(LOCK, "locks", dynamodb, s3)
    assert "Item" not in dynamodb.get_item(TableName="locks", Key={"LockID": {"S": LOCK.path}})
    assert s3.list_objects_v2(Bucket=LOCK.bucket).get("KeyCount") == 0


def test_a_lock_only_in_the_table_is_released_where_force_unlock_would_fail(backend):
    # A lost answer leaves the table's item; the .tflock object was never written.
    dynamodb, s3 = backend
    _lock_item(dynamodb, LOCK.lock_id)
    release(LOCK, "locks", dynamodb, s3)
    assert "Item" not in dynamodb.get_item(TableName="locks", Key={"LockID": {"S": LOCK.path}})


def test_a_lock_someone_else_holds_is_left_alone(backend):
    dynamodb, s3 = backend
    _lock_item(dynamodb, "another-operation")
    s3.put_object(Bucket=LOCK.bucket, Key=f"{LOCK.key}.tflock", Body='{"ID": "another-operation"}')
    release(LOCK, "locks", dynamodb, s3)
    assert "Item" in dynamodb.get_item(TableName="locks", Key={"LockID": {"S": LOCK.path}})
    assert s3.list_objects_v2(Bucket=LOCK.bucket)["KeyCount"] == 1
