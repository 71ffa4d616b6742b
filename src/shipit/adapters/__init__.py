"""The only modules that import python-on-whales, python-terraform or google-cloud-*. Their types stay here."""

from __future__ import annotations
