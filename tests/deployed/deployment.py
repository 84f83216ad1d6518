"""The stack, deployed for the suite: moto as AWS, the template's resources created from its own
properties, the functions in their containers, the API on the template's routes, and every
AWS call a function makes checked against its role as IAM would check it.

A call the role does not allow fails the invocation that made it (AccessDenied names the
function, the action, the resource and the call), as it would fail in AWS. What each function
was allowed and used is kept for the excess check (test_permissions.py)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from oauth_core.config import Settings
from oauthctl.admin import Admin
from tests.deployed.api import HttpApi
from tests.deployed.artifacts import Artifacts
from tests.deployed.containers import Container, FunctionError, Invocation, Runtime
from tests.deployed.https import HttpAnswer, HttpExchange, HttpsServer, make_certificates
from tests.deployed.iam import AwsRequest, grants_of, is_allowed, requests_of
from tests.deployed.moto_aws import ACCESS_KEY, REGION, SECRET_KEY, MotoAws
from tests.deployed.stack import DeployedFunction, DeployedStack, StackDeployer

# Lambda's runtime writes the function's log group with the role: not the function's code.
RUNTIME_LOGGING = ("logs:CreateLogStream", "logs:PutLogEvents")
# Lambda sends an asynchronous invocation that failed for good to the function's on-failure
# queue with the role (what CDK's SqsDestination grants): not the function's code.
ON_FAILURE_QUEUE = ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")


class AccessDenied(AssertionError):
    """A function made a call its role does not allow: in AWS, the call would have failed."""


@dataclass
class FunctionRecord:
    """What one function did over the whole run."""

    requests: set[AwsRequest] = field(default_factory=set)
    cold_starts: list[tuple[float, float]] = field(default_factory=list)  # init ms, first ms
    invocations: int = 0


class Deployment:
    def __init__(self, artifacts: Artifacts, workdir: Path):
        self.artifacts = artifacts
        self.workdir = workdir
        self.containers: dict[str, Container] = {}  # function logical id -> its container
        self.records: dict[str, FunctionRecord] = {}
        self.last_invocation: dict[str, Invocation] = {}  # function logical id -> its latest
        self.log_files: list[tuple[str, Path]] = []  # every container's log: function id, file
        self._started = 0
        self._lock = threading.Lock()
        self._nested_errors: list[BaseException] = []
        self._answers: dict[str, dict[str, Any]] = {}
        self._missing_secrets: set[str] = set()  # ARNs of secrets called for but not found
        self._servers: list[HttpsServer] = []
        self.aws: MotoAws | None = None
        # What each function invoked asynchronously returned (Lambda runs such an invocation
        # later, and the caller never sees it): function name -> its results, in order.
        self.async_results: dict[str, list[Any]] = {}

    @classmethod
    def start(cls, artifacts: Artifacts, workdir: Path) -> Deployment:
        deployment = cls(artifacts, workdir)
        try:
            deployment._deploy()
        except BaseException:
            deployment.stop()
            raise
        return deployment

    def _deploy(self) -> None:
        artifacts, workdir = self.artifacts, self.workdir
        self.aws = aws = MotoAws.start()
        certificates = make_certificates(workdir / "tls")
        api_front = HttpsServer(certificates, self._serve_api)
        cloudformation = HttpsServer(certificates, self._receive_answer)
        self._servers += [api_front, cloudformation]
        self.runtime = Runtime(
            artifacts.python,
            artifacts.runtime,
            REGION,
            {
                "AWS_ENDPOINT_URL": aws.endpoint_url,
                "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_SESSION_TOKEN": "deployed-suite",
                "AWS_CONFIG_FILE": str(workdir / "no-aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "no-aws-credentials"),
                "AWS_EC2_METADATA_DISABLED": "true",
                "SSL_CERT_FILE": str(certificates.ca_file),
            },
        )
        self._deployer = StackDeployer(
            artifacts,
            aws,
            f"https://{api_front.host}",
            lambda request_id: f"https://{cloudformation.host}/cfn/{request_id}",
            self._answers.get,
            self.invoke,
        )
        self.stack = self._deployer.stack
        self.api = HttpApi(self.stack, api_front.host, REGION, self.invoke)
        self._deployer.deploy()

    # --- running functions --------------------------------------------------------------------

    def function(self, name: str) -> DeployedFunction:
        return self.stack.function(name)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Invoke a function of the stack in its container (started on first use: a cold start);
        its AWS calls are checked against its role before its answer counts."""
        function = self.stack.functions[logical_id]
        container = self.containers.get(logical_id) or self.new_container(function.name)
        invocation = container.invoke(event)
        self.last_invocation[logical_id] = invocation
        self._account(function, container, invocation)
        self._check_calls(function, invocation)
        if invocation.error is not None:
            raise FunctionError(container.describe(invocation.error))
        with self._lock:
            nested, self._nested_errors = self._nested_errors, []
        if nested:
            raise AssertionError(f"while {function.name} ran: {nested[0]}") from nested[0]
        self._run_async_invocations(invocation)
        return invocation.result

    def _run_async_invocations(self, run: Invocation) -> None:
        """What Lambda does with an asynchronous invocation (InvocationType Event) of a function
        of the stack: runs it with the payload, after the caller has its answer."""
        for call in run.calls:
            p = call.parameters
            if (call.service, call.operation) != ("lambda", "Invoke"):
                continue
            if p.get("InvocationType") != "Event":
                raise NotImplementedError("a synchronous Invoke: teach the suite to run it")
            target = self.stack.function_by_arn(p["FunctionName"], "an asynchronous Invoke")
            result = self.invoke(target.logical_id, json.loads(p.get("Payload") or "{}"))
            self.async_results.setdefault(target.name, []).append(result)

    def new_container(self, name: str) -> Container:
        """A new container for a function, which serves its next invocations (a cold start)."""
        function = self.stack.function(name)
        with self._lock:
            self._started += 1
            number = self._started
            old = self.containers.pop(function.logical_id, None)
        if old is not None:
            old.stop()
        log = self.workdir / "logs" / f"{number:02d}-{function.name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        container = Container(function, self.runtime, log)
        self.log_files.append((function.logical_id, log))
        self.containers[function.logical_id] = container
        return container

    def log_of(self, name: str) -> str:
        """The end of the log of the container that serves a function (by name), if any."""
        functions = [f for f in self.stack.functions.values() if f.name == name]
        container = self.containers.get(functions[0].logical_id) if functions else None
        return f"\n--- end of {name}'s log ---\n{container.log_tail()}" if container else ""

    def log_lines_of_group(self, log_group: str) -> list[str]:
        """Every line the containers of the functions logging to a log group wrote, in order."""
        for container in self.containers.values():
            container.flush_log()
        lines: list[str] = []
        for logical_id, path in self.log_files:
            if self.stack.functions[logical_id].log_group == log_group:
                lines += path.read_text(errors="replace").splitlines()
        return lines

    def rotate_secret(self, secret_arn: str, rotation_function: str) -> str:
        """A scheduled rotation of a secret of the stack, through the packaged function."""
        return self._deployer.rotate(secret_arn, self.function(rotation_function))

    def _account(self, function: DeployedFunction, container: Container, run: Invocation) -> None:
        with self._lock:
            record = self.records.setdefault(function.logical_id, FunctionRecord())
            record.invocations += 1
            if run.cold:
                record.cold_starts.append((container.init_ms, run.ms))

    def _check_calls(self, function: DeployedFunction, run: Invocation) -> None:
        statements = self.stack.role_statements.get(function.role, [])
        denied = []
        for call in run.calls:
            for request in requests_of(call, self._table_arn, self._secret_arn, self._function_arn):
                with self._lock:
                    self.records[function.logical_id].requests.add(request)
                if not is_allowed(statements, request):
                    denied.append(
                        f"{request.action} on {request.resource} ({call.operation})"
                        + self._unknown_resource_hint(request.resource)
                    )
        if denied:
            raise AccessDenied(
                f"{function.name}: its role ({self.stack.template.label(function.role)}) does not "
                "allow:\n  "
                + "\n  ".join(denied)
                + (f"\nand it failed: {run.error}" if run.error else "")
            )

    def _table_arn(self, name: str) -> str:
        return (
            self.stack.tables.get(name) or f"arn:aws:dynamodb:{REGION}:{self.account}:table/{name}"
        )

    def _function_arn(self, name: str) -> str:
        found = [f.arn for f in self.stack.functions.values() if name in (f.arn, f.function_name)]
        return found[0] if found else f"arn:aws:lambda:{REGION}:{self.account}:function:{name}"

    def _secret_arn(self, secret_id: str) -> str:
        if secret_id.startswith("arn:"):
            return secret_id
        try:
            arn: str = (
                self._aws().client("secretsmanager").describe_secret(SecretId=secret_id)["ARN"]
            )
        except Exception:  # no such secret: IAM judges the name's ARN, without a suffix
            arn = f"arn:aws:secretsmanager:{REGION}:{self.account}:secret:{secret_id}"
            self._missing_secrets.add(arn)
        return arn

    def _unknown_resource_hint(self, arn: str) -> str:
        unknown_table = ":table/" in arn and arn not in self.stack.tables.values()
        if unknown_table or arn in self._missing_secrets:
            return " - not a resource of the stack: is an environment variable missing or wrong?"
        return ""

    @property
    def account(self) -> str:
        return self.stack.account_id

    def aws_client(self, service: str) -> Any:
        """A client of the suite's own (the operator's), not recorded or checked."""
        return self._aws().client(service)

    def _aws(self) -> MotoAws:
        assert self.aws is not None, "not deployed"
        return self.aws

    def unused_grants(self) -> list[tuple[str, str, str]]:
        """(function, action, resource) its role allows and no invocation so far used; what
        Lambda itself does with the role (its log writing, its on-failure queue) aside."""
        unused = []
        for function in self.stack.functions.values():
            record = self.records.get(function.logical_id, FunctionRecord())
            log_group = self.stack.physical[self._log_group_of(function)].attributes["Arn"]
            for grant in grants_of(self.stack.role_statements.get(function.role, [])):
                if grant.action in RUNTIME_LOGGING and grant.resource == log_group:
                    continue
                on_failure = self.stack.on_failure.get(function.logical_id)
                if grant.action in ON_FAILURE_QUEUE and grant.resource == on_failure:
                    continue
                if not any(grant.used_by(request) for request in record.requests):
                    unused.append(
                        (function.name, grant.action, self.stack.label_of(grant.resource))
                    )
        return unused

    def _log_group_of(self, function: DeployedFunction) -> str:
        return next(k for k, made in self.stack.physical.items() if made.ref == function.log_group)

    # --- what the functions call over HTTPS ---------------------------------------------------

    def _serve_api(self, exchange: HttpExchange) -> HttpAnswer:
        try:
            return self.api.serve(exchange)
        except Exception as exc:  # API Gateway answers 500; the outer invocation reports it
            with self._lock:
                self._nested_errors.append(exc)
            return HttpAnswer(
                500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}'
            )

    def _receive_answer(self, exchange: HttpExchange) -> HttpAnswer:
        """CloudFormation's pre-signed response URL: the custom resource's answer."""
        request_id = exchange.target.rsplit("/", 1)[-1]
        if exchange.method != "PUT":
            return HttpAnswer(405, {}, b"")
        self._answers[request_id] = json.loads(exchange.body)
        return HttpAnswer(200, {}, b"")

    # --- the operator's view ------------------------------------------------------------------

    def admin(self) -> Admin:
        """oauthctl's admin services, on the stack's outputs as `oauthctl --stack` reads them."""
        outputs = Admin._stack_outputs(_StackOutputs(self.stack), self.artifacts.stack_name, None)
        settings = replace(Settings(), **outputs)  # type: ignore[arg-type]
        return Admin(settings, self._aws().session(), self._aws().endpoint_url)

    def stop(self) -> None:
        for container in self.containers.values():
            container.stop()
        for server in self._servers:
            server.stop()
        if self.aws is not None:
            self.aws.stop()


class _StackOutputs:
    """A session whose CloudFormation answers describe-stacks with the deployed outputs, so that
    oauthctl's own code reads them (moto does not deploy the template itself)."""

    def __init__(self, stack: DeployedStack):
        self._stack = stack

    def client(self, service: str, endpoint_url: str | None = None) -> Any:
        assert service == "cloudformation"
        return self

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        outputs = [{"OutputKey": k, "OutputValue": v} for k, v in self._stack.outputs.items()]
        return {"Stacks": [{"StackName": StackName, "Outputs": outputs}]}
