"""Compatibility surfaces (SPEC 14): the public APIs of ``shared/seeds/`` served over the same
services and models as the canonical API (seed 001). One module per seed surface:

* ``executions`` (seed 000): ``/api/executions…``, canonical run objects and envelope;
* ``editor`` (seed 002): the workflow editor's ``/api/workflows/create``, ``…/executions``,
  ``/api/workflows/executions/{id}/status|logs``: camelCase, bare arrays, statuses
  ``running``/``success``/``error``/``cancelled``; ``/api/ai/generate`` (the authoring package's
  generation view, told as editor nodes);
* ``orchestrate_v3`` (seed 003): ``/api/eai/v3/orchestrate/…``, ``{"data": …}``, ``state``;
* ``workflows_v2`` (seed 004): ``/api/v2/workflows/…``, ``{"success": true, "<noun>": …}``,
  ``POST /parse`` over the authoring package's parse service.

``shapes`` holds the few conversions they share; ``urls`` mounts them all. Each view is
tagged in the OpenAPI document with its seed's name and has an operation id prefixed by
its surface. Where a seed path equals a canonical one, the canonical view serves it (the
seed's extra fields are added there, beside the canonical ones), never a view of this
package.

May import: the apps' models, selectors, services and API serializers, and ``orchestrator.api``
(pagination, errors, health), and ``orchestrator.authoring`` with its views in
``workflows.api.authoring`` (parse, generation). Nothing imports this package but ``config.urls``: never the
engine, never an app.
"""
