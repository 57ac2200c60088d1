"""mkdocs hooks: what the site generates at build time, so that it cannot drift from the code.

* **Field tables of the file formats**: ``<!-- schema: problem Account -->`` in a page is replaced by a folded
  table of that model's fields (name, type, required or default, constraints, description) from ``allocator
  schema`` (allocator/cli/schemas.py, the pydantic models' JSON Schema); ``<!-- schema: problem -->`` is the file's
  top level. A model that no marker places is listed where ``<!-- schema: problem * -->`` stands, so a new model
  shows up by itself. On GitHub the markers are invisible comments beside the hand-written tables.
* **The gallery**: an examples topic page (``examples/<topic>/README.md``) gets each script of the topic with the
  output recorded beside it (docs/site/gallery.py; tests/test_examples.py keeps the recordings true).
* **Display math**: a ``$$ ... $$`` block is rendered to MathML (latex2mathml) at build time; browsers draw MathML
  natively, so the site needs no script and no network, and GitHub renders the same block in the page itself.
* **Links to repository files** outside docs/ (``../fixtures/problems/desk.toml``): the file is copied into the
  site under ``repository/`` and the link points there; a link to a file that does not exist still fails --strict.
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

SITE = Path(__file__).resolve().parent
DOCS = SITE.parent
ROOT = DOCS.parent
sys.path.insert(0, str(SITE))
sys.path.insert(0, str(ROOT))

import gallery  # noqa: E402

MARKER = re.compile(r"<!-- schema: (\w+)(?: ([\w*]+))? -->")
ROOT_MODEL = ""  # the marker without a model name: the file's top level
MATH = re.compile(r"^\$\$\n(.*?)\n\$\$$", re.S | re.M)
LINK = re.compile(r"\]\((\.\./[^)#\s]+)(#[^)\s]*)?\)")
REPOSITORY = "repository"

_schemas: dict[str, dict[str, Any]] = {}


def _schema(kind: str) -> dict[str, Any]:
    if kind not in _schemas:
        from allocator.cli.schemas import schema

        _schemas[kind] = schema(kind)
    return _schemas[kind]


# -- links to repository files ------------------------------------------------------------------------------------

def on_files(files: Files, config: Any) -> Files:
    """Copy every repository file outside docs/ that a page links to into the site (``repository/<path>``)."""
    wanted: set[str] = set()
    for page in [f for f in files if f.src_uri.endswith(".md")]:
        text = Path(page.abs_src_path).read_text(encoding="utf-8")
        for target, _ in LINK.findall(text):
            path = _outside(page.src_uri, target)
            if path is not None and (ROOT / path).is_file():
                wanted.add(path)
    for path in sorted(wanted):
        files.append(File.generated(config, f"{REPOSITORY}/{path}", abs_src_path=str(ROOT / path)))
    return files


def _outside(page: str, target: str) -> str | None:
    """The repository path a relative link from docs/``page`` names, when it leaves docs/."""
    joined = posixpath.normpath(posixpath.join("docs", posixpath.dirname(page), target))
    return None if joined.startswith("docs/") or joined.startswith("..") else joined


def _relink(markdown: str, page: str) -> str:
    def replace(match: re.Match[str]) -> str:
        path = _outside(page, match.group(1))
        if path is None or not (ROOT / path).is_file():
            return match.group(0)
        depth = page.count("/")
        return f"]({'../' * depth}{REPOSITORY}/{path}{match.group(2) or ''})"

    return LINK.sub(replace, markdown)


# -- pages ----------------------------------------------------------------------------------------------------

def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    src = page.file.src_uri
    markdown = _relink(markdown, src)
    if MARKER.search(markdown):
        markdown = _schema_tables(markdown)
    if src.startswith("examples/") and src.endswith("/README.md") and src.count("/") == 2:
        markdown += _gallery(src.split("/")[1])
    if "$$" in markdown:
        markdown = MATH.sub(lambda m: _mathml(m.group(1)), markdown)
    return markdown


def _mathml(latex: str) -> str:
    from latex2mathml.converter import convert

    return '\n<div class="math">' + convert(" ".join(latex.split()), display="block") + "</div>\n"


def _gallery(topic: str) -> str:
    parts = ["", "## Scripts", ""]
    for script in gallery.scripts(topic):
        source = script.read_text(encoding="utf-8").rstrip()
        output = gallery.recorded(script).read_text(encoding="utf-8").rstrip()
        parts += [f"### {script.name}", "", f"[{script.name}]({script.name}) (run from the repository root: "
                  f"`python docs/examples/{topic}/{script.name}`)", "", "```python", source, "```", "",
                  "Output:", "", "```text", output, "```", ""]
    return "\n".join(parts)


# -- field tables -------------------------------------------------------------------------------------------------

def _schema_tables(markdown: str) -> str:
    placed = {(kind, name or ROOT_MODEL) for kind, name in MARKER.findall(markdown) if name != "*"}

    def replace(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2) or ROOT_MODEL
        schema = _schema(kind)
        if name == "*":
            return "\n".join(_model_table(schema, n) for n in _models(schema) if (kind, n) not in placed)
        if name not in _models(schema):
            raise ValueError(f"<!-- schema: {kind} {name} -->: no model {name!r} in the {kind} schema "
                             f"(models: {', '.join(_models(schema))})")
        return _model_table(schema, name)

    return MARKER.sub(replace, markdown)


def _models(schema: dict[str, Any]) -> list[str]:
    return [*([ROOT_MODEL] if "properties" in schema else []), *schema.get("$defs", {})]


def _model(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return schema if name == ROOT_MODEL else schema["$defs"][name]


def _model_table(schema: dict[str, Any], name: str) -> str:
    model = _model(schema, name)
    required = set(model.get("required", []))
    title = f"`{name}`" if name else schema.get("title", "the top level")
    lines = [f'??? abstract "{title}: every field, generated from the model"', "",
             "    Generated at build time from the JSON Schema of the model (`allocator schema`), so it lists every "
             "field the code accepts. Ranges checked by validators and checks across fields are in the text.", "",
             "    | field | type | required / default | constraints | description |", "    |---|---|---|---|---|"]
    for field, spec in model.get("properties", {}).items():
        default = "required" if field in required else \
            _literal(spec["default"], "absent") if "default" in spec else "optional"
        lines.append(f"    | `{field}` | {_type(spec)} | {default} | {_constraints(spec)} | "
                     f"{_cell(spec.get('description', ''))} |")
    return "\n".join(lines) + "\n"


def _literal(value: Any, missing: str) -> str:
    if value is None:
        return missing
    return f"`{json.dumps(value)}`"


def _type(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        return f"`{spec['$ref'].rsplit('/', 1)[-1]}`"
    if "anyOf" in spec or "oneOf" in spec:
        kinds = [_type(s) for s in spec.get("anyOf", spec.get("oneOf", [])) if s.get("type") != "null"]
        return " or ".join(dict.fromkeys(kinds))
    kind = spec.get("type", "any")
    if kind == "array":
        return f"list of {_type(spec.get('items', {}))}"
    if kind == "object":
        values = spec.get("additionalProperties") or next(iter(spec.get("patternProperties", {}).values()), None)
        return f"table of {_type(values)}" if isinstance(values, dict) else "table"
    if "enum" in spec:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in spec["enum"])
    if "const" in spec:
        return f"`{json.dumps(spec['const'])}`"
    return {"number": "number", "integer": "integer", "string": "string", "boolean": "boolean"}.get(kind, kind)


def _constraints(spec: dict[str, Any]) -> str:
    for key in ("anyOf", "oneOf"):
        for option in spec.get(key, []):
            if option.get("type") != "null" and "$ref" not in option:
                spec = {**option, **{k: v for k, v in spec.items() if k not in (key,)}}
    words = {"minimum": ">= {}", "exclusiveMinimum": "> {}", "maximum": "<= {}", "exclusiveMaximum": "< {}",
             "minLength": "length >= {}", "maxLength": "length <= {}",
             "minItems": "at least {} items", "maxItems": "at most {} items", "pattern": "matches `{}`",
             "format": "format {}"}
    found = [template.format(spec[key]) for key, template in words.items() if key in spec]
    if spec.get("type") == "object" and "propertyNames" in spec:
        found.append("keys: ids")
    return _cell(", ".join(found))


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")
