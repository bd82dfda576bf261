"""api.routers: one router per resource."""
