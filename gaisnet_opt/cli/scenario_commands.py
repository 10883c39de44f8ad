"""`generate` and `schema`: making scenarios and describing every document format."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer
from pydantic import BaseModel

from gaisnet_opt.cli.common import reports_bad_input
from gaisnet_opt.errors import InputError
from gaisnet_opt.generator import MAX_CLIENTS, MIN_CLIENTS, generate
from gaisnet_opt.io import save, write_text
from gaisnet_opt.plan import Plan
from gaisnet_opt.profile import ModelProfile
from gaisnet_opt.profile_catalog import DEFAULT_PROFILE, load_profile
from gaisnet_opt.result import SolveResult
from gaisnet_opt.scenario import FinetuneService, Scenario, Training


class Document(str, Enum):
    scenario = "scenario"
    plan = "plan"
    profile = "profile"
    result = "result"


SCHEMAS: dict[Document, type[BaseModel]] = {Document.scenario: Scenario, Document.plan: Plan, Document.profile: ModelProfile, Document.result: SolveResult}


@reports_bad_input
def generate_command(
    clients: Annotated[int, typer.Option(help=f"number of clients ({MIN_CLIENTS}..{MAX_CLIENTS})")] = 20,
    seed: Annotated[int, typer.Option(help="random seed: same seed, same scenario")] = 0,
    output: Annotated[str, typer.Option("-o", "--output", help="file (.json/.yaml) or - for stdout")] = "-",
    profile: Annotated[str, typer.Option(help="built-in profile name or profile file")] = DEFAULT_PROFILE,
    homogeneous: Annotated[bool, typer.Option(help="all clients phones instead of a device mix")] = False,
    source_fraction: Annotated[float, typer.Option(help="share of clients holding training data")] = 0.3,
    request_fraction: Annotated[float, typer.Option(help="share of clients raising an inference request")] = 0.1,
    batch_size: Annotated[int, typer.Option(help="batch size B")] = 16,
    local_iters: Annotated[int, typer.Option(help="local iterations I per round")] = 10,
    optimizer: Annotated[str, typer.Option(help="sgd | sgdm | adam")] = "adam",
    min_clusters: Annotated[int, typer.Option(help="fine-tuning clusters at least")] = 1,
    max_clusters: Annotated[int | None, typer.Option(help="fine-tuning clusters at most")] = None,
    deadline: Annotated[float | None, typer.Option(help="round deadline, s")] = None,
    edge_slots: Annotated[int, typer.Option(help="chains each edge server may join")] = 2,
) -> None:
    """Generate a seeded scenario: clients, edge servers, links from the channel model."""
    from pydantic import ValidationError

    try:
        training = Training(batch_size=batch_size, local_iters=local_iters, optimizer=optimizer)
        service = FinetuneService(min_clusters=min_clusters, max_clusters=max_clusters, deadline_s=deadline)
        scenario = generate(
            clients, seed, profile=load_profile(profile), heterogeneous=not homogeneous,
            source_fraction=source_fraction, request_fraction=request_fraction,
            edge_slots=edge_slots, training=training, finetune=service,
        )
    except ValidationError as exc:
        raise InputError.from_validation("options", exc) from None
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        field, _, reason = str(exc).partition(": ")
        raise InputError("options", [(field, reason)]) from None
    save(scenario, output)


@reports_bad_input
def schema_command(
    document: Annotated[Document, typer.Argument(help="which document's schema")] = Document.scenario,
    output: Annotated[str, typer.Option("-o", "--output", help="file or - for stdout")] = "-",
) -> None:
    """Print the JSON Schema of a document format (scenario, plan, profile, result)."""
    write_text(output, json.dumps(SCHEMAS[document].model_json_schema(), indent=2) + "\n")


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)
    app.command("schema")(schema_command)
