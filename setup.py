"""Package layout: the generated `meganova/` plus the hand-written `custom/` installed inside it.

The package list is computed, so a new API tag (a new `meganova/api/<tag>/`) is picked up without edits.
Everything else (name, version, dependencies) lives in pyproject.toml.
"""

from setuptools import find_packages, setup


def _packages(prefix: str, folder: str, exclude: tuple = ()) -> list:
    return [prefix] + [f"{prefix}.{name}" for name in find_packages(folder, exclude=exclude)]


setup(
    packages=(
        _packages("meganova", "meganova")
        + _packages(
            "meganova.custom",
            "custom",
            exclude=("testing", "testing.*", "cloud", "cloud.*", "agents", "agents.*", "characters", "characters.*"),
        )
        + _packages("meganova.testing", "custom/testing")
        + _packages("meganova.cloud", "custom/cloud")
        + _packages("meganova.agents", "custom/agents")
        + _packages("meganova.characters", "custom/characters")
    ),
    package_dir={
        "meganova": "meganova",
        "meganova.custom": "custom",
        "meganova.testing": "custom/testing",
        "meganova.cloud": "custom/cloud",
        "meganova.agents": "custom/agents",
        "meganova.characters": "custom/characters",
    },
)
