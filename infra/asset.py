"""Builds the Lambda code asset without Docker: the package plus its configuration, as JSON.

The configuration is validated at synth (by the same model the Lambda uses) and shipped as JSON so the
function needs no YAML parser. Its dependencies (Powertools, pydantic, aws-xray-sdk) come from the public
Powertools layer and boto3 from the runtime, so nothing is pip-installed here.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from incident_bridge.config import BridgeConfig

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "lambdas" / "incident_bridge"
CONFIG_FILE_NAME = "bridge_config.json"
# Only what runs in Lambda: the CLI, the bundled example config and type markers stay out.
_LEFT_OUT = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "cli.py", "__main__.py", "defaults", "py.typed", "docs.py", "*.schema.json", "redrive.py"
)


def stage_function_code(config: BridgeConfig) -> Path:
    """A fresh directory holding `incident_bridge/` and `bridge_config.json`; its content alone decides the
    asset hash, so the same code and configuration always give the same asset."""
    staging = Path(tempfile.mkdtemp(prefix="incident-bridge-asset-"))
    # CDK copies the asset into the cloud assembly during synth; the staging copy is not needed after.
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    shutil.copytree(PACKAGE_DIR, staging / "incident_bridge", ignore=_LEFT_OUT)
    (staging / CONFIG_FILE_NAME).write_text(
        config.model_dump_json(by_alias=True, exclude_defaults=False, indent=None), encoding="utf-8"
    )
    return staging
