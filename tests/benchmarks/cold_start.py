"""Cold-start, warm-path and package-size figures for the incident-bridge Lambda (`make bench`).

A script, not a test: it prints figures and asserts nothing about time.

Cold init. Each sample is a fresh `python -c` process of the runtime's interpreter (`.venv-lambda`, Python 3.13
with only what the Lambda runtime and the Powertools layer provide, built by `make` where Python 3.13 exists;
otherwise this interpreter). The child times, with `time.perf_counter`, only the imports and client construction:
  (a) `import incident_bridge.handler` with the environment the stack deploys by default: the code is loaded
      from a directory staged by `infra.asset.stage_function_code` (the exact asset content: package, its
      bytecode when synth could compile it, JSON config), `INCIDENT_MANAGER_MODE=live` so the real `ssm-incidents`
      and `dynamodb` clients are built, and tracing as the default `tracing=active` deploys it (variables from
      `infra.settings.static_environment`). The child gets the variables the Lambda service sets
      (`LAMBDA_TASK_ROOT` = the staged dir, which is also its working directory, as /var/task is;
      `AWS_XRAY_CONTEXT_MISSING=LOG_ERROR`; `_X_AMZN_TRACE_ID` unset, as during init). No bytecode is written
      (`PYTHONDONTWRITEBYTECODE`): /var/task is read-only.
  (a+sdk) the same with `tracing=sdk`: Powertools' Tracer imports the X-Ray SDK and patches botocore.
  (b) the floor: `import boto3` and `boto3.client("ssm-incidents")`, same interpreter and environment.
Samples run alternately (a, b, a+sdk, a', c, a, b, ...); a' is (a) with the asset the other way (without its
bytecode when the asset carries it, with bytecode when it does not) and c the design's lower bound (Powertools
Logger and Metrics plus both clients and the GC pause, no bridge code), for information.
"""

from __future__ import annotations

import gc
import importlib.metadata
import io
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LAMBDAS = ROOT / "lambdas"
ALARM_EVENT = ROOT / "events" / "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"

PAIRS = 30  # fresh processes per arm: the machine is shared, and 15 left the median swinging by 0.05
WARM_EVENTS = 2000
WARM_UP = 50
TRACEMALLOC_EVENTS = 300
PHASE_RUNS = 5
GOAL = 1.15
REGION = "us-east-1"
DLQ_URL = f"https://sqs.{REGION}.amazonaws.com/123456789012/dlq"
# A sampled trace header, as Lambda sets per invocation (only the "as deployed" warm run uses one).
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

# The distributions the public Powertools layer supplies (Powertools with its tracer and parser extras);
# boto3/botocore come from the Lambda runtime.
LAYER_DISTRIBUTIONS = (
    "aws-lambda-powertools",
    "aws-xray-sdk",
    "wrapt",
    "pydantic",
    "pydantic-core",
    "annotated-types",
    "typing-extensions",
    "typing-inspection",
)
RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six")

_RESULT = re.compile(r"^BENCH_INIT_S=([0-9.eE+-]+)$", re.MULTILINE)
_CHECK = re.compile(r"^BENCH_CHECK (.*)$", re.MULTILINE)

HANDLER_CHILD = """\
import time
_t0 = time.perf_counter()
import incident_bridge.handler as _handler
_t1 = time.perf_counter()
import sys
print(f"BENCH_INIT_S={_t1 - _t0!r}", file=sys.stderr)
if CHECK:
    from incident_bridge.adapters.dead_letters import SqsDeadLetters
    from incident_bridge.adapters.incident_manager import Boto3IncidentManager
    _rt = _handler.RUNTIME
    _facts = {
        "handler_file": _handler.__file__,
        "tracer_enabled": not _handler.tracer.disabled,
        "xray_sdk_imported": "aws_xray_sdk.core" in sys.modules,
        "pydantic_imported": "pydantic" in sys.modules,
        "xray_patched": sorted(m.rsplit(".", 1)[0].rsplit(".", 1)[-1] for m in sys.modules
                               if m.startswith("aws_xray_sdk.ext.") and m.endswith(".patch")),
        # The bridge records its calls around the adapter (recording.py): the adapter is its `inner`.
        "live_incident_manager": isinstance(getattr(_rt.bridge._lifecycle._incidents, "inner", None),
                                            Boto3IncidentManager),
        "sqs_dead_letters": isinstance(_rt.dead_letters, SqsDeadLetters),
        "metrics_enabled": _rt.emit_metrics,
        "modules_loaded": len(sys.modules),
    }
    import json
    print("BENCH_CHECK " + json.dumps(_facts), file=sys.stderr)
"""

FLOOR_CHILD = """\
import time
_t0 = time.perf_counter()
import boto3
boto3.client("ssm-incidents")
_t1 = time.perf_counter()
import sys
print(f"BENCH_INIT_S={_t1 - _t0!r}", file=sys.stderr)
"""

FLOOR_IMPORT = 'import boto3; boto3.client("ssm-incidents")'

# What any bridge built like this one pays before its own code: Powertools' Logger and Metrics and the two clients
# (Incident Manager, and DynamoDB for the group state), with handler.py's garbage-collection pause. No pydantic,
# no bridge modules.
SKELETON_CHILD = """\
import time
_t0 = time.perf_counter()
import gc
gc.disable()
from aws_lambda_powertools import Logger, Metrics
Logger()
Metrics()
import boto3
boto3.client("ssm-incidents")
boto3.client("dynamodb")
_t1 = time.perf_counter()
import sys
print(f"BENCH_INIT_S={_t1 - _t0!r}", file=sys.stderr)
"""

# Replicates the module body of incident_bridge/handler.py step by step, timing each step.
PHASES_CHILD = """\
import gc
gc.disable()  # as handler.py does for the cold start
import time, sys
_marks = []
def _mark(name):
    _marks.append((name, time.perf_counter()))
_mark("start")
from aws_lambda_powertools import Logger, Metrics
_mark("import aws_lambda_powertools (Logger, Metrics)")
Logger()
Metrics()
_mark("Logger() + Metrics()")
from incident_bridge.tracing import build_tracer, xray_sdk_enabled
build_tracer()
_mark("build_tracer(): " + ("import aws_xray_sdk.core + patch botocore" if xray_sdk_enabled() else
      "no X-Ray SDK (tracing=active)"))
from incident_bridge.runtime import Runtime, _group_store, _sqs_dead_letters
from incident_bridge.settings import Settings
_mark("import incident_bridge.runtime + settings (the bridge's modules)")
from incident_bridge.config import load_config
_settings = Settings.from_environment()
load_config(_settings.config_file)
_mark("Settings.from_environment() + load_config()")
from incident_bridge.adapters.incident_manager import create_client
_mark("import incident_bridge.adapters.incident_manager (botocore)")
create_client()
_mark("create_client(): import boto3 + ssm-incidents client")
_group_store(_settings)
_mark("dynamodb client for the group table")
_sqs_dead_letters(_settings)
_mark("dead-letter adapter (its sqs client is created on first use)")
import json
print("BENCH_PHASES " + json.dumps([(n, t - _marks[i][1]) for i, (n, t) in enumerate(_marks[1:])]), file=sys.stderr)
"""


# ---------------------------------------------------------------- environment


def _base_env() -> dict[str, str]:
    """A clean environment: nothing from the caller's AWS profile or Powertools settings leaks in."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(
        {
            "PYTHONDONTWRITEBYTECODE": "1",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AWS_SESSION_TOKEN": "bench",
            "AWS_CONFIG_FILE": "/nonexistent/aws-config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env


def deployed_env(task_root: Path, tracing: str = "active") -> dict[str, str]:
    """What infra/bridge_function.py sets, plus what the Lambda service sets for an ACTIVE-traced function."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from infra.settings import TracingMode, static_environment

    env = _base_env()
    env.update(
        {
            "PYTHONPATH": str(task_root),
            # From the stack (BridgeFunction.environment); the config path is relative to /var/task.
            "BRIDGE_CONFIG_FILE": "bridge_config.json",
            "DEAD_LETTER_QUEUE_URL": DLQ_URL,
            "STATE_TABLE_NAME": "incident-bridge-groups",
            **static_environment(TracingMode(tracing)),
            # Not set by the stack: live is the default, set explicitly so the real clients are built.
            "INCIDENT_MANAGER_MODE": "live",
            # Set by the Lambda service. LAMBDA_TASK_ROOT is what switches Powertools' Tracer on (when the stack
            # leaves POWERTOOLS_TRACE_DISABLED false, as tracing=sdk does).
            "LAMBDA_TASK_ROOT": str(task_root),
            "AWS_LAMBDA_FUNCTION_NAME": "IncidentBridge-Function",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        }
    )
    return env


def stage_asset() -> Path:
    """The asset exactly as `cdk synth` builds it, for the example plan (`-c responsePlanArn=...`)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from infra.asset import stage_function_code
    from infra.settings import EXAMPLE_PLAN, RESPONSE_PLAN_ARN_KEY, deploy_settings

    return stage_function_code(deploy_settings({RESPONSE_PLAN_ARN_KEY: EXAMPLE_PLAN}).config)


# ---------------------------------------------------------------- helpers


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def p90(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def kib(size: int) -> str:
    return f"{size:>11,} B ({size / 1024:,.0f} KiB)"


def section(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


def child_python() -> str:
    """The Lambda runtime's Python (.venv-lambda, built by `make` where Python 3.13 exists), else this one."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from infra.asset import bytecode_interpreter

    interpreter = bytecode_interpreter()
    return str(interpreter) if interpreter is not None else sys.executable


def run_child(code: str, env: Mapping[str, str], cwd: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """Runs `code` in a fresh process of the interpreter the cold-start figures are measured on."""
    result = subprocess.run(
        [child_python(), *flags, "-c", code], env=dict(env), cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"benchmark child failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


# ---------------------------------------------------------------- machine


def load_average() -> str:
    one, five, _ = os.getloadavg()
    usable = len(os.sched_getaffinity(0))
    busy = " (BUSY: other work competes for the CPUs; expect noisy, inflated figures)" if one > usable * 0.75 else ""
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {usable} CPUs{busy}"


def print_machine() -> None:
    section("machine")
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0))
    print(f"platform: {platform.platform()}")
    print(f"cpu: {cpu}; nproc: {usable} (os.cpu_count {os.cpu_count()})")
    print(f"python: {platform.python_implementation()} {platform.python_version()} ({sys.executable})")
    cold_python = child_python()
    if cold_python != sys.executable:
        version = subprocess.run([cold_python, "--version"], capture_output=True, text=True, check=False).stdout
        print(f"cold-init, phases and import figures: {version.strip()} ({cold_python}), the function's runtime")
        print("  version with only the packages the runtime and the Powertools layer provide (requirements-lambda.txt)")
    else:
        print("cold-init figures: this interpreter (Python 3.13, the function's runtime, was not found; see `make`)")
    print(f"load average at start: {load_average()}")
    print("note: the function runs python3.13 on x86_64 with 256 MB (a fractional vCPU); absolute times differ,")
    print("      the ratio against the floor is the figure to compare.")


# ---------------------------------------------------------------- sizes


def dir_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def zip_size(root: Path) -> tuple[int, int, int]:
    """(zip bytes, file count, unzipped bytes) of `root`, deflated in memory as CDK zips an asset."""
    buffer = io.BytesIO()
    files = dir_files(root)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(root).as_posix())
    return len(buffer.getvalue()), len(files), sum(path.stat().st_size for path in files)


def distribution_size(name: str) -> tuple[int, int, int] | None:
    """(bytes without .pyc, .pyc bytes, files) installed for one distribution, or None if not installed."""
    try:
        distribution = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None
    source = compiled = count = 0
    for entry in distribution.files or ():
        path = Path(str(entry.locate()))
        if not path.is_file():
            continue
        count += 1
        if path.suffix == ".pyc":
            compiled += path.stat().st_size
        else:
            source += path.stat().st_size
    return source, compiled, count


def print_sizes(staging: Path) -> None:
    section("package size")
    zipped, count, unzipped = zip_size(staging)
    print("code asset (staged by infra.asset: incident_bridge/ + bridge_config.json), deflated zip:")
    print(f"  zip {kib(zipped)}, {count} files, unzipped {kib(unzipped)}")
    print("layer (approximation: the same distributions installed in the venv, not the layer zip itself):")
    totals = [0, 0, 0]
    for name in LAYER_DISTRIBUTIONS:
        size = distribution_size(name)
        if size is None:
            print(f"  {name:<22} not installed")
            continue
        source, compiled, files = size
        totals = [totals[0] + source, totals[1] + compiled, totals[2] + files]
        version = importlib.metadata.version(name)
        print(f"  {name + ' ' + version:<30} {source / 1024:>8,.0f} KiB (+{compiled / 1024:,.0f} KiB .pyc)")
    print(f"  total {kib(totals[0])} without .pyc, {kib(totals[0] + totals[1])} with .pyc, {totals[2]} files")
    runtime = [size for name in RUNTIME_DISTRIBUTIONS if (size := distribution_size(name)) is not None]
    runtime_bytes = sum(source for source, _, _ in runtime)
    print(f"runtime-supplied (boto3, botocore and their deps; not part of the deployment): {kib(runtime_bytes)}")
    print(f"loaded at runtime from asset + layer: ~{(unzipped + totals[0] + totals[1]) / 1024 / 1024:.1f} MiB unzipped")


# ---------------------------------------------------------------- cold init


@dataclass
class Samples:
    init: list[float]
    wall: list[float]


def _handler_facts(env: Mapping[str, str], staging: Path) -> dict[str, Any]:
    check = run_child("CHECK = True\n" + HANDLER_CHILD, env, staging)
    facts_match = _CHECK.search(check.stderr)
    if facts_match is None:
        raise SystemExit(f"handler child printed no facts:\n{check.stderr[-3000:]}")
    facts: dict[str, Any] = json.loads(facts_match.group(1))
    if not str(facts["handler_file"]).startswith(str(staging)):
        raise SystemExit(f"handler loaded from {facts['handler_file']}, not from the staged asset {staging}")
    return facts


def cold_init(staging: Path, variant: Path) -> tuple[dict[str, Samples], dict[str, dict[str, Any]]]:
    section(f"cold init: {PAIRS} alternating fresh processes per arm")
    env_a = deployed_env(staging)
    env_sdk = deployed_env(staging, tracing="sdk")
    facts = {"a": _handler_facts(env_a, staging), "a+sdk": _handler_facts(env_sdk, staging)}
    handler = "CHECK = False\n" + HANDLER_CHILD
    arms: list[tuple[str, str, Mapping[str, str], Path]] = [
        ("a", handler, env_a, staging),
        ("b", FLOOR_CHILD, env_a, staging),
        ("a+sdk", handler, env_sdk, staging),
        ("a'", handler, deployed_env(variant), variant),
        ("c", SKELETON_CHILD, env_a, staging),
    ]
    samples = {name: Samples([], []) for name, _, _, _ in arms}
    for _ in range(PAIRS):
        for name, code, env, cwd in arms:
            start = time.perf_counter()
            result = run_child(code, env, cwd)
            wall = time.perf_counter() - start
            match = _RESULT.search(result.stderr)
            if match is None:
                raise SystemExit(f"child printed no timing:\n{result.stderr[-3000:]}")
            samples[name].init.append(float(match.group(1)))
            samples[name].wall.append(wall)
    return samples, facts


def _describe_tracer(facts: Mapping[str, Any]) -> str:
    if not facts["tracer_enabled"]:
        return "Tracer disabled, X-Ray SDK not imported" if not facts["xray_sdk_imported"] else "Tracer disabled"
    return f"Tracer ENABLED (X-Ray patch modules loaded: {', '.join(facts['xray_patched'])})"


def print_cold_init(samples: Mapping[str, Samples], facts: Mapping[str, Mapping[str, Any]], variant_label: str) -> None:
    a, b = samples["a"], samples["b"]
    deployed = facts["a"]
    print(
        "(a) handler as deployed by default (tracing=active): live clients (ssm-incidents + dynamodb; sqs on first"
        f" rejection),\n    {_describe_tracer(deployed)}, Lambda active tracing as the stack sets it,"
    )
    print(
        f"    metrics {'enabled' if deployed['metrics_enabled'] else 'disabled'}, live Incident Manager "
        f"{deployed['live_incident_manager']}, SQS dead letters {deployed['sqs_dead_letters']}, "
        f"{deployed['modules_loaded']} modules loaded"
    )
    asset = Path(str(deployed["handler_file"])).parent.parent
    bytecode = "with its bytecode" if any(asset.rglob("*.pyc")) else "source only"
    print(f"    code from {asset} (the staged asset, {bytecode}), no .pyc written")
    print(f"    pydantic imported: {deployed['pydantic_imported']}")
    print(f"(a+sdk) the same deployed with tracing=sdk: {_describe_tracer(facts['a+sdk'])}")
    print("(b) floor: import boto3 + boto3.client('ssm-incidents')")
    print(f"(a') = (a) with the asset {variant_label}, for information only")
    print("(c) = Powertools Logger + Metrics, the ssm-incidents and dynamodb clients and the GC pause, nothing else:")
    print("      the least a bridge with this design pays, without pydantic or bridge code, for information only")
    print(f"{'':<7}{'init median':>14}{'init p90':>12}{'init min':>12}{'wall median':>14}{'wall p90':>12}")
    for name, arm in samples.items():
        print(
            f"{name:<7}{ms(median(arm.init)):>14}{ms(p90(arm.init)):>12}{ms(min(arm.init)):>12}"
            f"{ms(median(arm.wall)):>14}{ms(p90(arm.wall)):>12}"
        )
    ratio = median(a.init) / median(b.init)
    print(f"wall ratio (whole process, incl. interpreter start): {median(a.wall) / median(b.wall):.2f}")
    print(f"ratio of minimums a/b (least disturbed by other load): {min(a.init) / min(b.init):.2f}")
    other = samples["a'"]
    print(f"ratio a'/b (medians), the asset {variant_label}: {median(other.init) / median(b.init):.2f}")
    print(f"with tracing=sdk, ratio (a+sdk)/b (medians): {median(samples['a+sdk'].init) / median(b.init):.2f}")
    print(f"lower bound of this design, ratio c/b (medians): {median(samples['c'].init) / median(b.init):.2f}")
    print(f"cold-init ratio: {ratio:.2f}")
    verdict = "MET" if ratio <= GOAL else "NOT MET"
    print(
        f"verdict: goal ratio <= {GOAL:.2f} {verdict} ({ratio:.2f}; the handler adds "
        f"{(median(a.init) - median(b.init)) * 1000:.0f} ms over the floor's {median(b.init) * 1000:.0f} ms)"
    )


# ---------------------------------------------------------------- import breakdown


@dataclass(frozen=True)
class ImportRow:
    module: str
    self_us: int
    cumulative_us: int
    depth: int


def import_times(stderr: str) -> list[ImportRow]:
    rows: list[ImportRow] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|", 2)
        depth = (len(name) - len(name.lstrip(" "))) // 2
        rows.append(ImportRow(name.strip(), int(self_us), int(cumulative_us), depth))
    return rows


def print_phases(staging: Path) -> None:
    section(f"where (a)'s time goes: handler.py's module body step by step (median of {PHASE_RUNS} fresh processes)")
    runs: dict[str, list[float]] = defaultdict(list)
    order: list[str] = []
    for _ in range(PHASE_RUNS):
        result = run_child(PHASES_CHILD, deployed_env(staging), staging)
        match = re.search(r"^BENCH_PHASES (.*)$", result.stderr, re.MULTILINE)
        if match is None:
            raise SystemExit(f"phases child printed nothing:\n{result.stderr[-3000:]}")
        for name, seconds in json.loads(match.group(1)):
            if name not in runs:
                order.append(name)
            runs[name].append(float(seconds))
    total = sum(median(runs[name]) for name in order)
    for name in order:
        print(f"  {ms(median(runs[name]))}  {name}")
    print(f"  {ms(total)}  total (sum of medians)")


def print_import_breakdown(staging: Path) -> None:
    section("import breakdown: python -X importtime, one fresh process each, modules the floor does not import")
    env = deployed_env(staging)
    handler_rows = import_times(run_child("import incident_bridge.handler", env, staging, "-X", "importtime").stderr)
    floor_rows = import_times(run_child(FLOOR_IMPORT, env, staging, "-X", "importtime").stderr)
    floor = {row.module for row in floor_rows}
    extra = [row for row in handler_rows if row.module not in floor]
    print(
        f"handler imports {len(handler_rows)} modules, the floor {len(floor_rows)}; {len(extra)} are extra, "
        f"costing {sum(r.self_us for r in extra) / 1000:.1f} ms self time under importtime"
    )
    print("(self time includes module-body work: handler.py's self time holds Logger/Metrics/Tracer/clients")
    print(" construction that is not itself an import; -X importtime inflates every figure somewhat)")
    print("top 12 extra modules by cumulative time:")
    print(f"  {'cumul':>9} {'self':>9}  module")
    for row in sorted(extra, key=lambda r: r.cumulative_us, reverse=True)[:12]:
        indent = "  " * min(row.depth, 6)
        print(f"  {row.cumulative_us / 1000:7.1f}ms {row.self_us / 1000:7.1f}ms  {indent}{row.module}")
    print("top 12 extra modules by self time:")
    for row in sorted(extra, key=lambda r: r.self_us, reverse=True)[:12]:
        print(f"  {row.cumulative_us / 1000:7.1f}ms {row.self_us / 1000:7.1f}ms  {row.module}")
    by_package: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in extra:
        top = row.module.split(".", 1)[0]
        by_package[top][0] += row.self_us
        by_package[top][1] += 1
    print("extra self time by top-level package:")
    for top, (self_us, modules) in sorted(by_package.items(), key=lambda item: item[1][0], reverse=True)[:14]:
        print(f"  {self_us / 1000:7.1f}ms  {top} ({modules} modules)")


# ---------------------------------------------------------------- warm path


WARM_VARIANTS: dict[str, str] = {
    "minimal": "POWERTOOLS_TRACE_DISABLED=true, POWERTOOLS_METRICS_DISABLED=true, INFO logs to /dev/null",
    "as-deployed": "tracing=active (no X-Ray SDK in the function), EMF metrics + INFO logs to /dev/null",
    "tracing=sdk": "X-Ray SDK on (sampled trace header, segments sent over UDP to a port nobody listens on), "
    "EMF metrics + INFO logs to /dev/null",
}


def warm_env(staging: Path, variant: str) -> dict[str, str]:
    env = deployed_env(staging, tracing="sdk" if variant == "tracing=sdk" else "active")
    # The loop needs incident_bridge.cli (left out of the asset), so the warm child runs the source tree;
    # the modules it runs are the same files the asset holds.
    env["PYTHONPATH"] = str(LAMBDAS)
    env["BRIDGE_CONFIG_FILE"] = str(staging / "bridge_config.json")
    env["INCIDENT_MANAGER_MODE"] = "dry-run"
    env["_X_AMZN_TRACE_ID"] = TRACE_HEADER  # Lambda sets it per invocation when the function is traced
    if variant == "minimal":
        env["POWERTOOLS_METRICS_DISABLED"] = "true"
    return env


def _short(filename: str) -> str:
    for marker in ("site-packages/", "lambdas/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def warm_child(output: Path) -> None:
    """Runs in the child: imports the handler with the environment it was given and times the warm loop."""
    from incident_bridge import handler
    from incident_bridge.cli import LambdaContextStandIn, sqs_batch_of_one
    from incident_bridge.outcome import OutcomeKind

    rss_after_import_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    body = ALARM_EVENT.read_text(encoding="utf-8")
    context = LambdaContextStandIn()
    # Each iteration is a different alarm (name, ARN, event id), built before timing: the same event again would
    # be recognized as a redelivery and measure only that shortcut.
    total = WARM_UP + WARM_EVENTS + TRACEMALLOC_EVENTS
    events = iter(
        [
            sqs_batch_of_one(
                body.replace("ServerCpuTooHigh", f"ServerCpuTooHigh-{n}").replace(
                    "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92", f"bench-event-{n}"
                ),
                f"bench-{n}",
            )
            for n in range(total)
        ]
    )
    failures = 0

    def invoke() -> None:
        nonlocal failures
        response = handler.lambda_handler(next(events), context)
        if response.get("batchItemFailures"):
            failures += 1

    for _ in range(WARM_UP):
        invoke()
    outcome = handler.RUNTIME.outcomes[-1]
    if outcome.kind is not OutcomeKind.STARTED:
        raise SystemExit(f"the warm-path event did not start an incident: {outcome.kind.value}: {outcome.reason}")
    per_event: list[float] = []
    gc.collect()
    clock = time.perf_counter
    start = clock()
    for _ in range(WARM_EVENTS):
        before = clock()
        invoke()
        per_event.append(clock() - before)
    elapsed = clock() - start
    gc.collect()
    tracemalloc.start()
    baseline, _ = tracemalloc.get_traced_memory()
    before_loop = tracemalloc.take_snapshot()
    for _ in range(TRACEMALLOC_EVENTS):
        invoke()
    current, peak = tracemalloc.get_traced_memory()
    after_loop = tracemalloc.take_snapshot()
    tracemalloc.stop()
    retained_by = [
        f"{stat.size_diff / TRACEMALLOC_EVENTS:,.0f} B/event at {_short(stat.traceback[0].filename)}:"
        f"{stat.traceback[0].lineno}"
        for stat in after_loop.compare_to(before_loop, "lineno")[:3]
        if stat.size_diff > 0
    ]
    result = {
        "elapsed": elapsed,
        "per_event": per_event,
        "failures": failures,
        "outcome": outcome.kind.value,
        "rss_after_import_kib": rss_after_import_kib,
        "rss_peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "tracemalloc_peak": peak - baseline,
        "tracemalloc_retained_per_event": (current - baseline) / TRACEMALLOC_EVENTS,
        "retained_by": retained_by,
    }
    output.write_text(json.dumps(result), encoding="utf-8")


def print_warm(staging: Path) -> None:
    section(f"warm path: {WARM_EVENTS} single-record SQS batches after {WARM_UP} warm-up, in one process")
    print(f"event: {ALARM_EVENT.name} (single-metric ALARM) through handler.lambda_handler,")
    print("INCIDENT_MANAGER_MODE=dry-run (requests validated against botocore's model, no network)")
    for variant, description in WARM_VARIANTS.items():
        with tempfile.TemporaryDirectory(prefix="incident-bridge-warm-") as scratch:
            output = Path(scratch) / "result.json"
            result = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--warm-child", str(output)],
                env=warm_env(staging, variant),
                cwd=staging,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
            if result.returncode != 0 or not output.exists():
                raise SystemExit(f"warm child ({variant}) failed:\n{result.stderr[-3000:]}")
            data: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
        per_event = [float(value) for value in data["per_event"]]
        rate = WARM_EVENTS / float(data["elapsed"])
        print(f"[{variant}] {description}")
        print(
            f"  {rate:,.0f} events/s, {1e6 / rate:,.0f} µs/event mean "
            f"(median {median(per_event) * 1e6:,.0f} µs, p90 {p90(per_event) * 1e6:,.0f} µs, "
            f"max {max(per_event) * 1e6:,.0f} µs); outcome {data['outcome']}, {data['failures']} batch failures"
        )
        print(
            f"  peak RSS {data['rss_peak_kib'] / 1024:.1f} MiB (after import {data['rss_after_import_kib'] / 1024:.1f}"
            f" MiB); tracemalloc over {TRACEMALLOC_EVENTS} more events: peak +{data['tracemalloc_peak'] / 1024:.0f} "
            f"KiB, retained {data['tracemalloc_retained_per_event']:,.0f} B/event"
        )
        print(f"  largest retained: {'; '.join(data['retained_by']) or 'nothing'}")


# ---------------------------------------------------------------- main


def other_variant(staging: Path) -> tuple[Path, str]:
    """A copy of the asset as it would be the other way: without bytecode if the asset has it, else with it."""
    target = Path(tempfile.mkdtemp(prefix="incident-bridge-asset-variant-"))
    shutil.copytree(staging, target, dirs_exist_ok=True)
    caches = list(target.rglob("__pycache__"))
    if caches:
        for cache in caches:
            shutil.rmtree(cache)
        return target, "without bytecode (as synthesized where Python 3.13 is not found)"
    subprocess.run(
        [child_python(), "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(target)], check=True
    )
    return target, "with bytecode (compileall, unchecked-hash)"


def main() -> None:
    started = time.perf_counter()
    print("incident-bridge benchmark: cold init, import breakdown, warm path, package size")
    print_machine()
    staging = stage_asset()
    print_sizes(staging)
    variant, variant_label = other_variant(staging)
    try:
        steps: list[Callable[[], None]] = [
            lambda: print_cold_init(*cold_init(staging, variant), variant_label),
            lambda: print_phases(staging),
            lambda: print_import_breakdown(staging),
            lambda: print_warm(staging),
        ]
        for step in steps:
            step()
    finally:
        shutil.rmtree(variant, ignore_errors=True)
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s; load average at end: {load_average()})")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--warm-child":
        warm_child(Path(sys.argv[2]))
    else:
        main()
