"""factory_boy factories for the models tests build on."""

from __future__ import annotations

import factory

from orchestrator.models import Role, Tenant, User
from workflows.models import Workflow, WorkflowVersion

PASSWORD = "correct-horse-battery"


def simple_definition(url: str = "https://example.com/data") -> dict:
    return {
        "steps": [
            {"id": "fetch", "type": "http_request", "config": {"method": "GET", "url": url}},
            {"id": "shape", "type": "transform", "config": {"expression": "body"}, "depends_on": ["fetch"]},
        ]
    }


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    tenant = factory.SubFactory(TenantFactory)
    role = Role.MEMBER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs) -> None:
        if create:
            obj.save()


class WorkflowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workflow
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Workflow {n}")
    definition = factory.LazyFunction(simple_definition)
    status = "active"

    @factory.post_generation
    def first_version(obj, create, extracted, **kwargs) -> None:
        if create:
            WorkflowVersion.objects.create(
                workflow=obj, version=obj.version, definition=obj.definition, change_summary="Initial version"
            )
