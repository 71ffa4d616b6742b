"""The shared Terraform module that `shipit infra generate` writes into infra/ (the text of its files).

Every environment root (infra/environments/ENV/main.tf) calls this one module with that environment's
data, so a change to a resource is made once. Sections are included only when some environment needs
them (no pubsub.tf without topics). This text is checked by tests: `terraform fmt` leaves it unchanged,
and python-hcl2 parses it for the security properties (no public IP, no primitive roles, ...).
"""

from __future__ import annotations

VERSIONS = """\
terraform {
  # 1.11 for write-only arguments: database passwords never reach the state or plan files.
  required_version = ">= 1.11"

  required_providers {
    google = {
      source = "hashicorp/google"
      # 6.23: password_wo (google_sql_user) and secret_data_wo (google_secret_manager_secret_version).
      version = ">= 6.23, < 7.0"
    }
    random = {
      source = "hashicorp/random"
      # 3.7.1: the ephemeral random_password.
      version = ">= 3.7.1, < 4.0"
    }
  }
}
"""

VARIABLES_BASE = """\
variable "project" {
  description = "Google Cloud project id of this environment."
  type        = string
}

variable "region" {
  description = "Region of Cloud Run, Cloud SQL, the subnet and the connector."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of resource names: APP-ENV."
  type        = string
}

variable "labels" {
  description = "Labels put on every resource that takes labels."
  type        = map(string)
  default     = {}
}

variable "services" {
  description = "Cloud Run services (deployed by shipit, not by Terraform) and what each may read."
  type = map(object({
    # The service account Terraform creates for the service, or null when it brings its own.
    account_id            = optional(string)
    service_account_email = optional(string)
    # Keys of var.secrets this service reads: it gets secretAccessor on exactly these.
    secrets = optional(list(string), [])
    # Keys of var.databases this service connects to.
    databases = optional(list(string), [])
    # Keys of var.caches this service connects to.
    caches = optional(list(string), [])
    # Cloud Storage buckets it mounts as volumes -> the object role it gets on that bucket only.
    buckets = optional(map(string), {})
  }))
}

variable "secrets" {
  description = "Secret key -> Secret Manager secret id. Terraform creates the secrets; shipit adds the versions."
  type        = map(string)
  default     = {}
}

variable "secret_replication_locations" {
  description = "Where secrets are replicated; empty means automatic."
  type        = list(string)
  default     = []
}

variable "repository" {
  description = "The Artifact Registry repository that holds the images."
  type = object({
    id       = string
    location = string
  })
}
"""

VARIABLES_NETWORK = """
variable "network" {
  description = "The VPC that holds Cloud SQL's private IP and that Cloud Run egresses into."
  type = object({
    name        = string
    subnet_name = string
    subnet_cidr = string
  })
}
"""

VARIABLES_CONNECTOR = """
variable "connector" {
  description = "Serverless VPC Access connector for Cloud Run; null when services use Direct VPC egress."
  type = object({
    name = string
    cidr = string
  })
  default = null
}
"""

VARIABLES_DATABASES = """
variable "databases" {
  description = "Cloud SQL instances (Postgres or MySQL), one database and one user each."
  type = map(object({
    instance_name          = string
    engine                 = optional(string, "postgres")
    version                = string
    tier                   = string
    disk_gb                = number
    disk_autoresize        = bool
    availability           = string
    backups                = bool
    point_in_time_recovery = bool
    deletion_protection    = bool
    database               = string
    user                   = string
    url_secret_id          = string
    # Raise it to rotate the password: write-only values are sent only when their version changes.
    password_version = optional(number, 1)
  }))
  default = {}

  validation {
    condition     = alltrue([for db in values(var.databases) : contains(["zonal", "regional"], db.availability)])
    error_message = "availability is \\"zonal\\" or \\"regional\\"."
  }

  validation {
    condition     = alltrue([for db in values(var.databases) : contains(["postgres", "mysql"], db.engine)])
    error_message = "engine is \\"postgres\\" or \\"mysql\\"."
  }
}
"""

VARIABLES_PUBSUB = """
variable "pubsub" {
  description = "Pub/Sub topics and subscriptions; push delivers to a Cloud Run service, a worker pulls."
  type = object({
    push_account_id = optional(string)
    topics = optional(map(object({
      labels = optional(map(string), {})
    })), {})
    subscriptions = optional(map(object({
      topic        = string
      ack_deadline = optional(number, 10)
      push_service = optional(string)
      push_path    = optional(string, "/")
      pull_service = optional(string)
    })), {})
  })
  default = {}
}
"""

# Pure data derived from the variables (no resources): tests evaluate exactly these expressions with
# the real terraform binary, so the bindings below are checked, not just read.
LOCALS_HEAD = """\
locals {
  # One secretAccessor binding per (service, secret) pair: a service reads exactly the secrets it
  # lists, and nothing is granted project-wide.
  secret_accessors = merge([
    for name, svc in var.services : {
      for key in svc.secrets : "${name}/${key}" => { service = name, secret = key }
    }
  ]...)

  # Services whose runtime account Terraform creates; the others name their own.
  created_accounts = { for name, svc in var.services : name => svc.account_id if svc.service_account_email == null }
"""

LOCALS_DATABASES = """
  # Each service that uses a database may read that database's DATABASE_URL secret, and only that.
  database_url_accessors = merge([
    for name, svc in var.services : {
      for db in svc.databases : "${name}/${db}" => { service = name, database = db }
    }
  ]...)

  # roles/cloudsql.client goes only to services that use a database.
  sql_clients = toset([for name, svc in var.services : name if length(svc.databases) > 0])

  # Per engine: the Cloud SQL version (16 -> POSTGRES_16, 8.4 -> MYSQL_8_4) and the DATABASE_URL shape
  # (user, password, private IP, database), TLS required without verifying Cloud SQL's per-instance CA.
  database_versions = {
    for name, db in var.databases : name => (
      db.engine == "mysql" ? "MYSQL_${replace(db.version, ".", "_")}" : "POSTGRES_${db.version}"
    )
  }
  database_url_formats = {
    for name, db in var.databases : name => (
      db.engine == "mysql"
      ? "mysql://%s:%s@%s:3306/%s?ssl-mode=REQUIRED"
      : "postgresql://%s:%s@%s:5432/%s?sslmode=require"
    )
  }
  mysql_databases = { for name, db in var.databases : name => db if db.engine == "mysql" }
  # Point-in-time recovery replays the write-ahead log (MySQL: the binary log) on top of a backup, so it
  # needs backups.
  point_in_time_recovery = { for name, db in var.databases : name => db.backups && db.point_in_time_recovery }
"""

LOCALS_BUCKETS = """
  # One binding per (service, mounted bucket) pair: objectViewer for a read-only volume, else objectUser.
  bucket_members = merge([
    for name, svc in var.services : {
      for bucket, role in svc.buckets : "${name}/${bucket}" => { service = name, bucket = bucket, role = role }
    }
  ]...)
"""

LOCALS_PUBSUB = """
  push_subscriptions = { for name, sub in var.pubsub.subscriptions : name => sub if sub.push_service != null }
  push_services      = toset([for sub in values(local.push_subscriptions) : sub.push_service])
  pull_subscriptions = { for name, sub in var.pubsub.subscriptions : name => sub if sub.pull_service != null }
"""

# Built from the feature flags in terraform.py: (api, expression that says whether it is needed).
LOCALS_APIS_HEAD = """
  # APIs this environment needs. Enabling is idempotent; see apis.tf for why they stay on at destroy.
  apis = toset(concat(
    ["run.googleapis.com", "iam.googleapis.com", "secretmanager.googleapis.com", "artifactregistry.googleapis.com"],
"""

APIS = """\
resource "google_project_service" "apis" {
  for_each = local.apis
  project  = var.project
  service  = each.value

  # Destroying this environment must not switch off APIs that anything else in the project uses.
  disable_on_destroy = false
}
"""

NETWORK = """\
# The VPC that Cloud SQL's private IP lives on and that Cloud Run reaches it through.
resource "google_compute_network" "main" {
  project                 = var.project
  name                    = var.network.name
  auto_create_subnetworks = false

  depends_on = [google_project_service.apis]
}

resource "google_compute_subnetwork" "main" {
  project       = var.project
  name          = var.network.subnet_name
  region        = var.region
  network       = google_compute_network.main.id
  ip_cidr_range = var.network.subnet_cidr

  # Instances without external IPs (Cloud Run with Direct VPC egress) can still reach Google APIs.
  private_ip_google_access = true
}
"""

CONNECTOR = """
# Serverless VPC Access: how Cloud Run services reach the private IP when they don't use Direct VPC
# egress. Its /28 range must not overlap the subnet or the private services range.
resource "google_vpc_access_connector" "connector" {
  count = var.connector != null ? 1 : 0

  project       = var.project
  name          = var.connector.name
  region        = var.region
  network       = google_compute_network.main.name
  ip_cidr_range = var.connector.cidr
  machine_type  = "e2-micro"
  min_instances = 2
  max_instances = 3

  depends_on = [google_project_service.apis]
}
"""

_REPLICATION = """\
  replication {
    dynamic "auto" {
      for_each = length(var.secret_replication_locations) == 0 ? [1] : []
      content {}
    }
    dynamic "user_managed" {
      for_each = length(var.secret_replication_locations) > 0 ? [1] : []
      content {
        dynamic "replicas" {
          for_each = var.secret_replication_locations
          content {
            location = replicas.value
          }
        }
      }
    }
  }
"""

# Shared by Cloud SQL and Memorystore (terraform.py widens the count condition when caches exist).
PRIVATE_SERVICES_COUNT = "length(var.databases) > 0 ? 1 : 0"
PRIVATE_SERVICES = """\
# Private service access: Cloud SQL's and Memorystore's private IPs come from this range, in a
# Google-managed network peered with ours. Only created when the environment has a database or a cache.
resource "google_compute_global_address" "private_services" {
  count = length(var.databases) > 0 ? 1 : 0

  project       = var.project
  name          = "${var.name_prefix}-private-services"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = 16
  network       = google_compute_network.main.id
}

resource "google_service_networking_connection" "private_services" {
  count = length(var.databases) > 0 ? 1 : 0

  network                 = google_compute_network.main.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services[0].name]

  depends_on = [google_project_service.apis]
}
"""

DATABASES = (
    """\

resource "google_sql_database_instance" "db" {
  for_each = var.databases

  project          = var.project
  name             = each.value.instance_name
  region           = var.region
  database_version = local.database_versions[each.key]

  # Terraform refuses to destroy the instance while this is true (on by default in production).
  deletion_protection = each.value.deletion_protection

  settings {
    tier = each.value.tier
    # Shared-core tiers (db-f1-micro, db-g1-small, db-custom-*) exist only in the Enterprise edition,
    # which Postgres 16+ and MySQL 8.4 no longer pick by default.
    edition           = startswith(each.value.tier, "db-perf-optimized-") ? "ENTERPRISE_PLUS" : "ENTERPRISE"
    availability_type = upper(each.value.availability)
    disk_size         = each.value.disk_gb
    disk_autoresize   = each.value.disk_autoresize
    user_labels       = var.labels

    # The same protection on Google's side: the console and gcloud can't delete it either.
    deletion_protection_enabled = each.value.deletion_protection

    ip_configuration {
      # No public IP: the instance is reachable only from inside the VPC, which Cloud Run enters
      # through the connector or Direct VPC egress.
      ipv4_enabled    = false
      private_network = google_compute_network.main.id
      # Refuse unencrypted connections even inside the VPC; DATABASE_URL asks for TLS (sslmode=require,
      # MySQL ssl-mode=REQUIRED).
      ssl_mode = "ENCRYPTED_ONLY"
    }

    backup_configuration {
      enabled    = each.value.backups
      start_time = "03:00"
      # Each argument exists for one engine only (see local.point_in_time_recovery).
      point_in_time_recovery_enabled = each.value.engine == "postgres" && local.point_in_time_recovery[each.key]
      binary_log_enabled             = each.value.engine == "mysql" && local.point_in_time_recovery[each.key]
    }
  }

  lifecycle {
    # disk_gb is the size at creation. Cloud SQL grows the disk on its own (disk_autoresize), and the
    # provider replaces an instance whose configured disk is smaller than the real one: without this, the
    # first apply after an automatic resize would plan to destroy the database.
    ignore_changes = [settings[0].disk_size]
  }

  depends_on = [google_service_networking_connection.private_services]
}

resource "google_sql_database" "db" {
  for_each = var.databases

  project  = var.project
  name     = each.value.database
  instance = google_sql_database_instance.db[each.key].name
}

# Letters and digits only: the password goes into a URL, and not every driver undoes percent-encoding.
# 32 characters of [A-Za-z0-9] is about 190 bits. Ephemeral: generated during the run, given to the two
# write-only arguments below, and never written to the state or a plan file.
ephemeral "random_password" "db" {
  for_each = var.databases

  length  = 32
  special = false
}

resource "google_sql_user" "db" {
  for_each = var.databases

  project  = var.project
  name     = each.value.user
  instance = google_sql_database_instance.db[each.key].name
  # Write-only: sent when the user is created or password_version changes, never stored in state.
  password_wo         = ephemeral.random_password.db[each.key].result
  password_wo_version = each.value.password_version
  # A MySQL user is NAME@HOST: from any host, as the private IP is the only way in. Postgres has no host.
  host = each.value.engine == "mysql" ? "%" : null

  # Postgres can't drop a role that owns tables; the role goes away with the instance anyway.
  deletion_policy = "ABANDON"
}

# Cloud SQL for MySQL creates root@'%' without a password (Security Command Center: SQL_NO_ROOT_PASSWORD).
# Give it a random one that nobody keeps (ephemeral, write-only, as above): no one logs in as root.
ephemeral "random_password" "mysql_root" {
  for_each = local.mysql_databases

  length  = 32
  special = false
}

resource "google_sql_user" "mysql_root" {
  for_each = local.mysql_databases

  project             = var.project
  name                = "root"
  host                = "%"
  instance            = google_sql_database_instance.db[each.key].name
  password_wo         = ephemeral.random_password.mysql_root[each.key].result
  password_wo_version = each.value.password_version

  # The built-in account goes away with the instance; Terraform never deletes it on its own.
  deletion_policy = "ABANDON"
}

# DATABASE_URL on the private IP, so the application reads the same variable as it does locally.
resource "google_secret_manager_secret" "database_url" {
  for_each = var.databases

  project   = var.project
  secret_id = each.value.url_secret_id
  labels    = var.labels

"""
    + _REPLICATION
    + """
  depends_on = [google_project_service.apis]
}

resource "google_secret_manager_secret_version" "database_url" {
  for_each = var.databases

  secret = google_secret_manager_secret.database_url[each.key].id
  # Written in the same run as the user's password (same ephemeral value), never stored in state.
  secret_data_wo = format(
    local.database_url_formats[each.key],
    each.value.user, ephemeral.random_password.db[each.key].result,
    google_sql_database_instance.db[each.key].private_ip_address, each.value.database,
  )
  secret_data_wo_version = each.value.password_version
}
"""
)

SERVICE_ACCOUNTS = """\
# One runtime identity per Cloud Run service, so each gets only what it needs.
resource "google_service_account" "service" {
  for_each = local.created_accounts

  project      = var.project
  account_id   = each.value
  display_name = "${var.name_prefix} ${each.key}"
  description  = "Runtime identity of the Cloud Run service ${each.key} (deployed by shipit)."

  depends_on = [google_project_service.apis]
}

locals {
  service_account_emails = merge(
    { for name, svc in var.services : name => svc.service_account_email if svc.service_account_email != null },
    { for name, account in google_service_account.service : name => account.email },
  )
}
"""

SECRETS = (
    """\
# Secret containers only: shipit adds the versions from the env file on every deploy, so values
# never pass through Terraform or its state.
resource "google_secret_manager_secret" "secret" {
  for_each = var.secrets

  project   = var.project
  secret_id = each.value
  labels    = var.labels

"""
    + _REPLICATION
    + """
  depends_on = [google_project_service.apis]
}

# Per secret and per service: no project-wide secret access.
resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = local.secret_accessors

  project   = var.project
  secret_id = google_secret_manager_secret.secret[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${local.service_account_emails[each.value.service]}"
}
"""
)

DATABASE_IAM = """
resource "google_secret_manager_secret_iam_member" "database_url_accessor" {
  for_each = local.database_url_accessors

  project   = var.project
  secret_id = google_secret_manager_secret.database_url[each.value.database].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${local.service_account_emails[each.value.service]}"
}

# Cloud SQL has no per-instance IAM. The role lets a service connect through the Cloud SQL connectors
# or Auth Proxy; over the private IP the password in DATABASE_URL is what authenticates.
resource "google_project_iam_member" "cloudsql_client" {
  for_each = local.sql_clients

  project = var.project
  role    = "roles/cloudsql.client"
  member  = "serviceAccount:${local.service_account_emails[each.value]}"
}
"""

STORAGE_VOLUMES = """\
# A Cloud Storage volume's bucket (not created here: it holds the user's data) grants the service that
# mounts it object access on that bucket only, never project-wide.
resource "google_storage_bucket_iam_member" "volume" {
  for_each = local.bucket_members

  bucket = each.value.bucket
  role   = each.value.role
  member = "serviceAccount:${local.service_account_emails[each.value.service]}"
}
"""

REGISTRY = """\
locals {
  registry_host = "${var.repository.location}-docker.pkg.dev"
}

resource "google_artifact_registry_repository" "images" {
  project       = var.project
  location      = var.repository.location
  repository_id = var.repository.id
  format        = "DOCKER"
  description   = "Images of ${var.name_prefix}, tagged by content and pushed by shipit."
  labels        = var.labels

  depends_on = [google_project_service.apis]
}
"""

PUBSUB = """\
data "google_project" "this" {
  project_id = var.project
}

resource "google_pubsub_topic" "topic" {
  for_each = var.pubsub.topics

  project = var.project
  name    = each.key
  labels  = merge(var.labels, each.value.labels)

  depends_on = [google_project_service.apis]
}

# Push subscriptions sign their requests with an OIDC token of this account; Cloud Run checks it.
resource "google_service_account" "pubsub_push" {
  count = length(local.push_subscriptions) > 0 ? 1 : 0

  project      = var.project
  account_id   = var.pubsub.push_account_id
  display_name = "${var.name_prefix} Pub/Sub push"
  description  = "Identity of Pub/Sub push deliveries to Cloud Run."

  depends_on = [google_project_service.apis]
}

# Pub/Sub's service agent mints the OIDC tokens of the push account.
resource "google_service_account_iam_member" "pubsub_token_creator" {
  count = length(google_service_account.pubsub_push)

  service_account_id = google_service_account.pubsub_push[0].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

# The push account gets roles/run.invoker on each service it pushes to from `shipit deploy`, which creates
# those services after this module is applied. (A project-wide grant narrowed by an IAM condition on
# resource.name would not work: Cloud Run is not among the services IAM Conditions can name.)

locals {
  # Cloud Run's deterministic service URL, known before the service is deployed.
  run_urls = {
    for name in local.push_services :
    name => "https://${name}-${data.google_project.this.number}.${var.region}.run.app"
  }
}

resource "google_pubsub_subscription" "subscription" {
  for_each = var.pubsub.subscriptions

  project              = var.project
  name                 = each.key
  topic                = google_pubsub_topic.topic[each.value.topic].id
  ack_deadline_seconds = each.value.ack_deadline
  labels               = var.labels

  # Never expire: by default Pub/Sub deletes a subscription after 31 days without a subscriber
  # activity, and a quiet queue must not lose its subscription.
  expiration_policy {
    ttl = ""
  }

  dynamic "push_config" {
    for_each = each.value.push_service != null ? [each.value] : []
    content {
      push_endpoint = "${local.run_urls[push_config.value.push_service]}${push_config.value.push_path}"

      oidc_token {
        service_account_email = google_service_account.pubsub_push[0].email
        audience              = local.run_urls[push_config.value.push_service]
      }
    }
  }
}

# A worker (a Cloud Run worker pool) pulls from its subscription: it may consume that one, nothing else.
resource "google_pubsub_subscription_iam_member" "subscriber" {
  for_each = local.pull_subscriptions

  project      = var.project
  subscription = google_pubsub_subscription.subscription[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${local.service_account_emails[each.value.pull_service]}"
}
"""

VARIABLES_SCHEDULER = """
variable "scheduled_jobs" {
  description = "Cloud Run jobs that Cloud Scheduler runs on a cron schedule, each as its own account."
  type = map(object({
    schedule   = string
    time_zone  = string
    account_id = string
  }))
  default = {}
}
"""

SCHEDULER = """# One identity per scheduled job. `shipit deploy` creates the Cloud Run job after this module is applied
# and then grants this account roles/run.invoker on that job only (the job does not exist yet here).
resource "google_service_account" "scheduler" {
  for_each = var.scheduled_jobs

  project      = var.project
  account_id   = each.value.account_id
  display_name = "${var.name_prefix} schedule of ${each.key}"
  description  = "Identity Cloud Scheduler runs the Cloud Run job ${each.key} as."

  depends_on = [google_project_service.apis]
}

# Calls the Cloud Run Admin API's jobs.run with an OAuth token of the job's scheduler account.
resource "google_cloud_scheduler_job" "job" {
  for_each = var.scheduled_jobs

  project   = var.project
  region    = var.region
  name      = "${var.name_prefix}-${each.key}"
  schedule  = each.value.schedule
  time_zone = each.value.time_zone

  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/projects/${var.project}/locations/${var.region}/jobs/${each.key}:run"

    oauth_token {
      service_account_email = google_service_account.scheduler[each.key].email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [google_project_service.apis]
}
"""

OUTPUTS_SCHEDULER = """
output "scheduler_service_accounts" {
  description = "Scheduled Cloud Run job -> email of the account Cloud Scheduler runs it as."
  value       = { for name, account in google_service_account.scheduler : name => account.email }
}
"""

VARIABLES_BUILDS = """
variable "remote_builds" {
  description = "Cloud Build: the staging bucket (sources, logs) and the account builds run as; null: local builds."
  type = object({
    bucket      = string
    location    = string
    source_days = number
    # The account Terraform creates for builds, or null when build.cloudbuild.service_account names one.
    account_id            = optional(string)
    service_account_email = optional(string)
    # Keys of var.secrets passed to builds as BuildKit secrets: the build account reads exactly these.
    secrets = optional(list(string), [])
  })
  default = null
}
"""

BUILDS = """\
# Remote builds (build.engine: cloudbuild). Sources are content addressed and only needed while a build
# runs, so they are deleted after a few days; the bucket is private and uniformly IAM-controlled.
resource "google_storage_bucket" "builds" {
  count = var.remote_builds == null ? 0 : 1

  project                     = var.project
  name                        = var.remote_builds.bucket
  location                    = var.remote_builds.location
  labels                      = var.labels
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  lifecycle_rule {
    condition {
      age = var.remote_builds.source_days
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "build" {
  count = var.remote_builds != null && try(var.remote_builds.account_id, null) != null ? 1 : 0

  project      = var.project
  account_id   = var.remote_builds.account_id
  display_name = "${var.name_prefix} image builds"
  description  = "Identity Cloud Build runs shipit's image builds as: pushes images, reads sources, writes logs."

  depends_on = [google_project_service.apis]
}

locals {
  build_account = var.remote_builds == null ? null : coalesce(
    var.remote_builds.service_account_email, one(google_service_account.build[*].email)
  )
  build_grants = var.remote_builds == null ? {} : {
    # Sources are read, logs are written: object-level roles on this bucket only.
    source_reader = "roles/storage.objectViewer"
    log_creator   = "roles/storage.objectCreator"
  }
}

# Push to this repository only (and read its registry cache).
resource "google_artifact_registry_repository_iam_member" "build_writer" {
  count = var.remote_builds == null ? 0 : 1

  project    = var.project
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${local.build_account}"
}

resource "google_storage_bucket_iam_member" "build" {
  for_each = local.build_grants

  bucket = google_storage_bucket.builds[0].name
  role   = each.value
  member = "serviceAccount:${local.build_account}"
}

resource "google_project_iam_member" "build_log_writer" {
  count = var.remote_builds == null ? 0 : 1

  project = var.project
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${local.build_account}"
}

# Build secrets: the build account reads exactly the secrets the builds use.
resource "google_secret_manager_secret_iam_member" "build_secret_accessor" {
  for_each = toset(var.remote_builds == null ? [] : var.remote_builds.secrets)

  project   = var.project
  secret_id = google_secret_manager_secret.secret[each.value].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${local.build_account}"
}
"""

OUTPUTS_BASE = """\
output "service_accounts" {
  description = "Cloud Run service -> email of its runtime service account."
  value       = local.service_account_emails
}

output "repository_url" {
  description = "Where images are pushed: LOCATION-docker.pkg.dev/PROJECT/REPOSITORY."
  value       = "${local.registry_host}/${var.project}/${google_artifact_registry_repository.images.repository_id}"
}

output "secrets" {
  description = "Secret key -> Secret Manager secret id."
  value       = { for key, secret in google_secret_manager_secret.secret : key => secret.secret_id }
}
"""

OUTPUTS_NETWORK = """
output "network" {
  description = "The VPC and subnet, for Cloud Run Direct VPC egress."
  value = {
    network = google_compute_network.main.name
    subnet  = google_compute_subnetwork.main.name
  }
}
"""

OUTPUTS_CONNECTOR = """
output "vpc_connector" {
  description = "Id of the Serverless VPC Access connector (null with Direct VPC egress)."
  value       = one(google_vpc_access_connector.connector[*].id)
}
"""

OUTPUTS_DATABASES = """
output "databases" {
  description = "Per database: private IP, connection name, and the secret version that holds DATABASE_URL."
  value = {
    for name, db in google_sql_database_instance.db : name => {
      private_ip         = db.private_ip_address
      connection_name    = db.connection_name
      url_secret         = google_secret_manager_secret.database_url[name].secret_id
      url_secret_version = google_secret_manager_secret_version.database_url[name].name
    }
  }
}
"""

OUTPUTS_PUBSUB = """
output "pubsub_push_service_account" {
  description = "Email of the account push subscriptions authenticate as (null without push subscriptions)."
  value       = one(google_service_account.pubsub_push[*].email)
}
"""

GITIGNORE = """\
# Provider plugins and per-environment working state.
.terraform/
# Local state (infra.backend: local) holds resource ids and outputs (never a password): still, do not commit it.
*.tfstate
*.tfstate.*
*.tfplan
crash.log
"""
