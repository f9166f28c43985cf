"""The only code that talks to AWS. Each class implements an interface of orders_core.ports."""
