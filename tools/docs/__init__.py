"""Generated documentation: the input/output tables of the module READMEs and the OpenAPI
document of the orders API. Tests fail when either is stale."""
