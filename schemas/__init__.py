"""Pinned JSON-LD contexts, the official OB 3.0 JSON Schemas and the offline loader."""

from schemas.loader import Loader, OfflineLoader, offline_loader, pinned_contexts
from schemas.validate import Problem, validate

__all__ = ["Loader", "OfflineLoader", "Problem", "offline_loader", "pinned_contexts", "validate"]
