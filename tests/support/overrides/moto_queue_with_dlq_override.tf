# Merged into the copies of terraform/modules/queue-with-dlq that the moto apply tests apply
# (tests/support/terraform.py); the module itself always restricts its DLQ's sources.
#
# moto 5.2 accepts RedriveAllowPolicy on CreateQueue but never answers it from
# GetQueueAttributes, so the provider's wait for the attributes it set times out after 3
# minutes. The `terraform test` suite proves the policy instead.
resource "aws_sqs_queue" "dlq" {
  redrive_allow_policy = null
}
