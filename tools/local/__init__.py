"""The local stack: ministack (the AWS emulator, pure Python) and the real Terraform applied to
it with the real code running in it (`make up`)."""
