"""Code export (seed 002 "Code Export"; SPEC 14): a workflow as a program that runs it.

``workflow_code`` renders ``code/client.py.txt`` (Python 3.8+, standard library only) or
``code/client.ts.txt`` (TypeScript for Node 18+, global ``fetch``) for one workflow: it reads
``ORCHESTRATOR_URL`` (default: the server that exported it) and ``ORCHESTRATOR_API_KEY`` from
the environment, starts a run with the input given on the command line (``--input JSON`` or
``name=value`` pairs), prints the run's events as they come over Server-Sent Events (and
reconnects with ``Last-Event-ID`` if the stream drops), then prints the run's outputs as JSON.
Exit status 0 completed, 1 failed/cancelled/timed out, 2 usage or connection error.

``workflow_code_archive`` packs that program with a README and the requirements (Python: none;
TypeScript: ``package.json`` and ``tsconfig.json``) into a ZIP.

The programs only embed the workflow's ID, name, input schema and where it came from: no
definition, no credential.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import ValidationFailed
from workflows.models import Workflow

CODE_DIR = Path(__file__).resolve().parent / "code"
LANGUAGES = {
    "python": ("client.py.txt", "py", "text/x-python; charset=utf-8"),
    "typescript": ("client.ts.txt", "ts", "application/typescript; charset=utf-8"),
}
LANGUAGE_ALIASES = {"py": "python", "python3": "python", "ts": "typescript", "node": "typescript"}


@dataclass(frozen=True)
class ExportedCode:
    code: str
    filename: str
    media_type: str
    language: str


def language_check(language: str | None) -> str:
    name = LANGUAGE_ALIASES.get((language or "python").lower(), (language or "python").lower())
    if name not in LANGUAGES:
        raise ValidationFailed(
            f"language must be one of {', '.join(LANGUAGES)}.",
            details=[{"field": "language", "message": f"{language!r} is not supported."}],
        )
    return name


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:50] or "workflow"


def _input_help(schema: dict) -> str:
    properties = (schema or {}).get("properties") or {}
    if not properties:
        return "This workflow takes no input."
    required = set((schema or {}).get("required") or [])
    lines = ["Inputs (name=value, or --input '{...}'):"]
    for name, prop in properties.items():
        kind = prop.get("type", "any")
        kind = "/".join(kind) if isinstance(kind, list) else kind
        facts = [kind, "required" if name in required and "default" not in prop else "optional"]
        if "default" in prop:
            facts.append(f"default {json.dumps(prop['default'])}")
        line = f"  {name} ({', '.join(facts)})"
        if prop.get("description"):
            line += f": {prop['description']}"
        lines.append(line)
    return "\n".join(lines)


def _docstring(workflow: Workflow, language: str, filename: str, base_url: str) -> str:
    run = f"python3 {filename}" if language == "python" else f"npx tsx {filename}   # or compile with tsc"
    text = (
        f"Run the workflow {workflow.name!r} ({workflow.id}) on Orchestrator and follow it live.\n\n"
        f"Exported from version {workflow.version} at {base_url}. "
        + ("Standard library only (Python 3.8+)." if language == "python" else "Node 18+ (global fetch).")
        + "\n\n"
        f"    export ORCHESTRATOR_URL={base_url}\n"
        "    export ORCHESTRATOR_API_KEY=wfb_...\n"
        f"    {run} [--input JSON] [name=value ...]\n\n"
        f"{_input_help(workflow.definition.get('inputs') or {})}\n\n"
        "Exit status: 0 when the run completed, 1 when it failed, was cancelled or timed out,\n"
        "2 on bad arguments or when the server refused or could not be reached."
    )
    if language == "typescript":
        return "\n".join(f" * {line}".rstrip() for line in text.splitlines())
    return text.replace('"""', "'''")


def _constants(workflow: Workflow, language: str, base_url: str) -> str:
    values = {
        "WORKFLOW_ID": workflow.id,
        "WORKFLOW_NAME": workflow.name,
        "DEFAULT_BASE_URL": base_url,
        "INPUT_HELP": _input_help(workflow.definition.get("inputs") or {}),
    }
    if language == "python":
        return "\n".join(f"{name} = {json.dumps(value, ensure_ascii=False)}" for name, value in values.items())
    return "\n".join(f"const {name} = {json.dumps(value, ensure_ascii=False)};" for name, value in values.items())


def workflow_code(
    *, workflow: Workflow, language: str = "python", base_url: str = "http://127.0.0.1:8000"
) -> ExportedCode:
    """The client program of ``workflow`` in ``language`` (python or typescript)."""
    language = language_check(language)
    template_name, extension, media_type = LANGUAGES[language]
    filename = f"run_{_slug(workflow.name)}.{extension}"
    base_url = base_url.rstrip("/")
    code = (CODE_DIR / template_name).read_text()
    code = code.replace("%%DOCSTRING%%", _docstring(workflow, language, filename, base_url))
    code = code.replace("%%CONSTANTS%%", _constants(workflow, language, base_url))
    return ExportedCode(code=code, filename=filename, media_type=media_type, language=language)


def _readme(workflow: Workflow, exported: ExportedCode, base_url: str) -> str:
    if exported.language == "python":
        setup = "Python 3.8 or newer; nothing to install (standard library only)."
        run = f"python3 {exported.filename} --help\npython3 {exported.filename} name=value ..."
    else:
        setup = "Node 18 or newer. `npm install` brings TypeScript and the Node types (only to build)."
        run = (
            "npm install\nnpm run build                 # tsc → dist/\n"
            f"node dist/{exported.filename[:-3]}.js --help\nnode dist/{exported.filename[:-3]}.js name=value ..."
        )
    return (
        f"# {workflow.name}\n\n"
        f"A client for the Orchestrator workflow `{workflow.id}` (version {workflow.version}), exported from "
        f"{base_url}. It starts a run with the input you give it, prints the run's events as they happen "
        "(Server-Sent Events) and then its outputs as JSON.\n\n"
        f"## Setup\n\n{setup}\n\n"
        "```sh\n"
        f"export ORCHESTRATOR_URL={base_url}\n"
        "export ORCHESTRATOR_API_KEY=wfb_...   # an API key of the workflow's tenant\n"
        "```\n\n"
        f"## Run\n\n```sh\n{run}\n```\n\n"
        f"```\n{_input_help(workflow.definition.get('inputs') or {})}\n```\n\n"
        "Exit status: 0 completed; 1 failed, cancelled or timed out; 2 bad arguments or the server refused.\n"
    )


def workflow_code_archive(
    *, workflow: Workflow, language: str = "python", base_url: str = "http://127.0.0.1:8000"
) -> tuple[bytes, str]:
    """(ZIP bytes, file name): the program, a README and the requirements, in one folder."""
    exported = workflow_code(workflow=workflow, language=language, base_url=base_url)
    folder = _slug(workflow.name)
    files = {exported.filename: exported.code, "README.md": _readme(workflow, exported, base_url.rstrip("/"))}
    if exported.language == "python":
        files["requirements.txt"] = "# Standard library only: nothing to install.\n"
    else:
        files["package.json"] = json.dumps(
            {
                "name": folder.replace("_", "-"),
                "private": True,
                "description": f"Runs the Orchestrator workflow {workflow.id}",
                "scripts": {"build": "tsc", "start": f"node dist/{exported.filename[:-3]}.js"},
                "engines": {"node": ">=18"},
                "devDependencies": {"typescript": "^5.4.0", "@types/node": "^20.11.0"},
            },
            indent=2,
        )
        files["tsconfig.json"] = json.dumps(
            {
                "compilerOptions": {
                    "target": "ES2022",
                    "module": "commonjs",
                    "lib": ["ES2022", "DOM"],
                    "strict": True,
                    "outDir": "dist",
                    "types": ["node"],
                },
                "files": [exported.filename],
            },
            indent=2,
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if name == exported.filename else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue(), f"{folder}.zip"
