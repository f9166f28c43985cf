# Merged into the copy of terraform/modules/lambda/examples/basic that the moto apply test
# applies (tests/support/terraform.py); the example itself restricts its DLQ's sources.
#
# moto 5.2 accepts RedriveAllowPolicy on CreateQueue but never answers it from
# GetQueueAttributes, so the provider's wait for the attributes it set times out after 3
# minutes.
resource "aws_sqs_queue" "orders_dlq" {
  redrive_allow_policy = null
}
