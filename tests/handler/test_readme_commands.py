"""The README's commands, run from the README's own code blocks, so the README cannot drift from the tool.

`console` blocks hold `$ command` lines, each followed by its exact output; `bash` blocks hold commands whose
output is not shown. Every `incident-bridge` (or `python -m incident_bridge`) command of either kind runs here in
a fresh process from the repository root, as a newcomer would run it after `make demo`, with no AWS credentials:
a console block's output must match exactly; a bash block's command must end with a documented exit code and no
traceback, and a command that calls AWS must say that credentials are missing.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import EVENTS_DIR

ROOT = EVENTS_DIR.parent
README = ROOT / "README.md"
VENV_BIN = ROOT / ".venv" / "bin"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
#: `NAME=value` prefixes, then the program.
_PROGRAM = re.compile(r"^(?:[A-Z_]+=\S+\s+)*(\S+)(?:\s+(-m\s+\S+))?")


@dataclass(frozen=True)
class Documented:
    command: str
    #: The exact output a console block shows, or None for a bash block's command.
    output: str | None

    @property
    def calls_aws(self) -> bool:
        return " --live" in self.command or " redrive " in self.command


def is_ours(command: str) -> bool:
    match = _PROGRAM.match(command)
    if match is None:
        return False
    program, module = match.group(1), match.group(2)
    return program.endswith("incident-bridge") or (program.endswith("python") and module == "-m incident_bridge")


def documented_commands(text: str) -> list[Documented]:
    commands: list[Documented] = []
    for language, body in _FENCE.findall(text):
        if language == "console":
            for chunk in re.split(r"^\$ ", body, flags=re.MULTILINE)[1:]:
                command, _, output = chunk.partition("\n")
                if is_ours(command):
                    commands.append(Documented(command, output))
        elif language == "bash":
            for line in body.replace("\\\n", " ").splitlines():
                if is_ours(line.strip()):
                    commands.append(Documented(line.strip(), None))
    return commands


COMMANDS = documented_commands(README.read_text(encoding="utf-8"))


def run(command: str, home: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "NO_COLOR": "1",
        "AWS_CONFIG_FILE": str(home / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return subprocess.run(
        ["bash", "-c", command],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_readme_documents_the_commands_this_test_runs() -> None:
    # Given the README / When its code blocks are read / Then they hold the commands a newcomer meets
    commands = [documented.command for documented in COMMANDS]
    assert len(commands) >= 12
    assert any(command.startswith(".venv/bin/python -m incident_bridge invoke ") for command in commands)
    assert any("examples/scenarios/auto-resolve/bridge.yaml" in command for command in commands)
    assert any(command.startswith("incident-bridge routes test ") for command in commands)
    assert any(command.startswith("incident-bridge config check ") for command in commands)
    assert any(" --explain " in command for command in commands)


@pytest.mark.parametrize("documented", COMMANDS, ids=lambda documented: documented.command[:90])
def test_a_readme_command_does_what_the_readme_says(documented: Documented, tmp_path: Path) -> None:
    # Given a command from the README, as written there
    # When it runs from the repository root, without AWS credentials
    result = run(documented.command, tmp_path)

    # Then a console block's output is exactly what the README shows
    if documented.output is not None:
        assert result.stdout == documented.output
    # And any command ends with a documented exit code, without a traceback
    assert result.returncode in (0, 1, 2), result.stdout
    assert "Traceback" not in result.stdout
    assert result.stdout.strip()
    # And one that calls AWS stops before any call, saying what is missing
    if documented.calls_aws:
        assert result.returncode == 2
        assert re.search(r"no AWS credentials found|cannot read the AWS configuration", result.stdout), result.stdout


def help_examples() -> list[str]:
    from incident_bridge.cli import EXAMPLES

    return [line.strip() for line in EXAMPLES.splitlines()[1:]]


@pytest.mark.parametrize("command", help_examples())
def test_each_example_of_the_help_runs(command: str, tmp_path: Path) -> None:
    # Given an example `incident-bridge --help` shows / When it runs from the repository root
    result = run(command, tmp_path)

    # Then it works on the repository's files: exit 0, or 1 where the example includes a rejected event
    assert result.returncode in (0, 1), result.stdout
    assert "Traceback" not in result.stdout
