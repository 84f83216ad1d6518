"""The template deployed as CloudFormation would deploy it, with moto as AWS: resources created
one at a time in dependency order, each from its own properties (tables, secrets, roles and
functions in moto; the deploying account's custom resource and rotation schedule run through
the packaged functions), every property value resolved against what already exists.

Resource types the suite has no use for (alarms, dashboards, topics, keys) are left out; a property
of a created resource that refers to one fails to resolve, with its template path."""

from __future__ import annotations

import io
import json
import secrets
import string
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.deployed.artifacts import Artifacts
from tests.deployed.iam import NotSupported, Statement, arn_matches, statements_of
from tests.deployed.moto_aws import REGION, MotoAws
from tests.deployed.template import Physical, Resolver, Template, Unresolvable

LAMBDA_PRINCIPAL_API = "apigateway.amazonaws.com"
LAMBDA_PRINCIPAL_SECRETS = "secretsmanager.amazonaws.com"
ROTATION_STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")

# Invokes a function of the stack (by logical id) with an event; returns what it returned.
Invoke = Callable[[str, dict[str, Any]], Any]


@dataclass(frozen=True)
class DeployedFunction:
    logical_id: str
    name: str  # the short name: `token` for Functions/token
    function_name: str  # the physical name
    arn: str
    runtime: str
    handler: str
    code: Path  # the code asset: /var/task
    layers: tuple[Path, ...]  # each layer's content: /opt
    environment: dict[str, str]  # the template's variables, resolved
    role: str  # the role's logical id
    timeout_s: int
    memory_mb: int
    log_group: str
    log_format: str
    log_level: str


@dataclass(frozen=True)
class LambdaPermission:
    function: str  # the function's name or ARN, as the permission gives it
    principal: str
    action: str
    source_arn: str | None
    source_account: str | None


@dataclass(frozen=True)
class Subscription:
    """A subscription filter: CloudWatch Logs hands a log group's matching lines to a function."""

    log_group: str  # its name
    log_group_arn: str
    pattern: str
    function: str  # the destination function's logical id


@dataclass(frozen=True)
class Route:
    method: str  # or ANY
    path: str
    function: str  # logical id


@dataclass(frozen=True)
class CustomResourceAnswer:
    status: str
    reason: str
    physical_id: str
    data: dict[str, Any]


@dataclass
class DeployedStack:
    template: Template
    account_id: str
    physical: dict[str, Physical] = field(default_factory=dict)
    functions: dict[str, DeployedFunction] = field(default_factory=dict)
    role_statements: dict[str, list[Statement]] = field(default_factory=dict)
    permissions: list[LambdaPermission] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    tables: dict[str, str] = field(default_factory=dict)  # name -> ARN
    secrets: dict[str, str] = field(default_factory=dict)  # logical id -> ARN
    custom_resources: dict[str, CustomResourceAnswer] = field(default_factory=dict)
    rotations: list[tuple[str, str]] = field(default_factory=list)  # secret ARN, function id
    subscriptions: list[Subscription] = field(default_factory=list)
    # function logical id -> where Lambda sends an asynchronous invocation that failed for good
    on_failure: dict[str, str] = field(default_factory=dict)
    api_id: str = ""
    outputs: dict[str, str] = field(default_factory=dict)

    def function(self, name: str) -> DeployedFunction:
        found = [f for f in self.functions.values() if f.name == name]
        if len(found) != 1:
            names = sorted(f.name for f in self.functions.values())
            raise LookupError(f"no single function {name!r} among {names}")
        return found[0]

    def made_as(self, value: str, attribute: str | None, where: str) -> str:
        """The logical id of the resource whose Ref (or `attribute`) is `value`."""
        for logical_id, made in self.physical.items():
            if value == (made.attributes.get(attribute) if attribute else made.ref):
                return logical_id
        raise Unresolvable(f"{where}: {value} is not a resource the stack has made")

    def function_by_arn(self, arn: str, where: str) -> DeployedFunction:
        for function in self.functions.values():
            if arn in (function.arn, function.function_name):
                return function
        raise Unresolvable(f"{where}: {arn} is not a function of the stack")

    def label_of(self, arn: str) -> str:
        """A resource the stack made, by its construct path (`Data/Grants`), else the ARN."""
        for logical_id, made in self.physical.items():
            if arn in (made.ref, made.attributes.get("Arn")):
                return self.template.label(logical_id)
        return arn

    def invoke_permitted(self, function: DeployedFunction, principal: str, source_arn: str) -> bool:
        """Whether the function's resource policy lets `principal` invoke it for `source_arn`."""
        return any(
            p.function in (function.arn, function.function_name)
            and p.principal == principal
            and p.action in ("lambda:InvokeFunction", "lambda:*")
            and (p.source_arn is None or arn_matches(p.source_arn, source_arn))
            and (p.source_account is None or p.source_account == self.account_id)
            for p in self.permissions
        )


class StackDeployer:
    def __init__(
        self,
        artifacts: Artifacts,
        aws: MotoAws,
        api_endpoint: str,
        cloudformation_response_url: Callable[[str], str],
        cloudformation_answer: Callable[[str], dict[str, Any] | None],
        invoke: Invoke,
    ):
        self._artifacts = artifacts
        self._aws = aws
        self._api_endpoint = api_endpoint
        self._response_url = cloudformation_response_url
        self._answer_of = cloudformation_answer
        self._invoke = invoke
        self.template = Template(artifacts.template, artifacts.stack_name)
        self.stack = DeployedStack(self.template, aws.account_id)
        self.stack_id = (
            f"arn:aws:cloudformation:{REGION}:{aws.account_id}:stack/"
            f"{artifacts.stack_name}/{uuid.uuid4()}"
        )
        self.resolve = Resolver(
            self.template,
            {
                "AWS::AccountId": aws.account_id,
                "AWS::Region": REGION,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": artifacts.stack_name,
                "AWS::StackId": self.stack_id,
            },
            self.stack.physical,
        )
        self._creators: dict[str, Callable[[str, dict[str, Any]], Physical]] = {
            "AWS::DynamoDB::GlobalTable": self._table,
            "AWS::DynamoDB::Table": self._table,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::IAM::Role": self._role,
            "AWS::IAM::Policy": self._policy,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::Lambda::LayerVersion": self._layer,
            "AWS::Lambda::Function": self._function,
            "AWS::Lambda::Permission": self._permission,
            "AWS::ApiGatewayV2::Api": self._api,
            "AWS::ApiGatewayV2::Integration": self._integration,
            "AWS::ApiGatewayV2::Route": self._route,
            "AWS::ApiGatewayV2::Stage": self._stage,
            "AWS::SecretsManager::RotationSchedule": self._rotation_schedule,
            "AWS::SQS::Queue": self._queue,
            "AWS::Lambda::EventInvokeConfig": self._event_invoke_config,
            "AWS::Logs::SubscriptionFilter": self._subscription_filter,
        }
        self._integrations: dict[str, str] = {}  # integration id -> function logical id
        self._layers: dict[str, Path] = {}  # layer version ARN -> its host-architecture content
        self._layer_properties: dict[str, dict[str, Any]] = {}

    def deploy(self) -> DeployedStack:
        for logical_id in self.template.creation_order():
            resource = self.template.resources[logical_id]
            kind = resource["Type"]
            creator = self._creators.get(kind)
            if creator is None and kind.startswith("Custom::"):
                creator = self._custom_resource
            if creator is None:
                continue  # not needed to run the functions (monitoring, metadata)
            where = f"Resources.{logical_id}.Properties"
            properties = self.resolve(resource.get("Properties", {}), where)
            self.stack.physical[logical_id] = creator(logical_id, properties)
        self.stack.outputs = {
            name: self.resolve.text(output["Value"], f"Outputs.{name}.Value")
            for name, output in self.template.body.get("Outputs", {}).items()
        }
        return self.stack

    # --- names CloudFormation generates -------------------------------------------------------

    def _generated_name(self, logical_id: str, limit: int = 64) -> str:
        suffix = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(12))
        stack = self._artifacts.stack_name
        return f"{stack}-{logical_id[: limit - len(stack) - 14]}-{suffix}"

    # --- data -------------------------------------------------------------------------------

    def _table(self, logical_id: str, p: dict[str, Any]) -> Physical:
        where = f"{logical_id} ({self.template.label(logical_id)})"
        if "Replicas" in p and REGION not in [r["Region"] for r in p["Replicas"]]:
            raise Unresolvable(f"{where}: no replica in the deploying region {REGION}")
        if p.get("BillingMode") != "PAY_PER_REQUEST":
            raise NotSupported(f"{where}: billing mode {p.get('BillingMode')}")
        name = p.get("TableName") or self._generated_name(logical_id, 255)
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": p["KeySchema"],
            "AttributeDefinitions": p["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if p.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = [
                {k: index[k] for k in ("IndexName", "KeySchema", "Projection")}
                for index in p["GlobalSecondaryIndexes"]
            ]
        if p.get("StreamSpecification"):
            request["StreamSpecification"] = {"StreamEnabled": True, **p["StreamSpecification"]}
        dynamodb = self._aws.client("dynamodb")
        table = dynamodb.create_table(**request)["TableDescription"]
        ttl = p.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        self.stack.tables[name] = table["TableArn"]
        attributes = {"Arn": table["TableArn"]}
        if "LatestStreamArn" in table:
            attributes["StreamArn"] = table["LatestStreamArn"]
        return Physical(name, attributes)

    def _secret(self, logical_id: str, p: dict[str, Any]) -> Physical:
        secretsmanager = self._aws.client("secretsmanager")
        # CloudFormation names a secret `<logical id>-<random>`: the name CDK's secretName
        # takes apart again (Fn::Split on the ARN), so it must have exactly that shape.
        name = p.get("Name") or (
            f"{logical_id}-" + "".join(secrets.choice(string.ascii_letters) for _ in range(12))
        )
        if "SecretString" in p:
            value = p["SecretString"]
        elif "GenerateSecretString" in p:
            value = self._generated_secret(p["GenerateSecretString"])
        else:
            raise NotSupported(f"{logical_id}: a secret with neither value nor generator")
        arn = secretsmanager.create_secret(
            Name=name, SecretString=value, Description=p.get("Description", "")
        )["ARN"]
        self.stack.secrets[logical_id] = arn
        return Physical(arn, {"Id": arn})

    def _generated_secret(self, generate: dict[str, Any]) -> str:
        options = {
            option: generate[option]
            for option in (
                "PasswordLength",
                "ExcludeCharacters",
                "ExcludeNumbers",
                "ExcludePunctuation",
                "ExcludeUppercase",
                "ExcludeLowercase",
                "IncludeSpace",
                "RequireEachIncludedType",
            )
            if option in generate
        }
        password = str(
            self._aws.client("secretsmanager").get_random_password(**options)["RandomPassword"]
        )
        if "SecretStringTemplate" in generate:
            document = json.loads(generate["SecretStringTemplate"])
            document[generate["GenerateStringKey"]] = password
            return json.dumps(document)
        return password

    # --- identity ---------------------------------------------------------------------------

    def _role(self, logical_id: str, p: dict[str, Any]) -> Physical:
        if p.get("ManagedPolicyArns"):
            raise NotSupported(f"{logical_id}: managed policies cannot be evaluated here")
        name = p.get("RoleName") or self._generated_name(logical_id)
        role = self._aws.client("iam").create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(p["AssumeRolePolicyDocument"]),
            Path=p.get("Path", "/"),
        )["Role"]
        statements = self.stack.role_statements.setdefault(logical_id, [])
        for policy in p.get("Policies", []):
            statements += statements_of(policy["PolicyDocument"], self.template.label(logical_id))
        return Physical(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    def _policy(self, logical_id: str, p: dict[str, Any]) -> Physical:
        statements = statements_of(p["PolicyDocument"], self.template.label(logical_id))
        for role_name in p.get("Roles", []):
            role = self.stack.made_as(role_name, None, f"{logical_id}.Roles")
            self.stack.role_statements.setdefault(role, []).extend(statements)
        return Physical(p["PolicyName"])

    def _log_group(self, logical_id: str, p: dict[str, Any]) -> Physical:
        name = p.get("LogGroupName") or self._generated_name(logical_id, 512)
        arn = f"arn:aws:logs:{REGION}:{self._aws.account_id}:log-group:{name}:*"
        return Physical(name, {"Arn": arn})

    def _queue(self, logical_id: str, p: dict[str, Any]) -> Physical:
        where = f"{logical_id} ({self.template.label(logical_id)})"
        if p.get("FifoQueue"):
            raise NotSupported(f"{where}: a FIFO queue")
        sqs = self._aws.client("sqs")
        name = p.get("QueueName") or self._generated_name(logical_id, 80)
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        return Physical(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _subscription_filter(self, logical_id: str, p: dict[str, Any]) -> Physical:
        where = f"{logical_id} ({self.template.label(logical_id)})"
        group = self.stack.made_as(p["LogGroupName"], None, f"{where}.LogGroupName")
        function = self.stack.function_by_arn(p["DestinationArn"], f"{where}.DestinationArn")
        log_group_arn = self.stack.physical[group].attributes["Arn"]
        # CloudWatch Logs checks, when the filter is made, that it may invoke the function.
        if not self.stack.invoke_permitted(function, "logs.amazonaws.com", log_group_arn):
            raise AssertionError(
                f"{where}: CloudWatch Logs may not invoke {function.name} for {p['LogGroupName']} "
                "(no lambda:InvokeFunction permission for logs.amazonaws.com with that source)"
            )
        self.stack.subscriptions.append(
            Subscription(p["LogGroupName"], log_group_arn, p["FilterPattern"], function.logical_id)
        )
        return Physical(p.get("FilterName") or logical_id)

    def _event_invoke_config(self, logical_id: str, p: dict[str, Any]) -> Physical:
        where = f"{logical_id} ({self.template.label(logical_id)})"
        function = self.stack.function_by_arn(p["FunctionName"], f"{where}.FunctionName")
        on_failure = p.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if on_failure:
            self.stack.made_as(on_failure, "Arn", f"{where}.DestinationConfig.OnFailure")
            self.stack.on_failure[function.logical_id] = on_failure
        return Physical(f"{function.function_name}|{p.get('Qualifier', '$LATEST')}")

    # --- functions --------------------------------------------------------------------------

    def _layer(self, logical_id: str, p: dict[str, Any]) -> Physical:
        # The deploy bundle is for arm64: what runs here is the same layer bundled for this
        # machine (tests/infra/test_layer_bundling.py shows they differ only in platform).
        self._artifacts.asset(p["Content"], f"{logical_id}.Content")
        name = p.get("LayerName") or self._generated_name(logical_id, 140)
        arn = f"arn:aws:lambda:{REGION}:{self._aws.account_id}:layer:{name}:1"
        self._layers[arn] = self._artifacts.host_layer
        self._layer_properties[arn] = p
        return Physical(arn)

    def _function(self, logical_id: str, p: dict[str, Any]) -> Physical:
        where = f"{logical_id} ({self.template.label(logical_id)})"
        if p.get("PackageType", "Zip") != "Zip":
            raise NotSupported(f"{where}: package type {p['PackageType']}")
        architecture = (p.get("Architectures") or ["x86_64"])[0]
        for arn in p.get("Layers", []):
            layer = self._layer_properties.get(arn)
            if layer is None:
                raise Unresolvable(f"{where}: layer {arn} is not a layer of the stack")
            if p["Runtime"] not in layer.get("CompatibleRuntimes", [p["Runtime"]]):
                raise AssertionError(f"{where}: the layer is not for {p['Runtime']}")
            if architecture not in layer.get("CompatibleArchitectures", [architecture]):
                raise AssertionError(f"{where}: the layer is not for {architecture}")
        role = self.stack.made_as(p["Role"], "Arn", f"{where}.Role")
        name = p.get("FunctionName") or self._generated_name(logical_id)
        created = self._aws.client("lambda").create_function(
            FunctionName=name,
            Runtime=p["Runtime"],
            Role=p["Role"],
            Handler=p["Handler"],
            # moto keeps a function, never runs it: the code that runs is the asset below.
            Code={"ZipFile": _empty_zip()},
        )
        logging = p.get("LoggingConfig", {})
        self.stack.functions[logical_id] = DeployedFunction(
            logical_id=logical_id,
            name=self.template.label(logical_id).rsplit("/", 1)[-1],
            function_name=name,
            arn=created["FunctionArn"],
            runtime=p["Runtime"],
            handler=p["Handler"],
            code=self._artifacts.asset(p["Code"], f"{where}.Code"),
            layers=tuple(self._layers[arn] for arn in p.get("Layers", [])),
            environment={
                k: str(v) for k, v in p.get("Environment", {}).get("Variables", {}).items()
            },
            role=role,
            timeout_s=int(p.get("Timeout", 3)),
            memory_mb=int(p.get("MemorySize", 128)),
            log_group=logging.get("LogGroup", f"/aws/lambda/{name}"),
            log_format=logging.get("LogFormat", "Text"),
            log_level=logging.get("ApplicationLogLevel", "INFO"),
        )
        return Physical(name, {"Arn": created["FunctionArn"]})

    def _permission(self, logical_id: str, p: dict[str, Any]) -> Physical:
        self.stack.permissions.append(
            LambdaPermission(
                p["FunctionName"],
                p["Principal"],
                p["Action"],
                p.get("SourceArn"),
                p.get("SourceAccount"),
            )
        )
        return Physical(logical_id)

    # --- the API ----------------------------------------------------------------------------

    def _api(self, logical_id: str, p: dict[str, Any]) -> Physical:
        if p.get("ProtocolType") != "HTTP":
            raise NotSupported(f"{logical_id}: protocol {p.get('ProtocolType')}")
        api_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(10))
        self.stack.api_id = api_id
        return Physical(api_id, {"ApiEndpoint": self._api_endpoint, "ApiId": api_id})

    def _integration(self, logical_id: str, p: dict[str, Any]) -> Physical:
        if (p.get("IntegrationType"), p.get("PayloadFormatVersion")) != ("AWS_PROXY", "2.0"):
            raise NotSupported(
                f"{logical_id}: {p.get('IntegrationType')} {p.get('PayloadFormatVersion')}"
            )
        uri = p["IntegrationUri"]
        function = self.stack.function_by_arn(uri, f"{logical_id}.IntegrationUri")
        integration_id = logical_id.lower()
        self._integrations[integration_id] = function.logical_id
        return Physical(integration_id)

    def _route(self, logical_id: str, p: dict[str, Any]) -> Physical:
        method, _, path = p["RouteKey"].partition(" ")
        if "{" in path or p.get("AuthorizationType", "NONE") != "NONE":
            raise NotSupported(
                f"{logical_id}: route {p['RouteKey']} ({p.get('AuthorizationType')})"
            )
        function = self._integrations.get(p["Target"].removeprefix("integrations/"))
        if function is None:
            raise Unresolvable(f"{logical_id}: target {p['Target']} is not an integration")
        self.stack.routes.append(Route(method, path, function))
        return Physical(logical_id)

    def _stage(self, logical_id: str, p: dict[str, Any]) -> Physical:
        if (p.get("StageName"), p.get("AutoDeploy")) != ("$default", True):
            raise NotSupported(f"{logical_id}: stage {p.get('StageName')} (AutoDeploy)")
        return Physical(p["StageName"])

    # --- what CloudFormation runs through the functions ------------------------------------

    def _custom_resource(self, logical_id: str, p: dict[str, Any]) -> Physical:
        """A Create request, as CloudFormation sends it, answered at the response URL."""
        function = self.stack.function_by_arn(p["ServiceToken"], f"{logical_id}.ServiceToken")
        request_id = str(uuid.uuid4())
        event = {
            "RequestType": "Create",
            "ServiceToken": p["ServiceToken"],
            "ResponseURL": self._response_url(request_id),
            "StackId": self.stack_id,
            "RequestId": request_id,
            "ResourceType": self.template.resources[logical_id]["Type"],
            "LogicalResourceId": logical_id,
            "ResourceProperties": p,
        }
        # CloudFormation invokes with the deployer's credentials: no Lambda permission needed.
        self._invoke(function.logical_id, event)
        body = self._answer_of(request_id)
        if body is None:
            raise AssertionError(
                f"custom resource {logical_id}: {function.name} returned without answering "
                f"CloudFormation (the stack would wait {p.get('ServiceTimeout', 3600)} s and fail)"
            )
        answer = CustomResourceAnswer(
            body["Status"], body.get("Reason", ""), body["PhysicalResourceId"], body.get("Data", {})
        )
        self.stack.custom_resources[logical_id] = answer
        if answer.status != "SUCCESS":
            raise AssertionError(f"custom resource {logical_id} failed: {answer.reason}")
        return Physical(answer.physical_id, {k: str(v) for k, v in answer.data.items()})

    def _rotation_schedule(self, logical_id: str, p: dict[str, Any]) -> Physical:
        where = f"{logical_id}.RotationLambdaARN"
        function = self.stack.function_by_arn(p["RotationLambdaARN"], where)
        secret = p["SecretId"]
        self.stack.rotations.append((secret, function.logical_id))
        if p.get("RotateImmediatelyOnUpdate", True):
            self.rotate(secret, function)
        else:
            # What Secrets Manager does instead of rotating: testSecret on a copy of the
            # current value staged as AWSPENDING, then the label removed. (moto's own
            # RotateImmediately=false stages a stale value, so the suite stages the copy.)
            self._require_rotation_permission(function, secret)
            secretsmanager = self._aws.client("secretsmanager")
            token = str(uuid.uuid4())
            current = secretsmanager.get_secret_value(SecretId=secret, VersionStage="AWSCURRENT")
            secretsmanager.put_secret_value(
                SecretId=secret,
                ClientRequestToken=token,
                SecretString=current["SecretString"],
                VersionStages=["AWSPENDING"],
            )
            self._rotation_step(function, secret, token, "testSecret")
            secretsmanager.update_secret_version_stage(
                SecretId=secret, VersionStage="AWSPENDING", RemoveFromVersionId=token
            )
        return Physical(f"{secret}|rotation")

    def rotate(self, secret: str, function: DeployedFunction) -> str:
        """A scheduled rotation: Secrets Manager stages a new version (RotateSecret) and runs the
        four steps through the rotation function. Returns the new version's id."""
        self._require_rotation_permission(function, secret)
        secretsmanager = self._aws.client("secretsmanager")
        # moto leaves AWSPENDING on the version AWSCURRENT moved to, and then refuses the next
        # rotation as still in progress (AWS accepts that state): the label is cleared first.
        stages = secretsmanager.describe_secret(SecretId=secret)["VersionIdsToStages"]
        for version, labels in stages.items():
            if "AWSPENDING" in labels:
                secretsmanager.update_secret_version_stage(
                    SecretId=secret, VersionStage="AWSPENDING", RemoveFromVersionId=version
                )
        # The function is named every time: moto forgets it otherwise and moves AWSCURRENT to
        # an empty version. moto's Lambda only answers; the four steps run below.
        secretsmanager.rotate_secret(SecretId=secret, RotationLambdaARN=function.arn)
        stages = secretsmanager.describe_secret(SecretId=secret)["VersionIdsToStages"]
        # The staged version (moto's answer names the current one instead).
        token = next(v for v, labels in stages.items() if "AWSPENDING" in labels)
        for step in ROTATION_STEPS:
            self._rotation_step(function, secret, token, step)
        return token

    def _require_rotation_permission(self, function: DeployedFunction, secret: str) -> None:
        if not self.stack.invoke_permitted(function, LAMBDA_PRINCIPAL_SECRETS, secret):
            raise AssertionError(
                f"Secrets Manager may not invoke {function.name} to rotate {secret}: no "
                f"Lambda permission for {LAMBDA_PRINCIPAL_SECRETS} with that source"
            )

    def _rotation_step(
        self, function: DeployedFunction, secret: str, token: str, step: str
    ) -> None:
        self._invoke(
            function.logical_id,
            {"Step": step, "SecretId": secret, "ClientRequestToken": token},
        )


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.txt", "the suite runs the code asset, not this")
    return buffer.getvalue()
