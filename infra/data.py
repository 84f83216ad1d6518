"""Data: the DynamoDB tables, from the same definitions the local stack creates."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.config import StackConfig
from oauth_core.tables import ALL_TABLES, TableSpec


class Data(Construct):
    def __init__(self, scope: Construct, construct_id: str, config: StackConfig):
        super().__init__(scope, construct_id)
        self.tables: dict[str, dynamodb.TableV2] = {
            spec.env_var: self._table(spec, config) for spec in ALL_TABLES
        }

    def _table(self, spec: TableSpec, config: StackConfig) -> dynamodb.TableV2:
        return dynamodb.TableV2(
            self,
            spec.logical_id,
            partition_key=dynamodb.Attribute(
                name=spec.partition_key, type=dynamodb.AttributeType.STRING
            ),
            sort_key=(
                dynamodb.Attribute(name=spec.sort_key, type=dynamodb.AttributeType.STRING)
                if spec.sort_key
                else None
            ),
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=spec.point_in_time_recovery
            ),
            time_to_live_attribute=spec.ttl_attribute,
            deletion_protection=config.deletion_protection,
            removal_policy=config.removal,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=index.name,
                    partition_key=dynamodb.Attribute(
                        name=index.partition_key, type=dynamodb.AttributeType.STRING
                    ),
                    projection_type=dynamodb.ProjectionType[index.projection],
                )
                for index in spec.indexes
            ],
        )
