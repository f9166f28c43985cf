# State of the local environment, inside the local emulator (bootstrapped by `make up`).
# The emulator's endpoint depends on EMULATOR_PORT: tools/local/stack.py adds it at init
# with a second -backend-config file (.local/terraform/local-endpoints.hcl).
bucket                      = "orders-local-tfstate"
key                         = "local/platform.tfstate"
region                      = "eu-west-1"
encrypt                     = true
use_lockfile                = true
dynamodb_table              = "orders-local-tflock"
use_path_style              = true
access_key                  = "test"
secret_key                  = "test"
skip_credentials_validation = true
skip_metadata_api_check     = true
skip_requesting_account_id  = true
