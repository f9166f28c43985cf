# Merged into the copy of terraform/bootstrap that tests/environments applies to ministack
# (tests/support/accounts.py); the bootstrap itself always denies non-TLS requests.
#
# The emulator speaks plain http, so the promoting accounts' reads of an artifact bucket can
# never be TLS, and ministack judges a bucket policy on requests from other accounts (only).
# Here an artifact bucket that other accounts read goes without the TLS-only deny; every other
# bucket keeps the bootstrap's policy unchanged.
data "aws_iam_policy_document" "bucket" {
  source_policy_documents = each.key == "artifacts" && length(var.artifact_reader_account_ids) > 0 ? [] : [data.aws_iam_policy_document.tls_only[each.key].json]
}
