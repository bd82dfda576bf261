"""media: validates, measures and transcodes uploaded audio (the worker wires it to the log).

The public surface is below; `docs/media.md` describes the pipeline and its settings.
"""

from media.blobstore import Blob, BlobNotFound, BlobStore, FileTooLarge
from media.config import MediaConfig, Rung
from media.ffmpeg import FfmpegFailed, FfmpegTimeout
from media.fingerprint import Fingerprint, Match, compare, likely_duplicate
from media.loudness import Loudness
from media.pipeline import Failed, Transcoded, blob_store, process_upload
from media.renditions import Rendition
from media.validate import FailureCode

__all__ = [
    "Blob",
    "BlobNotFound",
    "BlobStore",
    "Failed",
    "FailureCode",
    "FfmpegFailed",
    "FfmpegTimeout",
    "FileTooLarge",
    "Fingerprint",
    "Loudness",
    "Match",
    "MediaConfig",
    "Rendition",
    "Rung",
    "Transcoded",
    "blob_store",
    "compare",
    "likely_duplicate",
    "process_upload",
]
