"""The media blob store, re-exported: it lives in `ledger.store.blobs` so the API can store uploads too."""

from ledger.store.blobs import MIB, Blob, BlobNotFound, BlobStore, FileTooLarge, format_mib

__all__ = ["MIB", "Blob", "BlobNotFound", "BlobStore", "FileTooLarge", "format_mib"]
