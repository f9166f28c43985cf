"""Benchmarks that print figures (never timed tests): functions' cold and warm costs, the build,
and the local stack."""
