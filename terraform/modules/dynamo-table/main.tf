locals {
  table_keys = concat([var.hash_key], var.range_key == null ? [] : [var.range_key])
  gsi_keys   = flatten([for i in var.global_secondary_indexes : concat([i.hash_key], i.range_key == null ? [] : [i.range_key])])
  lsi_keys   = [for i in var.local_secondary_indexes : i.range_key]

  # Each key attribute is declared once; the validations guarantee one type per name.
  attributes = { for name, types in { for k in concat(local.table_keys, local.gsi_keys, local.lsi_keys) : k.name => k.type... } : name => types[0] }

  provisioned = var.billing_mode == "PROVISIONED"
  read        = local.provisioned ? var.capacity.read : null
  write       = local.provisioned ? var.capacity.write : null
}

# Two variants of the same table: with autoscaling, capacity belongs to
# Application Auto Scaling and Terraform must not reset it on every apply,
# which needs a lifecycle rule that cannot be conditional.
resource "aws_dynamodb_table" "this" {
  count = var.autoscaling == null ? 1 : 0

  #checkov:skip=CKV_AWS_119:SSE is always on; a customer managed key is the caller's choice (kms_key_arn), the AWS managed key is the default
  #checkov:skip=CKV_AWS_28:PITR is on by default (point_in_time_recovery = true); only a caller turns it off, e.g. for a disposable dev table
  name                        = var.name
  billing_mode                = var.billing_mode
  read_capacity               = local.read
  write_capacity              = local.write
  hash_key                    = var.hash_key.name
  range_key                   = try(var.range_key.name, null)
  table_class                 = var.table_class
  deletion_protection_enabled = var.deletion_protection
  stream_enabled              = var.stream_view_type != null
  stream_view_type            = var.stream_view_type

  dynamic "attribute" {
    for_each = local.attributes
    content {
      name = attribute.key
      type = attribute.value
    }
  }

  dynamic "global_secondary_index" {
    for_each = var.global_secondary_indexes
    content {
      name               = global_secondary_index.value.name
      hash_key           = global_secondary_index.value.hash_key.name
      range_key          = try(global_secondary_index.value.range_key.name, null)
      projection_type    = global_secondary_index.value.projection_type
      non_key_attributes = global_secondary_index.value.projection_type == "INCLUDE" ? global_secondary_index.value.non_key_attributes : null
      read_capacity      = local.read
      write_capacity     = local.write
    }
  }

  dynamic "local_secondary_index" {
    for_each = var.local_secondary_indexes
    content {
      name               = local_secondary_index.value.name
      range_key          = local_secondary_index.value.range_key.name
      projection_type    = local_secondary_index.value.projection_type
      non_key_attributes = local_secondary_index.value.projection_type == "INCLUDE" ? local_secondary_index.value.non_key_attributes : null
    }
  }

  dynamic "ttl" {
    for_each = var.ttl_attribute_name == null ? [] : [var.ttl_attribute_name]
    content {
      enabled        = true
      attribute_name = ttl.value
    }
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_dynamodb_table" "autoscaled" {
  count = var.autoscaling == null ? 0 : 1

  #checkov:skip=CKV_AWS_119:SSE is always on; a customer managed key is the caller's choice (kms_key_arn), the AWS managed key is the default
  #checkov:skip=CKV_AWS_28:PITR is on by default (point_in_time_recovery = true); only a caller turns it off, e.g. for a disposable dev table
  name                        = var.name
  billing_mode                = var.billing_mode
  read_capacity               = local.read
  write_capacity              = local.write
  hash_key                    = var.hash_key.name
  range_key                   = try(var.range_key.name, null)
  table_class                 = var.table_class
  deletion_protection_enabled = var.deletion_protection
  stream_enabled              = var.stream_view_type != null
  stream_view_type            = var.stream_view_type

  dynamic "attribute" {
    for_each = local.attributes
    content {
      name = attribute.key
      type = attribute.value
    }
  }

  dynamic "global_secondary_index" {
    for_each = var.global_secondary_indexes
    content {
      name               = global_secondary_index.value.name
      hash_key           = global_secondary_index.value.hash_key.name
      range_key          = try(global_secondary_index.value.range_key.name, null)
      projection_type    = global_secondary_index.value.projection_type
      non_key_attributes = global_secondary_index.value.projection_type == "INCLUDE" ? global_secondary_index.value.non_key_attributes : null
      read_capacity      = local.read
      write_capacity     = local.write
    }
  }

  dynamic "local_secondary_index" {
    for_each = var.local_secondary_indexes
    content {
      name               = local_secondary_index.value.name
      range_key          = local_secondary_index.value.range_key.name
      projection_type    = local_secondary_index.value.projection_type
      non_key_attributes = local_secondary_index.value.projection_type == "INCLUDE" ? local_secondary_index.value.non_key_attributes : null
    }
  }

  dynamic "ttl" {
    for_each = var.ttl_attribute_name == null ? [] : [var.ttl_attribute_name]
    content {
      enabled        = true
      attribute_name = ttl.value
    }
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags

  lifecycle {
    # The table's capacity is driven by autoscaling. Index capacities are not
    # ignored (that would also hide index changes): an apply resets a moved
    # index to `capacity` and autoscaling corrects it again (see README).
    ignore_changes = [read_capacity, write_capacity]
  }
}

locals {
  table = one(concat(aws_dynamodb_table.this, aws_dynamodb_table.autoscaled))

  # "table:read", "index/<gsi>:write", ...: one scalable dimension each.
  scaled = var.autoscaling == null ? {} : merge([
    for target in concat(
      [{ key = "table", resource_id = "table/${local.table.name}", dimension = "table" }],
      [for i in var.global_secondary_indexes : { key = "index/${i.name}", resource_id = "table/${local.table.name}/index/${i.name}", dimension = "index" }],
      ) : {
      for mode, m in {
        read  = { min = var.autoscaling.min_read, max = var.autoscaling.max_read, unit = "Read", metric = "DynamoDBReadCapacityUtilization" }
        write = { min = var.autoscaling.min_write, max = var.autoscaling.max_write, unit = "Write", metric = "DynamoDBWriteCapacityUtilization" }
      } : "${target.key}:${mode}" => merge(m, target)
    }
  ]...)
}

resource "aws_appautoscaling_target" "this" {
  for_each = local.scaled

  service_namespace  = "dynamodb"
  resource_id        = each.value.resource_id
  scalable_dimension = "dynamodb:${each.value.dimension}:${each.value.unit}CapacityUnits"
  min_capacity       = each.value.min
  max_capacity       = each.value.max
  tags               = var.tags
}

resource "aws_appautoscaling_policy" "this" {
  for_each = local.scaled

  name               = "${replace(each.key, "/[/:]/", "-")}-target-tracking"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.this[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.this[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.autoscaling.target_utilization
    predefined_metric_specification {
      predefined_metric_type = each.value.metric
    }
  }
}
