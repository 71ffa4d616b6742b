"""Artifact Registry v1: repositories (create is a long-running operation) and docker images."""

from __future__ import annotations

import re
from urllib.parse import quote

from fakegcp.errors import ApiError
from fakegcp.model import (
    ApiRequest,
    Clock,
    Handler,
    Json,
    Operations,
    any_of,
    deep_copy,
    page_body,
    paginate,
)

REPOSITORY_ID = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
_REPO_NAME = re.compile(r"^projects/([^/]+)/locations/([^/]+)/repositories/([^/]+)$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
REPOSITORY_TYPE = "google.devtools.artifactregistry.v1.Repository"
METADATA_TYPE = "google.devtools.artifactregistry.v1.OperationMetadata"
_OUTPUT = {"name", "createTime", "updateTime", "sizeBytes", "satisfiesPzs", "satisfiesPzi", "registryUri"}


class ArtifactRegistry:
    """State of Artifact Registry: repositories and the docker images in them."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.repositories: dict[str, Json] = {}
        self.images: dict[str, list[Json]] = {}
        self.operations = Operations("artifactregistry")

    # -- seeding helpers ---------------------------------------------------------------------
    def add_repository(self, name: str, format: str = "DOCKER", **fields: object) -> Json:
        """Create a repository directly (no operation), e.g. one Terraform made."""
        m = _REPO_NAME.match(name)
        if not m:
            raise ValueError(f"not a repository name: {name}")
        return self._create(f"projects/{m.group(1)}/locations/{m.group(2)}", m.group(3), {"format": format, **fields})

    def add_docker_image(self, repository: str, image: str, tags: list[str] | tuple[str, ...], digest: str) -> Json:
        """Record that `image@digest` (with `tags`) was pushed to `repository` (its full name)."""
        repo = self._repository(repository)
        if not digest.startswith("sha256:"):
            digest = "sha256:" + digest
        if not _DIGEST.match(digest):
            raise ValueError(f"not a sha256 digest: {digest}")
        project, location, rid = _REPO_NAME.match(repo["name"]).groups()  # type: ignore[union-attr]
        images = self.images[repo["name"]]
        for other in images:  # a tag moves to the newest image that carries it
            other["tags"] = [t for t in other.get("tags", []) if t not in tags]
        now = self.clock.now()
        existing = next((i for i in images if i["uri"].endswith(f"/{image}@{digest}")), None)
        if existing is not None:
            existing["tags"] = sorted(set(existing["tags"]) | set(tags))
            existing["updateTime"] = now
            return deep_copy(existing)  # type: ignore[no-any-return]
        entry: Json = {
            "name": f"{repo['name']}/dockerImages/{quote(image, safe='')}@{digest}",
            "uri": f"{location}-docker.pkg.dev/{project}/{rid}/{image}@{digest}",
            "tags": sorted(tags),
            "imageSizeBytes": "1024",
            "uploadTime": now,
            "buildTime": now,
            "updateTime": now,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        }
        images.append(entry)
        return deep_copy(entry)  # type: ignore[no-any-return]

    # -- routing -----------------------------------------------------------------------------
    def handlers(self) -> dict[str, Handler]:
        p = "artifactregistry.projects.locations."
        return {
            p + "repositories.create": self.create,
            p + "repositories.get": lambda r: deep_copy(self._repository(r.params["name"])),
            p + "repositories.list": self.list,
            p + "repositories.delete": self.delete,
            p + "repositories.dockerImages.list": self.list_images,
            p + "repositories.dockerImages.get": self.get_image,
            p + "operations.get": lambda r: self.operations.get(r.params["name"]),
        }

    def _repository(self, name: str) -> Json:
        repo = self.repositories.get(name)
        if repo is None:
            raise ApiError.not_found(f"Requested entity was not found. Repository {name} not found.")
        return repo

    def create(self, request: ApiRequest) -> Json:
        parent = request.params["parent"]
        repo = self._create(parent, request.query.get("repositoryId", ""), request.body)
        return self.operations.start(parent, any_of(METADATA_TYPE, {}), any_of(REPOSITORY_TYPE, repo))

    def _create(self, parent: str, rid: str, body: Json) -> Json:
        if not REPOSITORY_ID.match(rid):
            raise ApiError.invalid_argument(
                f'Invalid repository id "{rid}": must start with a lowercase letter, contain only lowercase '
                "letters, numbers and hyphens, end with a letter or number, and be at most 63 characters."
            )
        name = f"{parent}/repositories/{rid}"
        if name in self.repositories:
            raise ApiError.already_exists(f"the repository already exists: {name}")
        if body.get("format", "FORMAT_UNSPECIFIED") == "FORMAT_UNSPECIFIED":
            raise ApiError.invalid_argument("Repository format must be specified.")
        _, location = parent.split("/")[1], parent.split("/")[3]
        now = self.clock.now()
        repo: Json = {k: deep_copy(v) for k, v in body.items() if k not in _OUTPUT}
        repo.update(name=name, createTime=now, updateTime=now, sizeBytes="0")
        repo.setdefault("mode", "STANDARD_REPOSITORY")
        if repo["format"] == "DOCKER":
            repo["registryUri"] = f"{location}-docker.pkg.dev/{parent.split('/')[1]}/{rid}"
        self.repositories[name] = repo
        self.images[name] = []
        return deep_copy(repo)  # type: ignore[no-any-return]

    def list(self, request: ApiRequest) -> Json:
        parent = request.params["parent"] + "/repositories/"
        items = [deep_copy(r) for n, r in sorted(self.repositories.items()) if n.startswith(parent)]
        page, nxt = paginate(items, request)
        return page_body("repositories", page, nxt)

    def delete(self, request: ApiRequest) -> Json:
        name = request.params["name"]
        self._repository(name)
        del self.repositories[name]
        del self.images[name]
        return self.operations.start(
            name.split("/repositories/")[0], any_of(METADATA_TYPE, {}), any_of("google.protobuf.Empty", {})
        )

    def list_images(self, request: ApiRequest) -> Json:
        repo = self._repository(request.params["parent"])
        items = deep_copy(self.images[repo["name"]])
        page, nxt = paginate(items, request)
        return page_body("dockerImages", page, nxt)

    def get_image(self, request: ApiRequest) -> Json:
        name = request.params["name"]
        repo_name = name.split("/dockerImages/")[0]
        for image in self.images.get(repo_name, []):
            if image["name"] == name:
                return deep_copy(image)  # type: ignore[no-any-return]
        raise ApiError.not_found(f"Requested entity was not found. Docker image {name} not found.")
