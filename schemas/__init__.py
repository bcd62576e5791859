"""Pinned JSON-LD contexts, the official OB 3.0 JSON Schemas and the offline loader."""

from schemas.loader import Loader, OfflineLoader, offline_loader, pinned_contexts

__all__ = ["Loader", "OfflineLoader", "offline_loader", "pinned_contexts"]
