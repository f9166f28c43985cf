"""dynamo-table's single-table example applied to the emulator: the attributes AWS would hold."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.support.emulator import aws_client
from tests.support.terraform import applied_example

pytestmark = pytest.mark.emulator


def test_single_table_has_keys_gsi_ttl_pitr_stream_sse_and_protection(tmp_path, emulator_env):
    # Applied with the module's default deletion protection. The destroy at the
    # end of the block reads this dict; it is switched off before leaving, even
    # when an assertion fails, or the table could not be destroyed.
    variables = {"deletion_protection": "true"}
    with applied_example("dynamo-table", "single-table", tmp_path, emulator_env, variables) as (
        root,
        out,
    ):
        ddb = aws_client("dynamodb", emulator_env)
        name = out["table_name"]
        try:
            table = ddb.describe_table(TableName=name)["Table"]
            assert table["DeletionProtectionEnabled"] is True
            with pytest.raises(ClientError, match="DeletionProtectionEnabled"):
                ddb.delete_table(TableName=name)
        finally:
            variables["deletion_protection"] = "false"
            root.apply(variables)
        assert ddb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is False

        assert table["TableArn"] == out["table_arn"]
        assert {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]} == {
            ("pk", "HASH"),
            ("sk", "RANGE"),
        }
        assert {
            (a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]
        } == {
            ("pk", "S"),
            ("sk", "S"),
            ("gsi1pk", "S"),
            ("gsi1sk", "S"),
        }
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

        [gsi] = table["GlobalSecondaryIndexes"]
        assert gsi["IndexName"] == "by-customer"
        assert {(k["AttributeName"], k["KeyType"]) for k in gsi["KeySchema"]} == {
            ("gsi1pk", "HASH"),
            ("gsi1sk", "RANGE"),
        }
        assert gsi["Projection"]["ProjectionType"] == "ALL"
        # moto's index description has no IndexArn; AWS's format is <table arn>/index/<name>.
        assert out["index_arns"] == {"by-customer": f"{table['TableArn']}/index/by-customer"}
        assert out["global_secondary_index_names"] == ["by-customer"]

        assert table["StreamSpecification"] == {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        assert out["stream_arn"] == table["LatestStreamArn"]

        assert table["SSEDescription"]["Status"] == "ENABLED"
        assert table["SSEDescription"]["SSEType"] == "KMS"

        ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}

        backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"

        tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
        assert {"Key": "example", "Value": "dynamo-table"} in tags

    assert name not in aws_client("dynamodb", emulator_env).list_tables()["TableNames"]
