"""api.schemas: request and response models (ThingCreate / ThingPublic); money in micro-units."""
