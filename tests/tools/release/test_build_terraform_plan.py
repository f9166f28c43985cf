"""A Terraform root fed by the build manifest: a clean rebuild with no source change plans
no change to any function or the layer; a changed service plans a change to it alone.

The root is the smallest one that consumes the manifest the way an environment does
(filename + source_code_hash from `jsondecode(file(".../manifest.json"))`), applied to moto.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.emulator import aws_client
from tests.support.terraform import TerraformRoot, run_terraform
from tests.tools.release.support import make_fixture_repo, manifest, run_build, write

pytestmark = [pytest.mark.terraform, pytest.mark.emulator]

ARCH = "x86_64"

ROOT_TF = """
terraform {
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

locals {
  # Relative to the root, so the same plan holds in any checkout or CI job.
  dist      = "dist/x86_64"
  manifest  = jsondecode(file("${local.dist}/manifest.json"))
  functions = { for name, a in local.manifest.artifacts : name => a if a.kind == "function" }
}

resource "aws_iam_role" "fn" {
  name = "build-test-fn"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_lambda_layer_version" "shared" {
  layer_name               = "build-test-shared"
  filename                 = "${local.dist}/${local.manifest.artifacts.layer.path}"
  source_code_hash         = local.manifest.artifacts.layer.base64_sha256
  compatible_runtimes      = [local.manifest.runtime]
  compatible_architectures = [local.manifest.arch]
}

resource "aws_lambda_function" "fn" {
  for_each         = local.functions
  function_name    = "build-test-${each.key}"
  role             = aws_iam_role.fn.arn
  handler          = each.value.handler
  runtime          = local.manifest.runtime
  architectures    = [local.manifest.arch]
  filename         = "${local.dist}/${each.value.path}"
  source_code_hash = each.value.base64_sha256
  layers           = [aws_lambda_layer_version.shared.arn]
}
"""


def changed_addresses(root: TerraformRoot) -> str:
    proc = run_terraform(["plan", "-no-color"], root.directory, root.env)
    return "\n".join(line for line in proc.stdout.splitlines() if "will be" in line)


def test_plan_after_a_clean_rebuild_shows_no_change(tmp_path: Path, emulator_env):
    repo = make_fixture_repo(tmp_path / "repo")
    tf_dir = tmp_path / "root"
    write(tf_dir / "main.tf", ROOT_TF)
    dist = tf_dir / "dist"
    run_build(repo, dist, "--arch", ARCH)
    root = TerraformRoot(tf_dir, dict(emulator_env))
    root.init()
    root.apply()
    try:
        deployed = aws_client("lambda", emulator_env).get_function(FunctionName="build-test-svc_a")
        assert (
            deployed["Configuration"]["CodeSha256"]
            == manifest(dist, ARCH)["artifacts"]["svc_a"]["base64_sha256"]
        )

        shutil.rmtree(dist)  # a clean build, as another CI job would make
        run_build(repo, dist, "--arch", ARCH)
        assert root.plan_exit_code() == 0, changed_addresses(root)

        write(repo / "services" / "svc_b" / "models.py", "NAME = 'changed'\n")
        run_build(repo, dist, "--arch", ARCH)
        assert root.plan_exit_code() == 2
        changes = changed_addresses(root)
        assert 'aws_lambda_function.fn["svc_b"]' in changes
        assert "svc_a" not in changes
        assert "aws_lambda_layer_version" not in changes
    finally:
        root.destroy()
