"""examples/scenarios/: every file is an AWS sample from events/, copied, or changed only where derived.json says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EVENTS_DIR

ROOT = EVENTS_DIR.parent
SCENARIOS = ROOT / "examples" / "scenarios"
DERIVED: dict[str, dict[str, Any]] = json.loads((SCENARIOS / "derived.json").read_text(encoding="utf-8"))
SCENARIO_FILES = sorted(SCENARIOS.glob("*/*.json"))
SAMPLES = {path: json.loads(path.read_text(encoding="utf-8")) for path in sorted(EVENTS_DIR.glob("*.json"))}


def differences(before: Any, after: Any, path: str = "") -> Iterator[str]:
    """The paths (dotted; `.N` for list items) where two JSON documents differ. A JSON string that holds JSON (an
    SNS `Message`) is compared inside: `Records.0.Sns.Message: AlarmArn`."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                yield from differences(before.get(key), after.get(key), f"{path}.{key}" if path else key)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from differences(old, new, f"{path}.{index}")
    elif isinstance(before, str) and isinstance(after, str) and before.startswith("{") and after.startswith("{"):
        inner_before, inner_after = json.loads(before), json.loads(after)
        yield from (f"{path}: {inner}" for inner in differences(inner_before, inner_after))
    elif before != after:
        yield path


@pytest.mark.parametrize("scenario_file", SCENARIO_FILES, ids=lambda path: str(path.relative_to(SCENARIOS)))
def test_each_scenario_file_is_a_sample_or_its_documented_variant(scenario_file: Path) -> None:
    # Given a scenario file
    document = json.loads(scenario_file.read_text(encoding="utf-8"))
    name = str(scenario_file.relative_to(ROOT))

    # When it is compared with the samples
    copied_from = [path for path, sample in SAMPLES.items() if sample == document]

    # Then it is a verbatim copy of one, or derived.json names its sample and exactly the fields that differ
    if name not in DERIVED:
        assert copied_from, f"{name} is neither a copy of a sample in events/ nor listed in derived.json"
        return
    entry = DERIVED[name]
    source = ROOT / entry["from"]
    assert source in SAMPLES, entry["from"]
    changed = list(differences(SAMPLES[source], document))
    unlisted = [path for path in changed if not any(_within(path, listed) for listed in entry["changed"])]
    assert unlisted == [], f"{name} differs from {entry['from']} beyond the fields derived.json lists"
    assert all(any(_within(path, listed) for path in changed) for listed in entry["changed"]), (
        "a listed change is not made"
    )
    assert entry["why"]


def _within(path: str, listed: str) -> bool:
    return path == listed or path.startswith((f"{listed}.", f"{listed}:"))


def test_every_variant_listed_exists() -> None:
    # Given derived.json / When its files are looked up / Then each exists (no stale entry)
    assert [name for name in DERIVED if not (ROOT / name).is_file()] == []


def test_recoveries_take_the_samples_own_ok_state_later() -> None:
    # Given each recovery variant
    recoveries = {name: entry for name, entry in DERIVED.items() if name.endswith("-recovered.json")}
    assert len(recoveries) == 4

    for name, entry in recoveries.items():
        sample = SAMPLES[ROOT / entry["from"]]
        recovered = json.loads((ROOT / name).read_text(encoding="utf-8"))
        state = recovered["detail"]["state"]
        # Then it is OK with the reason of the sample's own previous OK state, after the alarm fired
        assert state["value"] == "OK"
        assert state["reason"] == sample["detail"]["previousState"]["reason"]
        assert state["timestamp"] > sample["detail"]["state"]["timestamp"]
        assert recovered["id"] != sample["id"]
