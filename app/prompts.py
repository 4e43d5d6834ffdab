"""Prompt templates: one Jinja2 environment with StrictUndefined; a missing variable fails loudly.

Templates live in `prompts/` where tutors can read and adjust them. Rendering is pure: no I/O
beyond loading the template files, no model calls. Trainee text reaches the evaluator only
through `as_data`, which fences it as a JSON string so that it is read as data, not instructions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape


def as_data(value: Any) -> str:
    """Encode a value as JSON, so quotes, braces and role markers inside it stay inert."""
    return json.dumps(value, ensure_ascii=False, indent=1)


class Prompts:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._env = Environment(
            loader=FileSystemLoader(directory),
            undefined=StrictUndefined,
            autoescape=select_autoescape(default=False, default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self._env.filters["as_data"] = as_data

    def render(self, name: str, **context: Any) -> str:
        return self._env.get_template(name).render(**context).strip() + "\n"
