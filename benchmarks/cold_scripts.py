"""The scripts the cold-start benchmark runs, each in a fresh isolated interpreter. Every one
starts its clock after the same preamble (its path set, `json`, `os`, `sys`, `time` imported),
so what each measures is comparable with the others."""

from __future__ import annotations

# Installed before the clock starts, and never importing botocore itself (that would move
# botocore's import out of what is measured): when the function imports botocore.client, every
# client it creates is recorded, with every call it makes and the call's parameters, through
# botocore's own event hooks. The AWS floor replays exactly these.
_RECORDER = r"""
import importlib.machinery
RECORDED = {"clients": [], "calls": []}

def _encode(value):
    if isinstance(value, (bytes, bytearray)):
        import base64
        return {"__bytes__": base64.b64encode(value).decode()}
    raise TypeError(f"cannot record {type(value).__name__}")

def _record_clients_and_calls(client_module):
    create = client_module.ClientCreator.create_client
    def create_client(self, service_name, *args, **kwargs):
        client = create(self, service_name, *args, **kwargs)
        RECORDED["clients"].append(service_name)
        def before_parameter_build(params, model, **_):
            recorded = json.dumps(params, default=_encode)
            RECORDED["calls"].append([service_name, model.name, recorded])
        client.meta.events.register("before-parameter-build", before_parameter_build)
        return client
    client_module.ClientCreator.create_client = create_client

class _RecordWhenBotocoreLoads:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != "botocore.client":
            return None
        sys.meta_path.remove(_RecordWhenBotocoreLoads)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        exec_module = spec.loader.exec_module
        def exec_and_record(module):
            exec_module(module)
            _record_clients_and_calls(module)
        spec.loader.exec_module = exec_and_record
        return spec

sys.meta_path.insert(0, _RecordWhenBotocoreLoads)
"""

_PREAMBLE = r"""
import json, os, sys, time
sys.path[:0] = {paths!r}
"""

# Lambda's context object, duck-typed, and the first request's event.
_CONTEXT_AND_EVENT = r"""
class Context:
    function_name = {module!r}; function_version = "1"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    aws_request_id = "first"; log_group_name = "bench"; log_stream_name = "bench"
    def get_remaining_time_in_millis(self): return 10000

event = json.loads(os.environ["BENCH_EVENT"])
"""

# Import the handler, then serve the first request (an API Gateway HTTP API event).
FUNCTION = (
    _PREAMBLE
    + _RECORDER.replace("{", "{{").replace("}", "}}")
    + r"""
started = time.perf_counter()
import {module}
imported = time.perf_counter()

"""
    + _CONTEXT_AND_EVENT
    + r"""sys.stdout = open(os.devnull, "w")
before = time.perf_counter()
result = {module}.lambda_handler(event, Context())
served = time.perf_counter()
sys.stdout = sys.__stdout__
print(json.dumps({{
    "import_ms": (imported - started) * 1000,
    "first_request_ms": (served - before) * 1000,
    "status": result["statusCode"],
    # VmHWM: this process's own peak (ru_maxrss would carry the parent's across exec).
    "rss_mb": next(
        int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmHWM")
    ),
    "boto3": "boto3" in sys.modules,
    "clients": RECORDED["clients"],
    "calls": RECORDED["calls"],
}}))
"""
)

# A floor: `body` alone (`pass`, `import boto3`).
FLOOR = (
    _PREAMBLE
    + r"""
started = time.perf_counter()
{body}
print(json.dumps({{"ms": (time.perf_counter() - started) * 1000}}))
"""
)

# A function's AWS floor: import boto3, create the clients the function created, make the
# calls it made, with the same parameters, against the same moto. A refusal (a condition that
# no longer holds) still costs the round trip, which is what is measured.
AWS_FLOOR = (
    _PREAMBLE
    + r"""
started = time.perf_counter()
import base64
import boto3
from botocore import xform_name
from botocore.exceptions import ClientError

def decode(value):
    return base64.b64decode(value["__bytes__"]) if set(value) == {{"__bytes__"}} else value

session = boto3.session.Session()
clients = {{}}
for service in {clients!r}:
    clients.setdefault(service, []).append(session.client(service))
for service, operation, params in {calls!r}:
    try:
        call = getattr(clients[service][0], xform_name(operation))
        call(**json.loads(params, object_hook=decode))
    except ClientError:
        pass
print(json.dumps({{"ms": (time.perf_counter() - started) * 1000}}))
"""
)

# SnapStart: the function's init runs its before-snapshot hooks (not measured: a snapshot is
# made once per deploy); what is measured is what a restored container still does, its
# after-restore hooks and its first request. Lambda's own restore time is not in it.
RESTORED = (
    _PREAMBLE
    + r"""
os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"] = "snap-start"
import {module}
import snapshot_restore_py
for hook, args, kwargs in snapshot_restore_py.get_before_snapshot():
    hook(*args, **kwargs)

"""
    + _CONTEXT_AND_EVENT
    + r"""sys.stdout = open(os.devnull, "w")
started = time.perf_counter()
for hook, args, kwargs in snapshot_restore_py.get_after_restore():
    hook(*args, **kwargs)
result = {module}.lambda_handler(event, Context())
served = time.perf_counter()
sys.stdout = sys.__stdout__
print(json.dumps({{"ms": (served - started) * 1000, "status": result["statusCode"]}}))
"""
)
