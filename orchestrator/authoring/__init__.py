"""Authoring: ways to get a workflow without writing its JSON (SPEC 11, seeds 001/002/004).

``templates`` (the template library: built-ins from ``library/*.json`` and tenants' own; list,
install, save as template), ``schedule_text`` (schedule phrases → cron + IANA timezone),
``rules`` (the offline instruction parser), ``llm_source`` (asks the tenant's ``llm``
integration, repairs once, else falls back), ``parse`` (the three sources, best first:
template, llm, rules → one validated result), ``generation`` (the same result as a stream
of JSON Lines operations) and ``code_export`` (a runnable Python or TypeScript client of a
workflow, and a ZIP of it). ``code/`` holds the client programs they are rendered from.

Every service takes plain keyword arguments and returns plain data, so the canonical API
(workflows/api/) and the compatibility surfaces (``compat/``) call the same functions:

- ``parse.workflow_parse(tenant=, instruction=, context=)`` → ``{"workflow": {...}, "parse_time_ms"}``;
  raises ``ValidationFailed`` (400) or ``rules.NotUnderstood`` (422, ``instruction_not_understood``);
- ``generation.generation_start(tenant=, prompt=, context=, flavor="steps"|"nodes")`` → an iterator of
  operation dicts (checks first, so a bad prompt raises before anything streams);
- ``code_export.workflow_code(workflow=, language=, base_url=)`` → ``ExportedCode(code, filename,
  media_type, language)``; ``code_export.workflow_code_archive(...)`` → ``(zip bytes, filename)``;
- ``templates.template_list / template_get / template_install / template_create / template_delete``.

May import: ``definitions``, ``step_types``, ``security``, ``errors``, the ``workflows``
models and services, the ``integrations`` selectors, services and providers. Never
``engine``, ``api`` or ``compat``.
"""
