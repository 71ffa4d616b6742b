"""The gRPC half of the gcloud recorder: `gcloud beta run worker-pools ...` speaks Cloud Run v2 over gRPC.

gcloud's worker-pool commands use a generated gRPC client (not the v1 REST client of `gcloud run
deploy`). It dials ``REGION-<endpoint host>:443`` over TLS through the configured HTTP proxy with
``CONNECT``; the recorder's proxy tunnels that connection to this server, which serves TLS with a
throwaway certificate for that host name (gcloud trusts it through ``core/custom_ca_certs_file``).

Answers: a GET of a worker pool is NOT_FOUND (or the pool given as ``existing``); an upsert
(UpdateWorkerPool with allow_missing) or a create returns a finished operation whose response is the
worker pool it was sent, Ready. Each write is kept as
(method, REST-style JSON of the WorkerPool), the same shape shipit's REST client sends.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.cloud import run_v2
from google.longrunning import operations_pb2
from google.protobuf import any_pb2

Json = dict[str, Any]
_POOLS = "/google.cloud.run.v2.WorkerPools/"
_OPS = "/google.longrunning.Operations/"


def self_signed(hosts: list[str], directory: Path) -> tuple[bytes, bytes, Path]:
    """(key PEM, certificate PEM, path of the certificate) for HOSTS, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    path = directory / "recorder-ca.pem"
    path.write_bytes(cert_pem)
    return key_pem, cert_pem, path


def pool_json(pool: run_v2.WorkerPool) -> Json:
    """A WorkerPool message as the REST JSON a v2 REST client sends (camelCase, enum names, no defaults)."""
    out: Json = json.loads(run_v2.WorkerPool.to_json(pool, use_integers_for_enums=False))
    return out


@dataclass
class GrpcRecorder:
    port: int = 0
    existing: Json | None = None  # the v2 worker pool a GET returns; None: NOT_FOUND (a new pool)
    writes: list[tuple[str, Json]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def pools(self) -> list[Json]:
        return [body for _, body in self.writes]


def _ready(pool: run_v2.WorkerPool) -> run_v2.WorkerPool:
    done = run_v2.WorkerPool(pool)
    done.terminal_condition = run_v2.Condition(type_="Ready", state=run_v2.Condition.State.CONDITION_SUCCEEDED)
    done.latest_created_revision = pool.name + "/revisions/r-00001"
    done.latest_ready_revision = done.latest_created_revision
    return done


def _operation(pool: run_v2.WorkerPool) -> operations_pb2.Operation:
    response = any_pb2.Any()
    response.Pack(run_v2.WorkerPool.pb(_ready(pool)))
    metadata = any_pb2.Any()
    metadata.Pack(run_v2.WorkerPool.pb(_ready(pool)))
    return operations_pb2.Operation(name=pool.name + "/operations/op1", done=True, response=response, metadata=metadata)


def _handler(rec: GrpcRecorder) -> grpc.GenericRpcHandler:
    def get(request: run_v2.GetWorkerPoolRequest, context: grpc.ServicerContext) -> run_v2.WorkerPool:
        if rec.existing is not None and rec.existing.get("name") == request.name:
            pool: run_v2.WorkerPool = run_v2.WorkerPool.from_json(json.dumps(rec.existing), ignore_unknown_fields=True)
            return pool
        context.abort(grpc.StatusCode.NOT_FOUND, f"worker pool {request.name} not found")
        raise AssertionError("unreachable")

    def update(request: run_v2.UpdateWorkerPoolRequest, context: grpc.ServicerContext) -> operations_pb2.Operation:
        rec.writes.append(("UpdateWorkerPool", pool_json(request.worker_pool)))
        return _operation(request.worker_pool)

    def create(request: run_v2.CreateWorkerPoolRequest, context: grpc.ServicerContext) -> operations_pb2.Operation:
        pool = run_v2.WorkerPool(request.worker_pool)
        pool.name = f"{request.parent}/workerPools/{request.worker_pool_id}"
        rec.writes.append(("CreateWorkerPool", pool_json(pool)))
        return _operation(pool)

    def proto_plus(kind: Any) -> Callable[[bytes], Any]:
        return lambda data: kind.deserialize(data)

    methods: dict[str, grpc.RpcMethodHandler] = {
        _POOLS + "GetWorkerPool": grpc.unary_unary_rpc_method_handler(
            get, proto_plus(run_v2.GetWorkerPoolRequest), run_v2.WorkerPool.serialize
        ),
        _POOLS + "UpdateWorkerPool": grpc.unary_unary_rpc_method_handler(
            update, proto_plus(run_v2.UpdateWorkerPoolRequest), operations_pb2.Operation.SerializeToString
        ),
        _POOLS + "CreateWorkerPool": grpc.unary_unary_rpc_method_handler(
            create, proto_plus(run_v2.CreateWorkerPoolRequest), operations_pb2.Operation.SerializeToString
        ),
    }

    class Handler(grpc.GenericRpcHandler):
        def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
            rec.calls.append(details.method)  # type: ignore[attr-defined]
            return methods.get(details.method)  # type: ignore[attr-defined]

    return Handler()


class GrpcServer:
    """A TLS gRPC server on 127.0.0.1 recording Cloud Run v2 worker-pool writes."""

    def __init__(self, key_pem: bytes, cert_pem: bytes, existing: Json | None = None) -> None:
        self.recorder = GrpcRecorder(existing=existing)
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self._server.add_generic_rpc_handlers((_handler(self.recorder),))
        creds = grpc.ssl_server_credentials([(key_pem, cert_pem)])
        self.recorder.port = self._server.add_secure_port("127.0.0.1:0", creds)

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop(grace=None)
