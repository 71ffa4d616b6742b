"""`shipit init`: a compose Redis becomes a cache (`caches:`, Memorystore for Redis in the cloud).

A variable that holds a Redis URL of that compose service (``redis://redis:6379/0``) is the one shipit
injects: the service lists the cache and the cache's env_var is that variable's name. A service that only
depends on the Redis service gets it too. Mixed into the compose mapper, like initvars.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from shipit.initmodel import DetectedCache, DetectedService, Detection

# Official and common Redis images: redis, redis:7-alpine, bitnami/redis, library/redis, redis/redis-stack-server.
REDIS_IMAGES = re.compile(r"(^|/)(redis|redis-stack-server|redis-stack)(:|@|$)")
_REDIS_URL = re.compile(r"^rediss?://(?:[^@/]*@)?(?P<host>[A-Za-z0-9_.-]+)(?::\d+)?(?:/\d*)?$", re.I)


class CacheRules:
    """The state it shares with the compose mapper is declared here."""

    detection: Detection
    note: Callable[[str, str, str], None]
    names: dict[str, str]
    cache_keys: dict[str, str]  # compose host -> cache key

    def map_cache(self, name: str, image: str) -> None:
        key = self.names[name][:30].rstrip("-")
        self.detection.caches[key] = DetectedCache(key)
        self.cache_keys[name] = key
        self.note(
            "mapped",
            f"caches.{key}",
            f"{name} ({image}) -> Memorystore for Redis (BASIC, 1 GB; AUTH and TLS on); locally a redis:7 "
            "container or redis-server",
        )

    def cache_variable(self, out: DetectedService, key: str, value: str) -> bool:
        """True when ``key`` is the URL of a compose Redis: shipit injects it, so the value is dropped."""
        match = _REDIS_URL.match(value)
        cache = self.cache_keys.get(match.group("host")) if match else None
        if cache is None:
            return False
        detected = self.detection.caches[cache]
        users = [s for s in self.detection.services if cache in s.caches and s is not out]
        if detected.env_var != key and (users or cache in out.caches):
            self.note(
                "decide",
                f"services.{out.name}.env.{key}",
                f"the URL of cache {cache} is also given as {detected.env_var}: shipit sets one variable per cache",
            )
            return True
        detected.env_var = key
        if cache not in out.caches:
            out.caches.append(cache)
        self.note(
            "dropped",
            f"services.{out.name}.env.{key}",
            f"points at the compose Redis: shipit injects {key} for cache {cache} (rediss:// with AUTH in the "
            f"cloud, verified with the CA in {detected.ca_env_var}; redis:// locally)",
        )
        return True

    def cache_dependency(self, out: DetectedService, dep: str) -> None:
        """``depends_on`` a compose Redis without naming its URL: the service gets the cache all the same."""
        cache = self.cache_keys.get(dep)
        if cache is not None and cache not in out.caches:
            out.caches.append(cache)
            self.note(
                "mapped",
                f"services.{out.name}.caches",
                f"depends on {dep}: gets {self.detection.caches[cache].env_var}",
            )
