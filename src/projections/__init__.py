"""projections: the read side — projector, read models, statements, exports."""
