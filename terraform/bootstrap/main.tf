# Per-account foundation: remote state, state locking, build artifacts and the
# roles the tooling account assumes to deploy each environment. Applied once per
# account (accounts/<account>.tfvars), before any environment of that account.

provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  dynamic "assume_role" {
    for_each = var.assume_role_arn == null ? [] : [var.assume_role_arn]
    content {
      role_arn     = assume_role.value
      session_name = "platform-bootstrap"
    }
  }

  default_tags {
    tags = merge(var.tags, { "platform:component" = "bootstrap", managed-by = "terraform" })
  }
}

data "aws_partition" "current" {}

locals {
  partition       = data.aws_partition.current.partition
  state_bucket    = "${var.name_prefix}-${var.account_id}-tfstate"
  artifact_bucket = "${var.name_prefix}-${var.account_id}-artifacts"
  lock_table      = "${var.name_prefix}-tfstate-lock"
  sse_algorithm   = var.kms_key_arn == null ? "AES256" : "aws:kms"
  buckets         = { state = local.state_bucket, artifacts = local.artifact_bucket }
}

# --- Buckets: state and artifacts share one hardened shape ------------------

resource "aws_s3_bucket" "this" {
  for_each = local.buckets

  bucket        = each.value
  force_destroy = var.force_destroy
  #checkov:skip=CKV_AWS_18:Access logging needs a separate log bucket per account; enable it with your organisation's central logging.
  #checkov:skip=CKV_AWS_144:Cross-region replication of state and artifacts is an organisation-level choice, not a default.
  #checkov:skip=CKV2_AWS_62:Event notifications are not needed for state or artifacts.
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = local.sse_algorithm
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# Every bucket denies requests that are not TLS.
data "aws_iam_policy_document" "tls_only" {
  for_each = aws_s3_bucket.this

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      each.value.arn,
      "${each.value.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

data "aws_iam_policy_document" "bucket" {
  for_each = aws_s3_bucket.this

  source_policy_documents = [data.aws_iam_policy_document.tls_only[each.key].json]

  # The accounts promoted into from this one read its artifacts (the pull side of
  # `make promote`); their deploy roles must also be allowed by their own policy.
  dynamic "statement" {
    for_each = each.key == "artifacts" && length(var.artifact_reader_account_ids) > 0 ? [1] : []
    content {
      sid       = "PromotingAccountsRead"
      effect    = "Allow"
      actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"]
      resources = [each.value.arn, "${each.value.arn}/artifacts/*"]
      principals {
        type        = "AWS"
        identifiers = [for id in var.artifact_reader_account_ids : "arn:${local.partition}:iam::${id}:root"]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  policy = data.aws_iam_policy_document.bucket[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# --- State lock table ---------------------------------------------------------

resource "aws_dynamodb_table" "lock" {
  name                        = local.lock_table
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "LockID"
  deletion_protection_enabled = !var.force_destroy

  attribute {
    name = "LockID"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}

# --- Deploy roles: one per environment, assumable from the tooling account ---

data "aws_iam_policy_document" "deploy_trust" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "AWS"
      identifiers = var.trusted_principal_arns
    }
  }
}

resource "aws_iam_role" "deploy" {
  for_each = toset(var.environments)

  name                 = "${var.name_prefix}-deploy-${each.key}"
  description          = "Deploys the ${each.key} environment of the platform stack."
  assume_role_policy   = data.aws_iam_policy_document.deploy_trust.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "deploy" {
  for_each = toset(var.environments)

  name   = "deploy-${each.key}"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.deploy[each.key].json
}
