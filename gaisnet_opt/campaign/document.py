"""Reading a campaign: a campaign document, or a bare scenario that becomes a two-domain campaign.

Relative paths in a document (its scenario, a domain's image folder, the
backbone checkpoint) are read relative to the document. A scenario given
alone (it has `nodes`) gets the default campaign around it: two domains
splitting the profile's classes in halves, the scenario's data sources
dealt to them in turn.
"""

from __future__ import annotations

from pathlib import Path

from gaisnet_opt.campaign.spec import CampaignSpec, Domain
from gaisnet_opt.io import STDIO, parse_as, parse_document, read_text
from gaisnet_opt.profile import ModelProfile
from gaisnet_opt.scenario import Scenario


def default_domains(profile: ModelProfile) -> tuple[Domain, ...]:
    """Two domains, A and B, holding the first and the second half of the profile's classes."""
    n = max(2, round(profile.units[-1].out_bytes / profile.bytes_per_value))
    return (Domain(name="A", classes=tuple(range(n // 2))), Domain(name="B", classes=tuple(range(n // 2, n))))


def read_document(path: str | Path) -> Scenario | CampaignSpec:
    """A scenario (it has `nodes`) or a campaign document with its paths made relative to it; an InputError names any field."""
    source = "<stdin>" if str(path) == STDIO else str(path)
    data = parse_document(read_text(path), source)
    if isinstance(data, dict) and "nodes" in data:
        return parse_as(Scenario, data, source)
    spec = parse_as(CampaignSpec, data, source)
    return relative_to(spec, Path(".") if str(path) == STDIO else Path(path).parent)


def load_campaign(path: str | Path) -> CampaignSpec:
    """A campaign document (JSON or YAML), or a scenario wrapped in the default campaign."""
    doc = read_document(path)
    if isinstance(doc, Scenario):
        return CampaignSpec(name=doc.name, scenario=doc, domains=default_domains(doc.profile))
    return doc


def _at(base: Path, path: str) -> str:
    return path if Path(path).is_absolute() else str(base / path)


def relative_to(spec: CampaignSpec, base: Path) -> CampaignSpec:
    """`spec` with its relative paths read from `base`."""
    domains = tuple(d if d.data == "digits" else d.model_copy(update={"data": _at(base, d.data)}) for d in spec.domains)
    validator = spec.validator
    if validator.checkpoint is not None:
        validator = validator.model_copy(update={"checkpoint": _at(base, validator.checkpoint)})
    scenario = _at(base, spec.scenario) if isinstance(spec.scenario, str) else spec.scenario
    return spec.model_copy(update={"domains": domains, "validator": validator, "scenario": scenario})
