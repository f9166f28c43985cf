mock_provider "aws" {
  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
      stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2025-01-01T00:00:00.000"
    }
  }
  mock_resource "aws_appautoscaling_policy" {
    defaults = { arn = "arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:mocked" }
  }
}

variables {
  name     = "orders"
  hash_key = { name = "pk", type = "S" }
}

run "secure_defaults" {
  command = plan

  assert {
    condition     = length(aws_dynamodb_table.this) == 1 && length(aws_dynamodb_table.autoscaled) == 0
    error_message = "one table, not the autoscaled variant"
  }
  assert {
    condition     = aws_dynamodb_table.this[0].billing_mode == "PAY_PER_REQUEST"
    error_message = "on-demand billing by default"
  }
  assert {
    condition     = aws_dynamodb_table.this[0].point_in_time_recovery[0].enabled
    error_message = "point-in-time recovery is on by default"
  }
  assert {
    # kms_key_arn is computed (AWS fills in the managed key), unknown at plan.
    condition     = aws_dynamodb_table.this[0].server_side_encryption[0].enabled
    error_message = "SSE is on by default"
  }
  assert {
    condition     = aws_dynamodb_table.this[0].deletion_protection_enabled
    error_message = "deletion protection is on by default"
  }
  assert {
    condition     = !aws_dynamodb_table.this[0].stream_enabled && length(aws_dynamodb_table.this[0].ttl) == 0
    error_message = "no stream and no TTL unless asked for"
  }
  assert {
    condition     = aws_dynamodb_table.this[0].table_class == "STANDARD" && aws_dynamodb_table.this[0].hash_key == "pk" && aws_dynamodb_table.this[0].range_key == null
    error_message = "standard class, partition key only"
  }
  assert {
    condition     = length(aws_dynamodb_table.this[0].attribute) == 1 && one(aws_dynamodb_table.this[0].attribute).name == "pk" && one(aws_dynamodb_table.this[0].attribute).type == "S"
    error_message = "only the key is declared as an attribute"
  }
  assert {
    condition     = length(aws_appautoscaling_target.this) == 0 && length(aws_appautoscaling_policy.this) == 0
    error_message = "no autoscaling with on-demand billing"
  }
}

run "platform_single_table" {
  command = plan

  variables {
    range_key = { name = "sk", type = "S" }
    global_secondary_indexes = [{
      name      = "by-customer"
      hash_key  = { name = "gsi1pk", type = "S" }
      range_key = { name = "gsi1sk", type = "S" }
    }]
    ttl_attribute_name = "expires_at"
    stream_view_type   = "NEW_AND_OLD_IMAGES"
    tags               = { team = "orders" }
  }

  assert {
    condition     = toset([for a in aws_dynamodb_table.this[0].attribute : "${a.name}:${a.type}"]) == toset(["pk:S", "sk:S", "gsi1pk:S", "gsi1sk:S"])
    error_message = "attributes are derived from the table and index keys"
  }
  assert {
    condition     = one(aws_dynamodb_table.this[0].global_secondary_index).name == "by-customer" && one(aws_dynamodb_table.this[0].global_secondary_index).hash_key == "gsi1pk" && one(aws_dynamodb_table.this[0].global_secondary_index).range_key == "gsi1sk" && one(aws_dynamodb_table.this[0].global_secondary_index).projection_type == "ALL"
    error_message = "the GSI has its keys and projects ALL by default"
  }
  assert {
    condition     = aws_dynamodb_table.this[0].ttl[0].enabled && aws_dynamodb_table.this[0].ttl[0].attribute_name == "expires_at"
    error_message = "TTL on the named attribute"
  }
  assert {
    condition     = aws_dynamodb_table.this[0].stream_enabled && aws_dynamodb_table.this[0].stream_view_type == "NEW_AND_OLD_IMAGES"
    error_message = "the stream is on with the requested view"
  }
  assert {
    condition     = aws_dynamodb_table.this[0].tags == tomap({ team = "orders" })
    error_message = "tags are passed through"
  }
  assert {
    condition     = output.global_secondary_index_names == ["by-customer"] && output.hash_key == "pk" && output.range_key == "sk"
    error_message = "key and index names are output"
  }
}

run "outputs_compose_index_and_stream_arns" {
  command = apply

  variables {
    range_key = { name = "sk", type = "S" }
    global_secondary_indexes = [{
      name     = "by-customer"
      hash_key = { name = "gsi1pk", type = "S" }
    }]
    local_secondary_indexes = [{
      name      = "by-date"
      range_key = { name = "created_at", type = "N" }
    }]
    stream_view_type = "KEYS_ONLY"
  }

  assert {
    condition = output.index_arns == {
      "by-customer" = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/by-customer"
      "by-date"     = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/by-date"
    }
    error_message = "index_arns maps every index to <table_arn>/index/<name>"
  }
  assert {
    condition     = output.stream_arn == "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2025-01-01T00:00:00.000" && output.table_arn == "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
    error_message = "the table and stream ARNs are output"
  }
}

run "no_stream_outputs_null" {
  command = apply

  assert {
    condition     = output.stream_arn == null && output.stream_label == null && output.range_key == null && output.index_arns == {}
    error_message = "stream outputs are null without a stream"
  }
}

run "local_secondary_index_and_include_projection" {
  command = plan

  variables {
    range_key = { name = "sk", type = "S" }
    global_secondary_indexes = [{
      name               = "by-status"
      hash_key           = { name = "status", type = "S" }
      range_key          = { name = "sk", type = "S" }
      projection_type    = "INCLUDE"
      non_key_attributes = ["total"]
    }]
    local_secondary_indexes = [{
      name            = "by-date"
      range_key       = { name = "created_at", type = "N" }
      projection_type = "KEYS_ONLY"
    }]
  }

  assert {
    condition     = toset([for a in aws_dynamodb_table.this[0].attribute : "${a.name}:${a.type}"]) == toset(["pk:S", "sk:S", "status:S", "created_at:N"])
    error_message = "a key shared by the table and an index is declared once"
  }
  assert {
    condition     = one(aws_dynamodb_table.this[0].global_secondary_index).non_key_attributes == toset(["total"]) && one(aws_dynamodb_table.this[0].global_secondary_index).projection_type == "INCLUDE"
    error_message = "INCLUDE projects the named attributes"
  }
  assert {
    condition     = one(aws_dynamodb_table.this[0].local_secondary_index).range_key == "created_at" && one(aws_dynamodb_table.this[0].local_secondary_index).projection_type == "KEYS_ONLY"
    error_message = "the LSI uses its own sort key"
  }
}

run "provisioned_fixed_capacity" {
  command = plan

  variables {
    billing_mode = "PROVISIONED"
    capacity     = { read = 5, write = 2 }
    global_secondary_indexes = [{
      name     = "by-customer"
      hash_key = { name = "gsi1pk", type = "S" }
    }]
  }

  assert {
    condition     = aws_dynamodb_table.this[0].read_capacity == 5 && aws_dynamodb_table.this[0].write_capacity == 2
    error_message = "the table gets the given capacity"
  }
  assert {
    condition     = one(aws_dynamodb_table.this[0].global_secondary_index).read_capacity == 5 && one(aws_dynamodb_table.this[0].global_secondary_index).write_capacity == 2
    error_message = "GSIs use the table's capacity"
  }
  assert {
    condition     = length(aws_appautoscaling_target.this) == 0
    error_message = "no autoscaling unless asked for"
  }
}

run "provisioned_with_autoscaling" {
  command = plan

  variables {
    billing_mode = "PROVISIONED"
    capacity     = { read = 5, write = 5 }
    autoscaling  = { min_read = 5, max_read = 100, min_write = 5, max_write = 50, target_utilization = 60 }
    global_secondary_indexes = [{
      name     = "by-customer"
      hash_key = { name = "gsi1pk", type = "S" }
    }]
    tags = { team = "orders" }
  }

  assert {
    condition     = length(aws_dynamodb_table.this) == 0 && length(aws_dynamodb_table.autoscaled) == 1
    error_message = "the autoscaled variant (capacity changes ignored) is used"
  }
  assert {
    condition     = toset(keys(aws_appautoscaling_target.this)) == toset(["table:read", "table:write", "index/by-customer:read", "index/by-customer:write"])
    error_message = "read and write of the table and of every GSI are scaled"
  }
  assert {
    condition     = aws_appautoscaling_target.this["index/by-customer:write"].resource_id == "table/orders/index/by-customer" && aws_appautoscaling_target.this["index/by-customer:write"].scalable_dimension == "dynamodb:index:WriteCapacityUnits" && aws_appautoscaling_target.this["index/by-customer:write"].max_capacity == 50
    error_message = "GSI write scaling targets the index"
  }
  assert {
    condition     = aws_appautoscaling_target.this["table:read"].resource_id == "table/orders" && aws_appautoscaling_target.this["table:read"].scalable_dimension == "dynamodb:table:ReadCapacityUnits" && aws_appautoscaling_target.this["table:read"].min_capacity == 5 && aws_appautoscaling_target.this["table:read"].max_capacity == 100
    error_message = "table read scaling between min and max"
  }
  assert {
    condition     = aws_appautoscaling_target.this["table:read"].tags == tomap({ team = "orders" })
    error_message = "scaling targets are tagged"
  }
  assert {
    condition     = aws_appautoscaling_policy.this["table:write"].policy_type == "TargetTrackingScaling" && aws_appautoscaling_policy.this["table:write"].target_tracking_scaling_policy_configuration[0].target_value == 60 && aws_appautoscaling_policy.this["table:write"].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "DynamoDBWriteCapacityUtilization"
    error_message = "target tracking on write utilization"
  }
}

run "customer_managed_key_and_options" {
  command = plan

  variables {
    kms_key_arn            = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    point_in_time_recovery = false
    deletion_protection    = false
    table_class            = "STANDARD_INFREQUENT_ACCESS"
  }

  assert {
    condition     = aws_dynamodb_table.this[0].server_side_encryption[0].enabled && aws_dynamodb_table.this[0].server_side_encryption[0].kms_key_arn == var.kms_key_arn
    error_message = "SSE uses the given key"
  }
  assert {
    condition     = !aws_dynamodb_table.this[0].point_in_time_recovery[0].enabled && !aws_dynamodb_table.this[0].deletion_protection_enabled
    error_message = "PITR and deletion protection can be turned off"
  }
  assert {
    condition     = aws_dynamodb_table.this[0].table_class == "STANDARD_INFREQUENT_ACCESS"
    error_message = "table class is passed through"
  }
}

# --- validations -------------------------------------------------------------

run "rejects_bad_name" {
  command = plan
  variables {
    name = "or"
  }
  expect_failures = [var.name]
}

run "rejects_bad_hash_key_type" {
  command = plan
  variables {
    hash_key = merge(var.hash_key, { type = "STRING" })
  }
  expect_failures = [var.hash_key]
}

run "rejects_bad_range_key_type" {
  command = plan
  variables {
    range_key = { name = "sk", type = "BOOL" }
  }
  expect_failures = [var.range_key]
}

run "rejects_range_key_equal_to_hash_key" {
  command = plan
  variables {
    range_key = var.hash_key
  }
  expect_failures = [var.range_key]
}

run "rejects_bad_billing_mode" {
  command = plan
  variables {
    billing_mode = "ON_DEMAND"
  }
  expect_failures = [var.billing_mode]
}

run "rejects_provisioned_without_capacity" {
  command = plan
  variables {
    billing_mode = "PROVISIONED"
  }
  expect_failures = [var.capacity]
}

run "rejects_capacity_with_on_demand" {
  command = plan
  variables {
    capacity = { read = 5, write = 5 }
  }
  expect_failures = [var.capacity]
}

run "rejects_zero_capacity" {
  command = plan
  variables {
    billing_mode = "PROVISIONED"
    capacity     = { read = 0, write = 5 }
  }
  expect_failures = [var.capacity]
}

run "rejects_autoscaling_with_on_demand" {
  command = plan
  variables {
    autoscaling = { min_read = 1, max_read = 10, min_write = 1, max_write = 10 }
  }
  expect_failures = [var.autoscaling]
}

run "rejects_autoscaling_min_above_max" {
  command = plan
  variables {
    billing_mode = "PROVISIONED"
    capacity     = { read = 5, write = 5 }
    autoscaling  = { min_read = 20, max_read = 10, min_write = 1, max_write = 10 }
  }
  expect_failures = [var.autoscaling]
}

run "rejects_autoscaling_target_out_of_range" {
  command = plan
  variables {
    billing_mode = "PROVISIONED"
    capacity     = { read = 5, write = 5 }
    autoscaling  = { min_read = 1, max_read = 10, min_write = 1, max_write = 10, target_utilization = 95 }
  }
  expect_failures = [var.autoscaling]
}

run "rejects_bad_gsi_name" {
  command = plan
  variables {
    global_secondary_indexes = [{ name = "by customer", hash_key = { name = "c", type = "S" } }]
  }
  expect_failures = [var.global_secondary_indexes]
}

run "rejects_duplicate_gsi_names" {
  command = plan
  variables {
    global_secondary_indexes = [
      { name = "by-customer", hash_key = { name = "c", type = "S" } },
      { name = "by-customer", hash_key = { name = "d", type = "S" } },
    ]
  }
  expect_failures = [var.global_secondary_indexes]
}

run "rejects_bad_gsi_key_type" {
  command = plan
  variables {
    global_secondary_indexes = [{ name = "by-customer", hash_key = { name = "c", type = "S" }, range_key = { name = "d", type = "X" } }]
  }
  expect_failures = [var.global_secondary_indexes]
}

run "rejects_bad_gsi_projection" {
  command = plan
  variables {
    global_secondary_indexes = [{ name = "by-customer", hash_key = { name = "c", type = "S" }, projection_type = "SOME" }]
  }
  expect_failures = [var.global_secondary_indexes]
}

run "rejects_include_without_non_key_attributes" {
  command = plan
  variables {
    global_secondary_indexes = [{ name = "by-customer", hash_key = { name = "c", type = "S" }, projection_type = "INCLUDE" }]
  }
  expect_failures = [var.global_secondary_indexes]
}

run "rejects_non_key_attributes_without_include" {
  command = plan
  variables {
    global_secondary_indexes = [{ name = "by-customer", hash_key = { name = "c", type = "S" }, non_key_attributes = ["total"] }]
  }
  expect_failures = [var.global_secondary_indexes]
}

run "rejects_gsi_attribute_with_a_second_type" {
  command = plan
  variables {
    global_secondary_indexes = [{ name = "by-pk-number", hash_key = { name = "pk", type = "N" } }]
  }
  expect_failures = [var.global_secondary_indexes]
}

run "rejects_lsi_without_table_range_key" {
  command = plan
  variables {
    local_secondary_indexes = [{ name = "by-date", range_key = { name = "created_at", type = "N" } }]
  }
  expect_failures = [var.local_secondary_indexes]
}

run "rejects_bad_lsi_name" {
  command = plan
  variables {
    range_key               = { name = "sk", type = "S" }
    local_secondary_indexes = [{ name = "x", range_key = { name = "created_at", type = "N" } }]
  }
  expect_failures = [var.local_secondary_indexes]
}

run "rejects_lsi_named_like_a_gsi" {
  command = plan
  variables {
    range_key                = { name = "sk", type = "S" }
    global_secondary_indexes = [{ name = "by-date", hash_key = { name = "c", type = "S" } }]
    local_secondary_indexes  = [{ name = "by-date", range_key = { name = "created_at", type = "N" } }]
  }
  expect_failures = [var.local_secondary_indexes]
}

run "rejects_bad_lsi_key_type" {
  command = plan
  variables {
    range_key               = { name = "sk", type = "S" }
    local_secondary_indexes = [{ name = "by-date", range_key = { name = "created_at", type = "DATE" } }]
  }
  expect_failures = [var.local_secondary_indexes]
}

run "rejects_bad_lsi_projection" {
  command = plan
  variables {
    range_key               = { name = "sk", type = "S" }
    local_secondary_indexes = [{ name = "by-date", range_key = { name = "created_at", type = "N" }, projection_type = "INCLUDE" }]
  }
  expect_failures = [var.local_secondary_indexes]
}

run "rejects_lsi_attribute_with_a_second_type" {
  command = plan
  variables {
    range_key                = { name = "sk", type = "S" }
    global_secondary_indexes = [{ name = "by-customer", hash_key = { name = "c", type = "S" }, range_key = { name = "created_at", type = "S" } }]
    local_secondary_indexes  = [{ name = "by-date", range_key = { name = "created_at", type = "N" } }]
  }
  expect_failures = [var.local_secondary_indexes]
}

run "rejects_empty_ttl_attribute" {
  command = plan
  variables {
    ttl_attribute_name = ""
  }
  expect_failures = [var.ttl_attribute_name]
}

run "rejects_bad_kms_key" {
  command = plan
  variables {
    kms_key_arn = "alias/aws/dynamodb"
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_bad_stream_view_type" {
  command = plan
  variables {
    stream_view_type = "NEW"
  }
  expect_failures = [var.stream_view_type]
}

run "rejects_bad_table_class" {
  command = plan
  variables {
    table_class = "GLACIER"
  }
  expect_failures = [var.table_class]
}

# --- alarms ------------------------------------------------------------------------------

run "alarms_on_throttles_per_table_and_index_and_on_system_errors" {
  command = plan

  variables {
    range_key = { name = "sk", type = "S" }
    global_secondary_indexes = [{
      name      = "by-customer"
      hash_key  = { name = "gsi1pk", type = "S" }
      range_key = { name = "gsi1sk", type = "S" }
    }]
    alarms = { alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:alarms"], ok_actions = ["arn:aws:sns:eu-west-1:123456789012:alarms"] }
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.throttled_requests)) == toset(["table", "index-by-customer"])
    error_message = "throttles are watched on the table and on its index"
  }
  assert {
    condition     = toset([for q in aws_cloudwatch_metric_alarm.throttled_requests["index-by-customer"].metric_query : q.metric[0].metric_name if length(q.metric) > 0]) == toset(["ReadThrottleEvents", "WriteThrottleEvents"]) && alltrue([for q in aws_cloudwatch_metric_alarm.throttled_requests["index-by-customer"].metric_query : q.metric[0].dimensions["GlobalSecondaryIndexName"] == "by-customer" if length(q.metric) > 0])
    error_message = "the index alarm reads the index's read and write throttles"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.throttled_requests["table"].threshold == 0 && aws_cloudwatch_metric_alarm.system_errors[0].threshold == 0
    error_message = "any throttle or system error counts"
  }
  assert {
    condition     = length([for q in aws_cloudwatch_metric_alarm.system_errors[0].metric_query : q if length(q.metric) > 0]) == 9 && contains([for q in aws_cloudwatch_metric_alarm.system_errors[0].metric_query : q.metric[0].dimensions["Operation"] if length(q.metric) > 0], "TransactWriteItems")
    error_message = "system errors summed over the operations the table serves, transactions included"
  }
  assert {
    condition     = alltrue([for a in concat(values(aws_cloudwatch_metric_alarm.throttled_requests), aws_cloudwatch_metric_alarm.system_errors) : a.treat_missing_data == "notBreaching" && a.datapoints_to_alarm == 2 && length(a.alarm_actions) == 1 && length(a.ok_actions) == 1])
    error_message = "2 of 5 periods, missing data not breaching, ALARM and OK notify"
  }
  assert {
    condition     = keys(output.alarm_names) == ["system_errors", "throttled_requests", "throttled_requests_index-by-customer"]
    error_message = "the outputs name every alarm"
  }
}

run "table_alarms_can_be_turned_off" {
  command = plan
  variables {
    alarms = { enabled = false }
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.throttled_requests) + length(aws_cloudwatch_metric_alarm.system_errors) == 0 && output.alarm_arns == {}
    error_message = "no alarm when off"
  }
}

run "rejects_more_than_ten_system_error_operations" {
  command = plan
  variables {
    alarms = { system_error_operations = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem", "TransactWriteItems", "TransactGetItems", "ExecuteStatement"] }
  }
  expect_failures = [var.alarms]
}

run "rejects_table_alarm_actions_that_are_not_topics" {
  command = plan
  variables {
    alarms = { alarm_actions = ["arn:aws:sqs:eu-west-1:123456789012:q"] }
  }
  expect_failures = [var.alarms]
}
