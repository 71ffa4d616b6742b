"""The global external Application Load Balancer of a multi-region environment (``domain:`` in shipit.yaml).

One global address and one Google-managed certificate for the domain; an HTTPS forwarding rule (443)
and an HTTP one (80) that only redirects to HTTPS; a URL map from ``routes`` to one backend service per
routed Cloud Run service, whose backends are serverless NEGs, one per region the service runs in.

Serverless NEGs take no health checks: the load balancer sends requests only to a region whose Cloud
Run service exists, and outlier detection (supported for EXTERNAL_MANAGED backend services) ejects a
region that keeps answering 5xx, so traffic fails over to the others. Cloud Armor is optional: an
existing policy by name, or a generated one (preconfigured WAF rules + a per-IP rate limit).

Pure: the Terraform text of ``load_balancer.tf`` and the ``load_balancer`` input of one environment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipit.config.multiregion import DEFAULT_RATE_LIMIT, DEFAULT_WAF_RULES
from shipit.names import fit, name_prefix

if TYPE_CHECKING:
    from shipit.config.target import Target

VARIABLES = (
    """
variable "load_balancer" {
  description = "The global HTTPS load balancer in front of Cloud Run services in several regions, or null."
  type = object({
    name   = string
    domain = string
    # Routed service -> its backend service name and, per region, its serverless NEG name.
    backends = map(object({
      name = string
      negs = map(string)
    }))
    # URL path -> service; "/*" is the default service.
    routes = map(string)
    armor = optional(object({
      # An existing security policy; null: the generated one (WAF rules + rate limit).
      policy     = optional(string)
      rate_limit = optional(number, """
    + str(DEFAULT_RATE_LIMIT)
    + """)
      waf_rules  = optional(list(string), [])
    }))
  })
  default = null
}
"""
)

# Pure expressions of var.load_balancer (tests evaluate them with terraform itself).
LB_LOCALS = """\
# The global external Application Load Balancer: one address and certificate, Cloud Run in every region.
locals {
  # NEG name -> the service and region it points at.
  lb_negs = merge([
    for service, backend in try(var.load_balancer.backends, {}) : {
      for region, neg in backend.negs : neg => { service = service, region = region }
    }
  ]...)
  lb_on              = var.load_balancer != null
  lb_armor           = try(var.load_balancer.armor, null)
  lb_generate_policy = local.lb_armor != null && try(local.lb_armor.policy, null) == null
}
"""

LB = (
    LB_LOCALS
    + """
locals {
  # one(): the generated policy's id, or null when there is none (both branches of ?: are evaluated).
  lb_generated_policy = one(google_compute_security_policy.lb[*].id)
  lb_security_policy  = local.lb_generate_policy ? local.lb_generated_policy : try(local.lb_armor.policy, null)
}

# Serverless NEGs take no health check; the load balancer only routes to a region whose service exists.
resource "google_compute_region_network_endpoint_group" "lb" {
  for_each              = local.lb_negs
  project               = var.project
  name                  = each.key
  region                = each.value.region
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = each.value.service
  }

  depends_on = [google_project_service.apis]
}

resource "google_compute_backend_service" "lb" {
  for_each              = try(var.load_balancer.backends, {})
  project               = var.project
  name                  = each.value.name
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"
  security_policy       = local.lb_security_policy

  dynamic "backend" {
    for_each = each.value.negs
    content {
      group = google_compute_region_network_endpoint_group.lb[backend.value].id
    }
  }

  # A region that keeps failing is ejected for a while and its traffic goes to the other regions.
  outlier_detection {
    consecutive_errors   = 5
    max_ejection_percent = 50

    interval {
      seconds = 10
    }

    base_ejection_time {
      seconds = 30
    }
  }

  log_config {
    enable      = true
    sample_rate = 1
  }
}

resource "google_compute_url_map" "lb" {
  count           = local.lb_on ? 1 : 0
  project         = var.project
  name            = var.load_balancer.name
  default_service = google_compute_backend_service.lb[var.load_balancer.routes["/*"]].id

  host_rule {
    hosts        = [var.load_balancer.domain]
    path_matcher = "routes"
  }

  path_matcher {
    name            = "routes"
    default_service = google_compute_backend_service.lb[var.load_balancer.routes["/*"]].id

    dynamic "path_rule" {
      for_each = { for path, service in var.load_balancer.routes : path => service if path != "/*" }
      content {
        paths   = [path_rule.key]
        service = google_compute_backend_service.lb[path_rule.value].id
      }
    }
  }
}

# Provisioning starts once the domain's DNS A record points at the address (output load_balancer).
resource "google_compute_managed_ssl_certificate" "lb" {
  count   = local.lb_on ? 1 : 0
  project = var.project
  name    = var.load_balancer.name

  managed {
    domains = [var.load_balancer.domain]
  }
}

resource "google_compute_global_address" "lb" {
  count   = local.lb_on ? 1 : 0
  project = var.project
  name    = var.load_balancer.name

  depends_on = [google_project_service.apis]
}

resource "google_compute_target_https_proxy" "lb" {
  count            = local.lb_on ? 1 : 0
  project          = var.project
  name             = var.load_balancer.name
  url_map          = google_compute_url_map.lb[0].id
  ssl_certificates = [google_compute_managed_ssl_certificate.lb[0].id]
}

resource "google_compute_global_forwarding_rule" "https" {
  count                 = local.lb_on ? 1 : 0
  project               = var.project
  name                  = "${var.load_balancer.name}-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_protocol           = "TCP"
  port_range            = "443"
  ip_address            = google_compute_global_address.lb[0].id
  target                = google_compute_target_https_proxy.lb[0].id
  labels                = var.labels
}

# Plain HTTP only redirects to HTTPS.
resource "google_compute_url_map" "redirect" {
  count   = local.lb_on ? 1 : 0
  project = var.project
  name    = "${var.load_balancer.name}-redirect"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "redirect" {
  count   = local.lb_on ? 1 : 0
  project = var.project
  name    = "${var.load_balancer.name}-redirect"
  url_map = google_compute_url_map.redirect[0].id
}

resource "google_compute_global_forwarding_rule" "http" {
  count                 = local.lb_on ? 1 : 0
  project               = var.project
  name                  = "${var.load_balancer.name}-http"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_protocol           = "TCP"
  port_range            = "80"
  ip_address            = google_compute_global_address.lb[0].id
  target                = google_compute_target_http_proxy.redirect[0].id
  labels                = var.labels
}

# cloud_armor: true (or armor without a policy): preconfigured WAF rules and a per-client rate limit.
resource "google_compute_security_policy" "lb" {
  count   = local.lb_generate_policy ? 1 : 0
  project = var.project
  name    = "${var.load_balancer.name}-armor"
  type    = "CLOUD_ARMOR"

  dynamic "rule" {
    for_each = local.lb_armor.waf_rules
    content {
      action      = "deny(403)"
      priority    = 1000 + rule.key
      description = "preconfigured WAF: ${rule.value}"

      match {
        expr {
          expression = "evaluatePreconfiguredWaf('${rule.value}', {'sensitivity': 1})"
        }
      }
    }
  }

  rule {
    action      = "throttle"
    priority    = 2000
    description = "rate limit per client IP"

    match {
      versioned_expr = "SRC_IPS_V1"

      config {
        src_ip_ranges = ["*"]
      }
    }

    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"

      rate_limit_threshold {
        count        = local.lb_armor.rate_limit
        interval_sec = 60
      }
    }
  }

  rule {
    action      = "allow"
    priority    = 2147483647
    description = "default rule"

    match {
      versioned_expr = "SRC_IPS_V1"

      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}
"""
)

OUTPUTS = """
output "load_balancer" {
  description = "The global address (point the domain's DNS A record at it) and the domain, or null."
  value = var.load_balancer == null ? null : {
    address = google_compute_global_address.lb[0].address
    domain  = var.load_balancer.domain
  }
}
"""


def routes(target: Target) -> dict[str, str]:
    """URL path -> service; without ``routes``, the environment's one HTTP service answers everything."""
    env = target.environment
    if env.routes:
        return dict(env.routes)
    http = [n for n, s in target.config.services.items() if s.kind == "service"]
    return {"/*": http[0]}


def load_balancer_input(target: Target) -> dict[str, Any] | None:
    """The ``load_balancer`` argument of `module "app"` for one environment (None without a domain)."""
    env = target.environment
    if not env.domain:
        return None
    prefix = name_prefix(target)
    paths = routes(target)
    backends = {
        service: {
            "name": fit(f"{prefix}-{service}", 63),
            "negs": {region: fit(f"{prefix}-{service}-{region}", 63) for region in target.service_regions(service)},
        }
        for service in sorted(set(paths.values()))
    }
    data: dict[str, Any] = {
        "name": fit(f"{prefix}-lb", 54),  # room for the -redirect suffix
        "domain": env.domain,
        "backends": backends,
        "routes": paths,
    }
    if env.armor is not None and env.armor.policy:
        data["armor"] = {"policy": env.armor.policy}
    elif env.armor is not None or env.cloud_armor:
        rate = env.armor.rate_limit if env.armor is not None else DEFAULT_RATE_LIMIT
        data["armor"] = {"rate_limit": rate, "waf_rules": list(DEFAULT_WAF_RULES)}
    return data
