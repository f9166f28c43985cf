"""Terraform around the modules and roots: the CLI wrapper with the offline provider mirror
(`tf`), reading HCL, validating every root, and checkov."""
