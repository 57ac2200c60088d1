"""JSON Schemas of the files allocator reads, generated from the pydantic models that validate them: a problem
(``Problem``), a scenario file (``[[scenarios]]`` of ``Scenario``), a batch spec (``SpecFile``) and a venue
rulebook (one of the rulebook kinds' file models, chosen by ``kind``). ``allocator schema`` prints them and the
documentation site's problem-format reference is built from them, so neither can drift from the code.

The checks across fields (an asset held must be listed, a haircut of an eligible pair, ...) are not expressible
in a schema: ``allocator validate`` runs them all.
"""

from __future__ import annotations

from typing import Any

#: The files, by the name ``allocator schema`` takes.
KINDS = ("problem", "scenario", "batch", "rulebook")


def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12, as pydantic writes it) of a file of ``kind`` (one of :data:`KINDS`)."""
    if kind == "problem":
        from allocator.inputs.problem import Problem

        return _titled(Problem.model_json_schema(), "allocator problem file")
    if kind == "scenario":
        from allocator.inputs.scenario import Scenario

        one = Scenario.model_json_schema()
        definitions = one.pop("$defs", {})
        return _titled({"type": "object", "additionalProperties": False, "required": ["scenarios"],
                        "description": "A what-if scenario file: [[scenarios]] tables, each a set of changes to "
                                       "a problem (docs/what-if.md).",
                        "properties": {"scenarios": {"type": "array", "items": {"$ref": "#/$defs/Scenario"}}},
                        "$defs": {**definitions, "Scenario": one}}, "allocator scenario file")
    if kind == "batch":
        from allocator.batch.spec import SpecFile

        return _titled(SpecFile.model_json_schema(), "allocator batch spec")
    if kind == "rulebook":
        return _titled(_rulebook(), "allocator venue rulebook")
    raise ValueError(f"{kind!r} is not one of {', '.join(KINDS)}")


def _rulebook() -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    from allocator.venues.rulebooks.loader import KINDS as RULEBOOKS

    models = [cls.spec_model for cls in RULEBOOKS.values()]
    refs, top = models_json_schema([(model, "validation") for model in models], ref_template="#/$defs/{model}")
    return {"description": "A venue rulebook (models/*.toml): the header every file has, and the sections of its "
                           "kind (docs/rulebooks.md).",
            "oneOf": [refs[(model, "validation")] for model in models], "$defs": top.get("$defs", {})}


def _titled(body: dict[str, Any], title: str) -> dict[str, Any]:
    titled = {"$schema": "https://json-schema.org/draft/2020-12/schema", **body}
    titled["title"] = title
    return titled
