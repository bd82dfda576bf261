"""media: the transcoding worker, a separate process following AudioUploaded."""
