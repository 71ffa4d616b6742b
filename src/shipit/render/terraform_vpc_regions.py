"""The per-region ways into the VPC of a multi-region environment: a subnet and a connector per region.

The primary region keeps ``google_compute_subnetwork.main`` and ``google_vpc_access_connector.connector``
(unchanged, so nothing is replaced when an environment grows a region); every further region that a
service reaching the VPC runs in gets its own subnet and, for connector-mode services, its own connector,
on the same global network. Ranges: :func:`shipit.config.vpc_regions.regional_cidr`.

The outputs ``vpc_subnets`` and ``vpc_connectors`` map every region (the primary too) to its subnet name
and connector id; the services step picks the entry of the region it deploys to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shipit.config.vpc_regions import regional_cidr
from shipit.names import connector_name, fit, name_prefix

if TYPE_CHECKING:
    from shipit.config.models import Service
    from shipit.config.target import Target

    VpcMode = Callable[[Service], str | None]

VARIABLES = """
variable "regional_subnets" {
  description = "Region -> subnet for the regions after the primary that services reaching the VPC run in."
  type = map(object({
    name = string
    cidr = string
  }))
  default = {}
}
"""

VARIABLES_CONNECTORS = """
variable "regional_connectors" {
  description = "Region -> Serverless VPC Access connector for the regions after the primary."
  type = map(object({
    name = string
    cidr = string
  }))
  default = {}
}
"""

NETWORK = """
# The network is global and Cloud SQL's private IP is reachable from each of its regions; a Cloud Run
# service reaches it through a subnet (Direct VPC egress) or a connector in the service's own region.
resource "google_compute_subnetwork" "regional" {
  for_each = var.regional_subnets

  project       = var.project
  name          = each.value.name
  region        = each.key
  network       = google_compute_network.main.id
  ip_cidr_range = each.value.cidr

  private_ip_google_access = true
}
"""

CONNECTORS = """
resource "google_vpc_access_connector" "regional" {
  for_each = var.regional_connectors

  project       = var.project
  name          = each.value.name
  region        = each.key
  network       = google_compute_network.main.name
  ip_cidr_range = each.value.cidr
  machine_type  = "e2-micro"
  min_instances = 2
  max_instances = 3

  depends_on = [google_project_service.apis]
}
"""

OUTPUTS = """
output "vpc_subnets" {
  description = "Region -> the subnet for Direct VPC egress there."
  value = merge(
    { (var.region) = google_compute_subnetwork.main.name },
    { for region, subnet in google_compute_subnetwork.regional : region => subnet.name },
  )
}
"""

OUTPUTS_CONNECTORS = """
output "vpc_connectors" {
  description = "Region -> id of the Serverless VPC Access connector there."
  value = merge(
    { for c in google_vpc_access_connector.connector : var.region => c.id },
    { for region, c in google_vpc_access_connector.regional : region => c.id },
  )
}
"""


def _regions(target: Target, vpc_mode: VpcMode, modes: set[str]) -> list[str]:
    """The regions after the primary where a service whose VPC mode is in ``modes`` runs, in regions order."""
    wanted: set[str] = set()
    for name, svc in target.config.services.items():
        if vpc_mode(svc) in modes:
            wanted.update(target.service_regions(name))
    return [r for r in target.regions[1:] if r in wanted]


def needs_regions(target: Target, vpc_mode: VpcMode) -> bool:
    return bool(_regions(target, vpc_mode, {"connector", "direct"}))


def regional_inputs(target: Target, vpc_mode: VpcMode, connectors: bool) -> dict[str, Any]:
    """``regional_subnets`` (and ``regional_connectors``) of one environment's `module "app"`."""
    prefix = name_prefix(target)
    infra = target.config.infra
    index = {region: i for i, region in enumerate(target.regions)}
    inputs: dict[str, Any] = {
        "regional_subnets": {
            region: {"name": fit(f"{prefix}-{region}", 63), "cidr": regional_cidr(infra.subnet_cidr, index[region])}
            for region in _regions(target, vpc_mode, {"connector", "direct"})
        }
    }
    if connectors:
        # Connector names: at most 25 characters, so the region's position rather than its name.
        inputs["regional_connectors"] = {
            region: {
                "name": fit(f"{connector_name(target)}{index[region]}", 25),
                "cidr": regional_cidr(infra.connector_cidr, index[region]),
            }
            for region in _regions(target, vpc_mode, {"connector"})
        }
    return inputs
