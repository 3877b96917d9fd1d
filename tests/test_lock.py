"""The installed packages are exactly the locked ones (requirements/*.lock), and the locks cover pyproject."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "requirements"


def _pins(name: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (LOCKS / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            pins.update(_pins(line[3:].strip()))
            continue
        package, _, version = line.partition("==")
        assert version, f"{name}: {line!r} is not pinned with =="
        pins[canonicalize_name(package)] = version
    return pins


@pytest.mark.parametrize("lock", ["serve.lock", "dev.lock"])
def test_installed_versions_are_the_locked_ones(lock: str) -> None:
    wrong = {}
    for package, version in _pins(lock).items():
        try:
            installed = metadata.version(package)
        except metadata.PackageNotFoundError:
            installed = "missing"
        if installed != version:
            wrong[package] = f"locked {version}, installed {installed}"
    assert not wrong, f"the environment differs from requirements/{lock} (run make test to reinstall): {wrong}"


def test_every_declared_dependency_is_locked_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for lock, declared in (
        ("serve.lock", project["dependencies"]),
        ("dev.lock", project["optional-dependencies"]["dev"]),
        ("dev.lock", project["optional-dependencies"]["grpc"]),
    ):
        pins = _pins(lock)
        for text in declared:
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            assert name in pins, f"{requirement.name} is declared in pyproject.toml but not pinned in {lock}"
            assert requirement.specifier.contains(pins[name], prereleases=True), (
                f"{lock} pins {requirement.name}=={pins[name]} outside pyproject's {requirement.specifier}"
            )


def test_serving_lock_holds_no_test_tools() -> None:
    assert not {"pytest", "hypothesis", "mypy", "ruff", "schemathesis"} & set(_pins("serve.lock"))
