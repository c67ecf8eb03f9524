"""Thin views over orchestrator/authoring/: parse, generate, code export (SPEC 11, seeds 002 and 004)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.api.schema import Error
from orchestrator.authoring.code_export import language_check, workflow_code, workflow_code_archive
from orchestrator.authoring.generation import generation_start
from orchestrator.authoring.parse import workflow_parse
from workflows.api import authoring_examples as ex
from workflows.api import authoring_serializers as s
from workflows.selectors import workflow_get

TAG = ["Authoring"]
NOT_UNDERSTOOD = OpenApiResponse(
    Error,
    description="Nothing to do was found in the instruction (`instruction_not_understood`).",
    examples=[OpenApiExample("Nonsense", value=ex.PARSE_NOT_UNDERSTOOD)],
)
LANGUAGE_ERROR = OpenApiExample(
    "Unsupported language", value=ex.LANGUAGE_NOT_SUPPORTED, response_only=True, status_codes=["400"]
)


def _valid(serializer_class: type, data: object) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class _AnyAccept:
    """These views answer a fixed media type; what answers before it (errors) is JSON, whatever Accept says."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple:
        return JSONRenderer(), JSONRenderer.media_type


class WorkflowParseView(APIView):
    write_role = "viewer"  # parsing saves nothing
    openapi_errors = (404,)  # context.integration_id names no integration of the tenant

    @extend_schema(
        tags=TAG,
        operation_id="workflows_parse",
        summary="Natural language → a workflow definition (template, llm or rules)",
        description=(
            "Sources, best first: a template of the library the instruction describes; the tenant's `llm` "
            "integration (or `context.integration_id`), falling back to the rules when it fails; the rules "
            "(offline). `context.source` picks one. The answer always validates (`valid: true`): post its "
            '`workflow` to `POST /api/workflows` as `{"definition": …}`, and its `schedule` (present only when '
            "the instruction states one) to `POST /api/workflows/{id}/schedules`."
        ),
        request=s.ParseInput,
        responses={200: s.ParseOutput, 422: NOT_UNDERSTOOD},
        examples=[
            OpenApiExample("Seed 004", value=ex.PARSE_REQUEST, request_only=True),
            OpenApiExample(
                "Seed 004 parsed by the rules", value=ex.PARSE_RESPONSE, response_only=True, status_codes=["200"]
            ),
            OpenApiExample(
                "A template",
                value=ex.PARSE_TEMPLATE_REQUEST,
                request_only=True,
            ),
            OpenApiExample("Unknown integration", value=ex.PARSE_UNKNOWN_INTEGRATION_REQUEST, request_only=True),
            OpenApiExample(
                "Unknown integration", value=ex.PARSE_UNKNOWN_INTEGRATION, response_only=True, status_codes=["404"]
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.ParseInput, request.data)
        return Response(
            workflow_parse(tenant=request.user.tenant, instruction=data["instruction"], context=data.get("context"))
        )


def _ndjson(operations: Iterator[dict]) -> Iterator[bytes]:
    for operation in operations:
        yield (json.dumps(operation, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


_END = object()


async def _ndjson_async(lines: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Under ASGI, Django reads a synchronous stream whole before sending any of it; each line is
    taken in a thread instead (the generator reads the database), so each is sent when it is ready."""
    while (line := await sync_to_async(next, thread_sensitive=True)(lines, _END)) is not _END:
        yield line


class WorkflowGenerateView(_AnyAccept, APIView):
    write_role = "viewer"
    flavor = "steps"  # seed 002's /api/ai/generate tells the same operations as editor nodes

    @extend_schema(
        tags=TAG,
        operation_id="workflows_generate",
        summary="Generate a workflow step by step: a JSON Lines stream of operations",
        description=(
            "The same result as parse, streamed as `application/x-ndjson`, one operation per line, each line "
            "flushed: `setName`, `setDescription`, `setSchedule` (when stated), `setInputs` (when the run needs "
            "input), `addStep` + its `addEdge`s per step, then `done` with the whole parse result. A failure "
            'after the stream began ends it with `{"op": "error", "code", "message", "details"}`; a bad prompt '
            "is a 400 before anything streams."
        ),
        request=s.GenerateInput,
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.STR,
                examples=[
                    OpenApiExample(
                        "Operations",
                        value="".join(json.dumps(op) + "\n" for op in ex.GENERATE_OPS),
                        status_codes=["200"],
                    )
                ],
            )
        },  # fmt: skip
        examples=[
            OpenApiExample("Seed 002", value={"prompt": ex.GENERATE_PROMPT}, request_only=True),
        ],
    )
    def post(self, request: Request) -> StreamingHttpResponse:
        data = _valid(s.GenerateInput, request.data)
        operations = generation_start(
            tenant=request.user.tenant, prompt=data["prompt"], context=data.get("context"), flavor=self.flavor
        )
        lines = _ndjson(operations)
        if isinstance(request._request, ASGIRequest):
            lines = _ndjson_async(lines)
        response = StreamingHttpResponse(lines, content_type="application/x-ndjson")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response


LANGUAGE = OpenApiParameter("language", str, enum=["python", "typescript"], description="Default python.")


class WorkflowCodeView(_AnyAccept, APIView):
    @extend_schema(
        tags=TAG,
        operation_id="workflows_code_retrieve",
        summary="The workflow as a runnable client program (Python, or TypeScript with ?language=typescript)",
        description=(
            "A program that reads ORCHESTRATOR_URL and ORCHESTRATOR_API_KEY from the environment, starts a run with "
            "the input given on its command line, prints the run's events as they come (SSE) and then its outputs. "
            "Python: standard library only. TypeScript: Node 18+ with the global fetch."
        ),
        parameters=[LANGUAGE],
        responses={
            (200, "text/x-python"): OpenApiTypes.STR,
            (200, "application/typescript"): OpenApiTypes.STR,
        },
        examples=[
            OpenApiExample(
                "Python", value=ex.CODE_PYTHON, response_only=True, status_codes=["200"], media_type="text/x-python"
            ),
            OpenApiExample(
                "TypeScript",
                summary="?language=typescript",
                value=ex.CODE_TYPESCRIPT,
                response_only=True,
                status_codes=["200"],
                media_type="application/typescript",
            ),
            LANGUAGE_ERROR,
        ],
    )
    def get(self, request: Request, workflow_id: str) -> HttpResponse:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        language = language_check(request.query_params.get("language"))
        exported = workflow_code(workflow=workflow, language=language, base_url=request.build_absolute_uri("/"))
        response = HttpResponse(exported.code, content_type=exported.media_type)
        response["Content-Disposition"] = f'inline; filename="{exported.filename}"'
        return response


class WorkflowDownloadView(_AnyAccept, APIView):
    @extend_schema(
        tags=TAG,
        operation_id="workflows_download_retrieve",
        summary="A ZIP of the client program, a README and its requirements",
        description=(
            "`<slug>.zip` (`Content-Disposition: attachment`), one folder `<slug>/` named for the workflow: the "
            "program of `GET /api/workflows/{id}/code` and a `README.md`, with `requirements.txt` (Python, standard "
            "library only) or `package.json` and `tsconfig.json` (TypeScript). For the workflow of the template "
            "install example: `my_custom_pipeline/run_my_custom_pipeline.py`, `my_custom_pipeline/README.md`, "
            "`my_custom_pipeline/requirements.txt`."
        ),
        parameters=[LANGUAGE],
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
        examples=[LANGUAGE_ERROR],
    )
    def get(self, request: Request, workflow_id: str) -> HttpResponse:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        language = language_check(request.query_params.get("language"))
        content, filename = workflow_code_archive(
            workflow=workflow, language=language, base_url=request.build_absolute_uri("/")
        )
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
