"""Built-in model profiles shipped with the package, so solving needs no torch."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from gaisnet_opt.errors import InputError
from gaisnet_opt.io import load, parse_as, parse_document
from gaisnet_opt.profile import ModelProfile

DEFAULT_PROFILE = "vit_base_patch16_224-vpt50deep-c102"
"""The paper's case: ViT-B/16 with 50 deep prompts on Flowers-102."""


def builtin_profiles() -> list[str]:
    """Names of the profiles shipped in gaisnet_opt/data/profiles/."""
    folder = resources.files("gaisnet_opt") / "data" / "profiles"
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


def load_profile(name_or_path: str | Path = DEFAULT_PROFILE) -> ModelProfile:
    """A built-in profile by name, or a profile JSON/YAML file by path."""
    name = str(name_or_path)
    if name in builtin_profiles():
        text = (resources.files("gaisnet_opt") / "data" / "profiles" / f"{name}.json").read_text(encoding="utf-8")
        return parse_as(ModelProfile, parse_document(text, name), name)
    if Path(name).exists() or name == "-":
        return load(ModelProfile, name)
    raise InputError("profile", [("profile", f"'{name}' is neither a built-in profile ({', '.join(builtin_profiles())}) nor a file")])
