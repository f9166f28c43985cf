output "state_bucket" {
  description = "Name of the Terraform state bucket; goes into each environment's backend config as `bucket`."
  value       = aws_s3_bucket.this["state"].id
}

output "state_bucket_arn" {
  description = "ARN of the Terraform state bucket."
  value       = aws_s3_bucket.this["state"].arn
}

output "lock_table" {
  description = "Name of the DynamoDB state lock table; the backend's `dynamodb_table`."
  value       = aws_dynamodb_table.lock.name
}

output "artifact_bucket" {
  description = "Name of the bucket holding build artifacts addressed by content hash."
  value       = aws_s3_bucket.this["artifacts"].id
}

output "artifact_bucket_arn" {
  description = "ARN of the artifact bucket."
  value       = aws_s3_bucket.this["artifacts"].arn
}

output "deploy_role_arns" {
  description = "Deploy role ARN per environment; the environment's provider and backend assume it."
  value       = { for env, role in aws_iam_role.deploy : env => role.arn }
}
