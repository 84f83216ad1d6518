"""One Lambda container: run as a script by an isolated interpreter (`-I -S -B`), importing only
the standard library until its path is set. Init as Lambda does it (the handler's module
imported, the handler found), then one invocation per line on stdin, one answer per line on
the protocol stream (the original stdout); what the function prints goes to stderr, its log.

Every boto3 client the function creates is recorded with each call and its parameters, through
botocore's own event hooks, installed before botocore can be imported (benchmarks/cold_scripts.py
records the same way)."""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import os
import sys
import time
import traceback
from typing import Any

RECORDED: list[list[str]] = []  # [service, operation, parameters as JSON], since the last answer
# Where these came from, once loaded: the suite checks each is the asset it should be.
WATCHED_MODULES = ("oauth_core", "boto3", "botocore", "jwt", "cryptography")


def _record_calls(client_module: Any) -> None:
    create = client_module.ClientCreator.create_client

    def create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = create(self, service_name, *args, **kwargs)

        def before_parameter_build(params: dict[str, Any], model: Any, **_: Any) -> None:
            RECORDED.append([service_name, model.name, json.dumps(params, default=repr)])

        client.meta.events.register("before-parameter-build", before_parameter_build)
        return client

    client_module.ClientCreator.create_client = create_client


class _RecordWhenBotocoreLoads:
    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> Any:
        if name != "botocore.client":
            return None
        sys.meta_path.remove(_RecordWhenBotocoreLoads)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_record(module: Any) -> None:
            exec_module(module)
            _record_calls(module)

        spec.loader.exec_module = exec_and_record  # type: ignore[method-assign]
        return spec


class Context:
    """Lambda's context object, as the handler sees it."""

    def __init__(self, config: dict[str, Any], request_id: str):
        self.function_name = config["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = config["function_arn"]
        self.memory_limit_in_mb = int(config["memory_mb"])
        self.aws_request_id = request_id
        self.log_group_name = config["log_group"]
        self.log_stream_name = "deployed-suite"
        self._deadline = time.monotonic() + float(config["timeout_s"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error(kind: str, exc: BaseException) -> dict[str, Any]:
    return {
        "errorType": kind,
        "errorMessage": f"{type(exc).__name__}: {exc}",
        "stackTrace": traceback.format_exception(exc),
    }


def _init(config: dict[str, Any]) -> Any:
    """The handler, as Lambda's runtime resolves `module.function` (the module path may have
    dots or slashes before the last dot)."""
    module_name, _, function_name = str(config["handler"]).rpartition(".")
    module = importlib.import_module(module_name.replace("/", "."))
    return getattr(module, function_name)


def main() -> None:
    config = json.loads(sys.argv[1])
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the function's prints (its log lines) go where its stderr goes
    sys.meta_path.insert(0, _RecordWhenBotocoreLoads)
    sys.path[:0] = config["paths"]
    sys.path.extend(config["runtime_paths"])

    started = time.perf_counter()
    handler: Any = None
    init_error: dict[str, Any] | None = None
    module_name = str(config["handler"]).rpartition(".")[0]
    try:
        handler = _init(config)
    except ModuleNotFoundError as exc:  # worded as Lambda words it
        init_error = {
            "errorType": "Runtime.ImportModuleError",
            "errorMessage": f"Unable to import module '{module_name}': {exc}",
        }
    except AttributeError as exc:
        init_error = {
            "errorType": "Runtime.HandlerNotFound",
            "errorMessage": f"Handler {config['handler']!r} missing: {exc}",
        }
    except Exception as exc:
        init_error = _error("Runtime.InitError", exc)
    init_ms = (time.perf_counter() - started) * 1000
    protocol.write(json.dumps({"init_ms": init_ms, "init_error": init_error}) + "\n")

    for line in sys.stdin:
        request = json.loads(line)
        answer: dict[str, Any] = {}
        started = time.perf_counter()
        if init_error is not None:
            answer["error"] = init_error
        else:
            try:
                result = handler(request["event"], Context(config, request["request_id"]))
            except Exception as exc:
                answer["error"] = _error("Handler", exc)
            else:
                try:
                    json.dumps(result)  # Lambda serializes what the handler returns
                    answer["result"] = result
                except (TypeError, ValueError) as exc:
                    answer["error"] = _error("Runtime.MarshalError", exc)
        sys.stdout.flush()
        answer["ms"] = (time.perf_counter() - started) * 1000
        watched = (str(config["handler"]).rpartition(".")[0], *WATCHED_MODULES)
        answer["origins"] = {
            name: getattr(sys.modules[name], "__file__", None)
            for name in watched
            if name in sys.modules
        }
        answer["calls"] = list(RECORDED)
        RECORDED.clear()
        protocol.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
