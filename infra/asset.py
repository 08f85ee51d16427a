"""Builds the Lambda code asset without Docker: the package plus its configuration, as JSON.

The configuration is validated at synth (by the same model the Lambda uses) and shipped as JSON so the
function needs no YAML parser. Its dependencies (Powertools, aws-xray-sdk) come from the public Powertools layer
and boto3 from the runtime, so nothing is pip-installed here.

Lambda cannot write bytecode into /var/task, so it compiles a package shipped as source on every cold start.
When the runtime's Python is at hand (`make` builds .venv-lambda with Python 3.13 where the machine has it), the
asset also carries the package's bytecode: unchecked-hash and compiled as /var/task paths, so the same sources
give the same bytes on every machine and the asset hash stays stable.
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import incident_bridge
from incident_bridge.config import BridgeConfig
from incident_bridge.quiet.intervals import zone_file

ROOT = Path(__file__).resolve().parent.parent
#: The Lambda package as imported: lambdas/incident_bridge in a checkout, or wherever the project is installed
#: (an app that embeds the IncidentBridge construct has no lambdas/ folder of its own).
PACKAGE_DIR = Path(incident_bridge.__file__).resolve().parent
CONFIG_FILE_NAME = "bridge_config.json"
#: The function's runtime version (infra.bridge_function.RUNTIME): bytecode of any other version is ignored there.
LAMBDA_PYTHON_VERSION = (3, 13)
LAMBDA_PYTHON = ROOT / ".venv-lambda" / "bin" / "python"
# Only what runs in Lambda: the CLI, the bundled example config and type markers stay out.
_LEFT_OUT = shutil.ignore_patterns(
    "__pycache__",
    "*.pyc",
    "cli",
    "__main__.py",
    "defaults",
    "py.typed",
    "docs.py",
    "*.schema.json",
    "redrive.py",
    "silence_cli.py",
    "silence_admin.py",
)


def stage_function_code(config: BridgeConfig) -> Path:
    """A fresh directory holding `incident_bridge/` and `bridge_config.json`; its content alone decides the
    asset hash, so the same code and configuration always give the same asset."""
    staging = Path(tempfile.mkdtemp(prefix="incident-bridge-asset-"))
    # CDK copies the asset into the cloud assembly during synth; the staging copy is not needed after.
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    shutil.copytree(PACKAGE_DIR, staging / "incident_bridge", ignore=_LEFT_OUT)
    stage_zones(config, staging / "incident_bridge" / "zoneinfo")
    (staging / CONFIG_FILE_NAME).write_text(json.dumps(config.to_document(), separators=(",", ":")), encoding="utf-8")
    interpreter = bytecode_interpreter()
    if interpreter is not None:
        compile_bytecode(staging, interpreter)
    return staging


def stage_zones(config: BridgeConfig, target: Path) -> None:
    """Copies the TZif file of every zone the time intervals name (UTC needs none), so the function reads them
    whether or not the runtime's image carries the IANA database. Synth validated that each exists here."""
    locations = {entry.location for named in config.time_intervals for entry in named.time_intervals}
    for name in sorted(locations - {"UTC"}):
        source = zone_file(name)
        if source is None:
            raise FileNotFoundError(f"time zone {name} is not on this machine (install the tzdata package)")
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)


def compile_bytecode(staging: Path, interpreter: Path) -> None:
    """Writes `__pycache__` beside each module of the staged package, as /var/task would hold it."""
    subprocess.run(
        [str(interpreter), "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
         "-d", "/var/task/incident_bridge", str(staging / "incident_bridge")],
        check=True,
    )  # fmt: skip


@functools.cache
def bytecode_interpreter(candidate: Path = LAMBDA_PYTHON) -> Path | None:
    """`candidate` if it runs the Lambda runtime's Python version, else None (no bytecode is shipped)."""
    try:
        answer = subprocess.run(
            [str(candidate), "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError:
        return None
    found = tuple(int(part) for part in answer.stdout.split()) if answer.returncode == 0 else ()
    return candidate if found == LAMBDA_PYTHON_VERSION else None
