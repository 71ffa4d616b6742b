"""Cloud SQL Admin API v1: the databases of an instance (insert, get, list, delete) and their operations.

Instances are seeded (`add_instance`), as Terraform creates them. Every write answers with an Operation
that is already DONE (``operations.get`` returns it again), like a small database's insert in practice.
"""

from __future__ import annotations

import itertools

from fakegcp.errors import ApiError
from fakegcp.model import ApiRequest, Clock, Handler, Json


class SqlAdmin:
    """Instances by (project, instance) and their databases by name."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.instances: dict[tuple[str, str], dict[str, Json]] = {}
        self.operations: dict[tuple[str, str], Json] = {}
        self._ids = itertools.count(1)

    def add_instance(self, project: str, instance: str, databases: tuple[str, ...] = ("postgres",)) -> None:
        self.instances[(project, instance)] = {}
        for name in databases:
            self.instances[(project, instance)][name] = self._database(project, instance, name)

    def databases(self, project: str, instance: str) -> list[str]:
        return sorted(self.instances.get((project, instance), {}))

    def handlers(self) -> dict[str, Handler]:
        return {
            "sql.databases.insert": self.insert,
            "sql.databases.get": self.get,
            "sql.databases.list": self.list,
            "sql.databases.delete": self.delete,
            "sql.operations.get": self.get_operation,
        }

    @staticmethod
    def _database(project: str, instance: str, name: str) -> Json:
        return {
            "kind": "sql#database",
            "name": name,
            "instance": instance,
            "project": project,
            "charset": "UTF8",
            "collation": "en_US.UTF8",
            "selfLink": f"https://sqladmin.googleapis.com/v1/projects/{project}/instances/{instance}/databases/{name}",
        }

    def _instance(self, request: ApiRequest) -> dict[str, Json]:
        key = (request.params["project"], request.params["instance"])
        if key not in self.instances:
            raise ApiError.not_found("The Cloud SQL instance does not exist.")
        return self.instances[key]

    def _operation(self, request: ApiRequest, kind: str, database: str) -> Json:
        project, instance = request.params["project"], request.params["instance"]
        name = f"op-{next(self._ids)}"
        now = self.clock.now()
        operation = {
            "kind": "sql#operation",
            "name": name,
            "operationType": kind,
            "status": "DONE",
            "targetId": instance,
            "targetProject": project,
            "insertTime": now,
            "startTime": now,
            "endTime": now,
            "selfLink": f"https://sqladmin.googleapis.com/v1/projects/{project}/operations/{name}",
            "targetLink": f"https://sqladmin.googleapis.com/v1/projects/{project}/instances/{instance}/databases/{database}",
        }
        self.operations[(project, name)] = operation
        return operation

    def insert(self, request: ApiRequest) -> Json:
        databases = self._instance(request)
        name = str(request.body.get("name") or "")
        if not name:
            raise ApiError.invalid_argument("Missing database name.", field="name")
        if name in databases:
            # Cloud SQL answers 409 for a database that exists.
            raise ApiError.already_exists(f"database {name} already exists")
        databases[name] = self._database(request.params["project"], request.params["instance"], name)
        return self._operation(request, "CREATE_DATABASE", name)

    def get(self, request: ApiRequest) -> Json:
        database = self._instance(request).get(request.params["database"])
        if database is None:
            raise ApiError.not_found("The database does not exist.")
        return dict(database)

    def list(self, request: ApiRequest) -> Json:
        databases = self._instance(request)
        return {"kind": "sql#databasesList", "items": [dict(databases[n]) for n in sorted(databases)]}

    def delete(self, request: ApiRequest) -> Json:
        databases = self._instance(request)
        name = request.params["database"]
        if name not in databases:
            raise ApiError.not_found("The database does not exist.")
        del databases[name]
        return self._operation(request, "DELETE_DATABASE", name)

    def get_operation(self, request: ApiRequest) -> Json:
        operation = self.operations.get((request.params["project"], request.params["operation"]))
        if operation is None:
            raise ApiError.not_found("The operation does not exist.")
        return dict(operation)
