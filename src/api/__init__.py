"""api: the FastAPI service. Nothing imports api."""
