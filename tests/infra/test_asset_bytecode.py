"""The code asset's bytecode: compiled by the runtime's Python when it is at hand, the same on every machine."""

from __future__ import annotations

import marshal
import shutil
import stat
import sys
from pathlib import Path

import pytest
from aws_cdk.assertions import Annotations, Match

import infra.bridge_function
from infra.asset import PACKAGE_DIR, bytecode_interpreter, compile_bytecode
from tests.conftest import PLAN_ARN
from tests.infra.conftest import synthesize

UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked


def _staged_package(root: Path) -> Path:
    shutil.copytree(PACKAGE_DIR, root / "incident_bridge", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _fake_python(tmp_path: Path, version: str) -> Path:
    script = tmp_path / f"python-{version.replace(' ', '.')}"
    script.write_text(f"#!/bin/sh\necho '{version}'\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_every_module_gets_unchecked_bytecode_compiled_as_var_task_paths(tmp_path: Path) -> None:
    # Given a staged package
    staging = _staged_package(tmp_path)

    # When its bytecode is compiled (by this interpreter, standing in for the runtime's)
    compile_bytecode(staging, Path(sys.executable))

    # Then each module has a .pyc of that interpreter, hash-based and never checked against the source (/var/task
    # is read-only and its files' times are not kept), naming the module by its path in Lambda
    modules = sorted(staging.rglob("*.py"))
    assert modules
    for module in modules:
        compiled = module.parent / "__pycache__" / f"{module.stem}.{sys.implementation.cache_tag}.pyc"
        data = compiled.read_bytes()
        assert int.from_bytes(data[4:8], "little") == UNCHECKED_HASH, compiled
        relative = module.relative_to(staging).as_posix()
        assert marshal.loads(data[16:]).co_filename == f"/var/task/{relative}"


def test_bytecode_is_the_same_wherever_it_is_compiled(tmp_path: Path) -> None:
    # Given the package staged in two different directories
    first = _staged_package(tmp_path / "first")
    second = _staged_package(tmp_path / "second")

    # When both are compiled
    compile_bytecode(first, Path(sys.executable))
    compile_bytecode(second, Path(sys.executable))

    # Then the bytes are identical, so the asset hash does not change from one synth (or machine) to the next
    first_files = {path.relative_to(first): path.read_bytes() for path in first.rglob("*.pyc")}
    second_files = {path.relative_to(second): path.read_bytes() for path in second.rglob("*.pyc")}
    assert first_files
    assert first_files == second_files


@pytest.mark.parametrize(
    ("version", "accepted"),
    [pytest.param("3 13", True, id="runtime-version"), pytest.param("3 12", False, id="other-version")],
)
def test_only_the_runtime_python_version_compiles_the_asset(tmp_path: Path, version: str, accepted: bool) -> None:
    # Given an interpreter reporting a version
    interpreter = _fake_python(tmp_path, version)

    # When it is considered for compiling the asset
    chosen = bytecode_interpreter(interpreter)

    # Then only the runtime's version (3.13) is used: Lambda ignores bytecode of any other
    assert chosen == (interpreter if accepted else None)


def test_a_missing_interpreter_means_no_bytecode(tmp_path: Path) -> None:
    # Given no interpreter at the expected place / When it is considered / Then none is used
    assert bytecode_interpreter(tmp_path / "no-such-python") is None


@pytest.mark.parametrize("found", [True, False], ids=["python-3.13-found", "not-found"])
def test_synth_says_when_the_asset_ships_without_bytecode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, found: bool
) -> None:
    # Given the runtime's Python found or not
    monkeypatch.setattr(infra.bridge_function, "bytecode_interpreter", lambda: Path("python3.13") if found else None)

    # When the stack is synthesized
    synthesized = synthesize({"responsePlanArn": PLAN_ARN}, tmp_path / "cdk.out", nag=False)

    # Then an info annotation on the function says so exactly when there is no bytecode
    infos = Annotations.from_stack(synthesized.stack).find_info("*", Match.string_like_regexp("without bytecode"))
    assert len(infos) == (0 if found else 1)
