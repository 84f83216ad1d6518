"""Lambda containers of the deployed functions: each a long-lived isolated interpreter
(`-I -S -B`: no site-packages, no PYTHON* variables, no bytecode written, as on Lambda's
read-only /var/task and /opt) that can import only the function's code asset (/var/task), its
layers (/opt/python) and the runtime's boto3, and whose environment is Lambda's own variables
and the template's, plus where AWS and the suite's certificate authority are.

The container serves one invocation at a time (lambda_container.py); its first is its cold
start."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.bytecode import Interpreter
from tests.deployed.iam import RecordedCall
from tests.deployed.stack import DeployedFunction

CONTAINER_SCRIPT = Path(__file__).with_name("lambda_container.py")
# Only a guard against a hung child: never a measurement, so generous on a loaded machine.
ANSWER_TIMEOUT = 120  # seconds
LOG_TAIL_LINES = 30
# Lambda sets these itself: a template may not (the deploy would fail).
RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


def _readable(line: str) -> str:
    try:
        record = json.loads(line)
    except ValueError:
        return line
    if not isinstance(record, dict) or "_aws" in record:
        return ""
    trace = record.get("stack_trace") or {}
    if not trace:
        return f"{record.get('level', '')} {record.get('message', line)}"
    frame = (trace.get("frames") or [{}])[-1]
    return (
        f"{record.get('level', '')} {record.get('message', '')}: {trace.get('type')}: "
        f"{trace.get('value')} (at {frame.get('file')}:{frame.get('line')} "
        f"{frame.get('statement', '')})"
    )


class FunctionError(AssertionError):
    """A function failed as Lambda reports it (init or handler error); the message names the
    function, its handler and the error, with the end of its log."""


@dataclass(frozen=True)
class Invocation:
    result: Any
    calls: list[RecordedCall]
    ms: float
    cold: bool  # the container's first invocation
    error: str | None  # as Lambda reports a failed invocation: type, message, trace
    origins: dict[str, str]  # module -> the file it was loaded from (handler, oauth_core, ...)


@dataclass(frozen=True)
class Runtime:
    python: Interpreter
    site_packages: Path  # boto3 and its dependencies, as the runtime has them
    region: str
    aws_variables: dict[str, str]  # where AWS is, the credentials, the suite's CA


def lambda_environment(function: DeployedFunction, runtime: Runtime) -> dict[str, str]:
    reserved = RESERVED_VARIABLES & set(function.environment)
    if reserved:
        raise AssertionError(f"{function.name}: the template sets reserved {sorted(reserved)}")
    minor = runtime.python.version.rsplit(".", 1)[0]
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(function.code),
        "_HANDLER": function.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{minor}",
        "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": function.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": "deployed-suite",
        "AWS_REGION": runtime.region,
        "AWS_DEFAULT_REGION": runtime.region,
    }
    if function.log_format == "JSON":  # Lambda's advanced logging controls
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        env["AWS_LAMBDA_LOG_LEVEL"] = function.log_level
    return {**env, **function.environment, **runtime.aws_variables}


class Container:
    def __init__(self, function: DeployedFunction, runtime: Runtime, log_path: Path):
        self.function = function
        self.log_path = log_path
        self.invocations = 0
        self.init_ms = 0.0
        minor = runtime.python.version.rsplit(".", 1)[0]
        opt = [
            path
            for layer in function.layers
            for path in (
                str(layer / "python" / "lib" / f"python{minor}" / "site-packages"),
                str(layer / "python"),
            )
        ]
        config = {
            "paths": [str(function.code), *opt],
            "runtime_paths": [str(runtime.site_packages)],
            "handler": function.handler,
            "function_name": function.function_name,
            "function_arn": function.arn,
            "memory_mb": function.memory_mb,
            "timeout_s": function.timeout_s,
            "log_group": function.log_group,
        }
        self._log = log_path.open("w")
        self._process = subprocess.Popen(
            [runtime.python.path, "-I", "-S", "-B", str(CONTAINER_SCRIPT), json.dumps(config)],
            cwd=function.code,
            env=lambda_environment(function, runtime),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self._answers: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read_answers, daemon=True).start()
        self._lock = threading.Lock()
        ready = self._next_answer("init")
        self.init_ms = float(ready["init_ms"])

    def _read_answers(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._answers.put(line)
        self._answers.put("")  # the process ended

    def _next_answer(self, what: str) -> dict[str, Any]:
        try:
            line = self._answers.get(timeout=ANSWER_TIMEOUT)
        except queue.Empty:
            self.stop()
            raise FunctionError(
                self.describe(f"no answer to {what} in {ANSWER_TIMEOUT} s")
            ) from None
        if not line:
            raise FunctionError(self.describe(f"the container exited during {what}"))
        answer: dict[str, Any] = json.loads(line)
        return answer

    def invoke(self, event: dict[str, Any]) -> Invocation:
        with self._lock:
            assert self._process.stdin is not None
            request = {"event": event, "request_id": str(uuid.uuid4())}
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            answer = self._next_answer("an invocation")
            self.invocations += 1
            calls = [RecordedCall.from_child(c) for c in answer["calls"]]
            error = answer.get("error")
            return Invocation(
                answer.get("result"),
                calls,
                float(answer["ms"]),
                self.invocations == 1,
                None
                if error is None
                else f"{error['errorType']}: {error['errorMessage']}\n"
                + "".join(error.get("stackTrace", [])[-6:]),
                answer["origins"],
            )

    def flush_log(self) -> None:
        self._log.flush()

    def log_tail(self) -> str:
        """The end of the container's log, each JSON record an error wrote shortened to its
        message and exception, metrics (EMF) records left out."""
        self._log.flush()
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(filter(None, map(_readable, lines[-LOG_TAIL_LINES:])))

    def describe(self, problem: str) -> str:
        f = self.function
        return (
            f"function {f.name} ({f.logical_id}, Handler {f.handler!r}, /var/task = {f.code.name}, "
            f"/opt = {', '.join(str(layer) for layer in f.layers)}): {problem}\n"
            f"--- end of its log ({self.log_path}) ---\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self._process.stdin and not self._process.stdin.closed:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        self._log.close()
