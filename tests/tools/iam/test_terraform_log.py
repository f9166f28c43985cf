"""Terraform's calls read from its debug log, in the AWS provider's own format."""

from __future__ import annotations

from tools.iam import terraform_log
from tools.iam.actions import requirements

ROLE = "arn:aws:iam::111111111111:role/acme-platform-deploy-dev"
PREFIX = "2026-12-02T15:47:35.012Z [DEBUG] provider.terraform-provider-aws_v5.100.0_x5:"


def entry(fields: str, key: str, body: str | None = None) -> str:
    """One logged request as the provider writes it: fields, then the body block, then more
    fields (the provider's field order varies)."""
    auth = (
        'http.request.header.authorization="AWS4-HMAC-SHA256 '
        f'Credential={key}/20261202/eu-west-1/x/aws4_request, SignedHeaders=host, Signature=*****"'
    )
    lines = [f"{PREFIX} HTTP Request Sent: rpc.system=aws-api {auth} aws.region=eu-west-1"]
    if body is not None:
        lines += ["  http.request.body=", f"  | {body}"]
    lines.append(f"   {fields} tf_aws.sdk=aws-sdk-go-v2")
    return "\n".join(lines)


LOG = "\n".join(
    [
        f'{PREFIX} [DEBUG] setting computed for "tags_all" from ComputedKeys',
        entry(
            'rpc.method=CreateLogGroup rpc.service="CloudWatch Logs" http.url=http://127.0.0.1:4566/',
            "ASIA****ROLE",
            '{"logGroupName":"/aws/lambda/orders-dev-api"}',
        ),
        entry(
            "rpc.method=PutRolePolicy rpc.service=IAM http.url=http://127.0.0.1:4566/",
            "ASIA****ROLE",
            "Action=PutRolePolicy&PolicyDocument=%7B%7D&PolicyName=p&RoleName=orders-dev-api-role",
        ),
        entry(
            "rpc.method=GetAlias rpc.service=Lambda http.method=GET "
            "http.url=http://127.0.0.1:4566/2015-03-31/functions/orders-dev-api/aliases/live",
            "ASIA****ROLE",
        ),
        entry(
            "rpc.method=GetObject rpc.service=S3 http.method=GET "
            "http.url=http://127.0.0.1:4566/acme-tfstate/dev/platform.tfstate?x-id=GetObject",
            "ASIA****ROLE",
        ),
        entry(  # a body longer than the provider logs
            "rpc.method=CreateFunction rpc.service=Lambda http.method=POST "
            "http.url=http://127.0.0.1:4566/2015-03-31/functions",
            "ASIA****ROLE",
            '{"Architectures":["arm64"],"Code":{"S3Bucket":"b","S3Key":"k.zip"},'
            '"FunctionName":"orders-dev-api","Environment":{"Variables":{"A":"\n  | [truncated...]',
        ),
        entry(  # a retry of the role's GetAlias: the same call, not another
            "rpc.method=GetAlias rpc.service=Lambda http.method=GET "
            'http.request.header.amz_sdk_request="attempt=2; max=25" '
            "http.url=http://127.0.0.1:4566/2015-03-31/functions/orders-dev-api/aliases/live",
            "ASIA****ROLE",
        ),
        entry(
            "rpc.method=AssumeRole rpc.service=STS http.url=http://127.0.0.1:4566/",
            "ASIA****CISE",
            "Action=AssumeRole&RoleArn=x",
        ),
    ]
)


def test_every_request_signed_by_the_role_becomes_a_call_with_the_parameters_naming_its_resource():
    calls = terraform_log.parse(LOG, {"ASIA****ROLE": ROLE}, "111111111111", "terraform: dev apply")
    assert [(c.service, c.operation) for c in calls] == [
        ("logs", "CreateLogGroup"),
        ("iam", "PutRolePolicy"),
        ("lambda", "GetAlias"),
        ("s3", "GetObject"),
        ("lambda", "CreateFunction"),
    ]
    assert {c.principal for c in calls} == {ROLE}
    resources = [r.resource for c in calls for r in requirements(c)]
    assert resources == [
        "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/lambda/orders-dev-api",
        "arn:aws:iam::111111111111:role/orders-dev-api-role",
        "arn:aws:lambda:eu-west-1:111111111111:function:orders-dev-api",
        "arn:aws:s3:::acme-tfstate/dev/platform.tfstate",
        "arn:aws:lambda:eu-west-1:111111111111:function:orders-dev-api",
    ]


def test_access_keys_are_matched_as_the_provider_masks_them():
    assert terraform_log.masked("ASIAABCDEFGHIJKL4B4A") == "ASIA************4B4A"


def test_requests_signed_with_another_key_are_not_the_roles():
    assert terraform_log.access_keys(LOG) == {"ASIA****ROLE", "ASIA****CISE"}
    calls = terraform_log.parse(LOG, {"ASIA****CISE": "ci"}, "999999999999", "t")
    assert [(c.operation, c.principal) for c in calls] == [("AssumeRole", "ci")]
